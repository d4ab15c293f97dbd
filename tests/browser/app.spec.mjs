// Browser test of the mgps Gradio app: headless Debian Chromium driven by playwright-core.
//
//   node tests/browser/app.spec.mjs <url> <outdir> [digit.png]
//
// Opens the page, uploads a digit, draws a stroke on the mask, presses Run, checks that the
// streamed x̂0 image changes while sampling and that the final restoration and metrics appear,
// then opens the midpoint trade-off tab and moves the η slider. Screenshots go to <outdir>.
// Exits 0 on success, 1 with a message otherwise. Started by tests/test_app_browser.py.

import { mkdirSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const [url, outdir = join(here, '..', '_artifacts'), digitArg] = process.argv.slice(2);
const digit = resolve(digitArg ?? join(here, '..', '..', 'assets', 'examples', 'digit_3_1.png'));
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
if (!url) {
  console.error('usage: node app.spec.mjs <url> <outdir> [digit.png]');
  process.exit(2);
}
mkdirSync(outdir, { recursive: true });

const log = (...args) => console.log(`[${(performance.now() / 1000).toFixed(1)} s]`, ...args);

function fail(message) {
  throw new Error(message);
}

// The src of the <img> inside an output image component ('' when empty).
async function imageSrc(page, id) {
  return page.evaluate((sel) => {
    const img = document.querySelector(`${sel} img`);
    return img ? img.getAttribute('src') || '' : '';
  }, `#${id}`);
}

// Type a value into the number box of a slider (and leave the box, which commits it).
async function setNumber(page, selector, value) {
  const box = page.locator(`${selector} input[type=number]`);
  await box.fill(value);
  await box.press('Enter');
  await box.blur();
  if ((await box.inputValue()) !== value) fail(`could not set ${selector} to ${value}`);
}

// Fail at once when the app shows an error toast (gr.Error), with its text.
async function failOnToast(page) {
  const toast = page.locator('[data-testid="toast-body"]');
  if (await toast.count()) {
    const text = (await toast.first().textContent()) || '';
    if (/error/i.test(text)) fail(`the app reported an error: ${text.replace(/\s+/g, ' ').trim()}`);
  }
}

// Wait until the three trade-off plots are drawn by plotly and no job is pending.
async function waitForPlots(page) {
  await page.waitForFunction(
    () =>
      ['tradeoff-scatter', 'tradeoff-curve', 'tradeoff-animation'].every((id) =>
        document.querySelector(`#${id} .js-plotly-plot .main-svg`),
      ) && !/processing|pending/i.test(document.querySelector('#tradeoff-scatter')?.textContent || ''),
    null,
    { timeout: 120_000 },
  );
  await page.waitForTimeout(1000);
}

async function main() {
  const browser = await chromium.launch({
    executablePath,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 1600 } });
  const errors = [];
  page.on('pageerror', (err) => {
    errors.push(String(err));
    log(`page error: ${err}`);
  });
  try {
    // --- open the page (waiting for 'networkidle' never ends: the queue keeps a stream open)
    await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 60_000 });
    await page.waitForSelector('.mgps-editor', { timeout: 60_000 });
    // the editor builds its canvas after it appears; an upload before that makes Gradio's
    // editor throw (reset_layers / dimensions of undefined) and lose the image's layout
    await page.locator('.mgps-editor canvas').first().waitFor({ state: 'attached', timeout: 30_000 })
      .catch(() => log('no editor canvas before the upload'));
    await page.waitForTimeout(1500);
    log('page loaded');

    // --- upload a digit into the image editor
    await page.locator('.mgps-editor input[type=file]').first().setInputFiles(digit);
    const canvas = page.locator('.mgps-editor canvas').last();
    await canvas.waitFor({ state: 'visible', timeout: 30_000 });
    await page.waitForTimeout(1500); // the editor fits the image to the view
    log('digit uploaded');

    // --- draw a stroke across the middle of the image (the brush is the active tool)
    const brush = page.locator('.mgps-editor button[aria-label="Brush"]');
    if (await brush.count()) await brush.first().click();
    const box = await canvas.boundingBox();
    if (!box) fail('the editor canvas has no bounding box');
    const cx = box.x + box.width / 2;
    const cy = box.y + box.height / 2;
    const half = Math.min(box.width, box.height) * 0.2;
    await page.mouse.move(cx - half, cy - half * 0.3);
    await page.mouse.down();
    for (let i = 0; i <= 2; i++) {
      await page.mouse.move(cx - half + (2 * half * i) / 2, cy - half * 0.3 + (0.6 * half * i) / 2);
    }
    await page.mouse.up();
    await page.mouse.move(cx - half, cy + half * 0.2);
    await page.mouse.down();
    for (let i = 0; i <= 2; i++) {
      await page.mouse.move(cx - half + (2 * half * i) / 2, cy + half * 0.2);
    }
    await page.mouse.up();
    await page.waitForTimeout(500);
    await page.locator('.mgps-editor').screenshot({ path: join(outdir, '01-mask-drawn.png') });
    log('stroke drawn');

    // --- fewer steps and samples than the defaults, as a user in a hurry would set them
    await setNumber(page, '#restore-mgps-num_steps', '25');
    await setNumber(page, '#restore-num-samples', '2');

    // --- Run, and watch the streamed estimate change
    await page.locator('#restore-run').click();
    const seen = new Set();
    const deadline = Date.now() + 120_000;
    let midStream = false;
    while (Date.now() < deadline) {
      const src = await imageSrc(page, 'restore-x0');
      if (src) seen.add(src);
      if (seen.size >= 2 && !midStream) {
        midStream = true;
        await page.screenshot({ path: join(outdir, '02-streaming.png'), fullPage: true });
        log(`streaming: ${seen.size} different x̂0 frames so far`);
      }
      if (await imageSrc(page, 'restore-result')) break;
      await failOnToast(page);
      await page.waitForTimeout(100);
    }
    if (!(await imageSrc(page, 'restore-result'))) fail('no final restoration within 120 s');
    await page.waitForFunction(
      () => (document.querySelector('#restore-metrics')?.textContent || '').includes('PSNR'),
      null,
      { timeout: 30_000 },
    );
    log(`finished: ${seen.size} different x̂0 frames were streamed`);
    if (seen.size < 2) fail(`the streamed image did not change (${seen.size} frame seen)`);
    if (!midStream) fail('no screenshot was taken while streaming');
    await page.waitForTimeout(500);
    await page.screenshot({ path: join(outdir, '03-final.png'), fullPage: true });
    const metrics = await page.locator('#restore-metrics').textContent();
    log('metrics:', metrics.replace(/\s+/g, ' ').slice(0, 160));
    if (!metrics.includes('2 sample(s)')) fail('the run did not use the 2 samples set in the UI');
    const status = await page.locator('#restore-status textarea').inputValue();
    if (!status.includes('done')) fail(`unexpected final status: ${status}`);

    // --- the trade-off tab: first view, then move η
    await page.getByRole('tab', { name: 'Midpoint trade-off' }).click();
    await page.waitForFunction(
      () => (document.querySelector('#tradeoff-summary')?.textContent || '').includes('Wasserstein'),
      null,
      { timeout: 120_000 },
    );
    await waitForPlots(page);
    const before = await page.locator('#tradeoff-summary').textContent();
    log('trade-off tab:', before.trim().slice(0, 120));
    await page.screenshot({ path: join(outdir, '04-tradeoff.png'), fullPage: true });

    // move the η slider: drag its range input towards the left end (η small)
    const slider = page.locator('#tradeoff-eta input[type=range]');
    const sbox = await slider.boundingBox();
    if (!sbox) fail('the η slider has no bounding box');
    await page.mouse.move(sbox.x + sbox.width * 0.5, sbox.y + sbox.height / 2);
    await page.mouse.down();
    await page.mouse.move(sbox.x + sbox.width * 0.3, sbox.y + sbox.height / 2, { steps: 5 });
    await page.mouse.move(sbox.x + sbox.width * 0.1, sbox.y + sbox.height / 2, { steps: 5 });
    await page.mouse.up();
    const eta = await slider.inputValue();
    log('η moved to', eta);
    if (Number(eta) >= 0.5) fail(`the η slider did not move (value ${eta})`);
    const wanted = `η = ${Number(eta).toFixed(2)}`;
    await page.waitForFunction(
      (want) => (document.querySelector('#tradeoff-summary')?.textContent || '').includes(want),
      wanted,
      { timeout: 120_000 },
    );
    await waitForPlots(page);
    const after = await page.locator('#tradeoff-summary').textContent();
    log('after moving η:', after.trim().slice(0, 120));
    if (after === before) fail('the trade-off view did not change after moving η');
    await page.screenshot({ path: join(outdir, '05-tradeoff-eta.png'), fullPage: true });
    if (errors.length) fail(`errors in the page: ${errors.join(' | ')}`);
    log('ok');
  } catch (err) {
    await page.screenshot({ path: join(outdir, 'failure.png'), fullPage: true }).catch(() => {});
    throw err;
  } finally {
    await browser.close();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(`browser test failed: ${err.message}`);
    process.exit(1);
  },
);
