// What the browser specs share: a timed log line, failing with a message, waiting for a
// condition in the page, reading text, setting a slider's number box, running a spec's main.

export const log = (...args) => console.log(`[${(performance.now() / 1000).toFixed(1)} s]`, ...args);

export function fail(message) {
  throw new Error(message);
}

export async function waitFor(page, predicate, arg, what, timeout = 120_000) {
  try {
    await page.waitForFunction(predicate, arg, { timeout });
  } catch (err) {
    fail(`timed out waiting for ${what}`);
  }
}

export async function text(page, selector) {
  return ((await page.locator(selector).first().textContent()) || '').replace(/\s+/g, ' ').trim();
}

// Type a value into the number box of a slider (and leave the box, which commits it).
export async function setNumber(page, selector, value) {
  const box = page.locator(`${selector} input[type=number]`);
  await box.fill(value);
  await box.press('Enter');
  await box.blur();
  if ((await box.inputValue()) !== value) fail(`could not set ${selector} to ${value}`);
}

// Run a spec's async main: exit 0 when it succeeds, 1 with its message when it fails.
export function runMain(main) {
  main().then(
    () => process.exit(0),
    (err) => {
      console.error(`browser test failed: ${err.message}`);
      process.exit(1);
    },
  );
}
