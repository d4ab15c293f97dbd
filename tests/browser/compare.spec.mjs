// Browser test of the Compare tab: headless Debian Chromium driven by playwright-core.
//
//   node tests/browser/compare.spec.mjs <url> <outdir>
//
// At 1366×768 (a laptop): a digit is uploaded on Restore and a stroke drawn; opening Compare
// carries them over (a message says so). The budget control (#compare-budget) starts at
// "Equal cost", Samples N at 4. A short comparison (MGPS 6 steps sets the budget) runs to
// "done in … s"; the verdict (#compare-verdict) states the budget and who is best or cannot be
// told apart and the steps it gave each sampler, which the x̂0 captions show; no table header
// breaks inside a word; each x̂0 tile's caption lies inside the visible gallery; the log axis
// of ‖y − A(x̂0)‖ reads increasing 1-2-5 values. Then "Equal steps": every sampler runs 6
// steps and the verdict says so. Screenshots go to <outdir>. Exits 0 on success, 1 otherwise.

import { mkdirSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { log, fail, text, waitFor, runMain } from './helpers.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const [url, outdir = join(here, '..', '_artifacts', 'browser-compare')] = process.argv.slice(2);
const digit = resolve(join(here, '..', '..', 'assets', 'examples', 'digit_3_1.png'));
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
if (!url) {
  console.error('usage: node compare.spec.mjs <url> <outdir>');
  process.exit(2);
}
mkdirSync(outdir, { recursive: true });

async function setNumber(page, selector, value) {
  const box = page.locator(`${selector} input[type=number]`);
  await box.fill(value);
  await box.press('Enter');
  await box.blur();
  if ((await box.inputValue()) !== value) fail(`could not set ${selector} to ${value}`);
}

async function failOnToast(page) {
  const bodies = await page.evaluate(() =>
    [...document.querySelectorAll('[data-testid="toast-body"]')].map((t) => t.textContent.replace(/\s+/g, ' ').trim()),
  );
  const error = bodies.find((b) => /error/i.test(b));
  if (error) fail(`the app reported an error: ${error}`);
}

// Draw two strokes across the middle of the Restore editor's canvas.
async function drawStroke(page) {
  const canvas = page.locator('#restore-editor canvas').last();
  await canvas.waitFor({ state: 'visible', timeout: 30_000 });
  const brush = page.locator('#restore-editor button[aria-label="Brush"]');
  if (await brush.count()) await brush.first().click();
  const box = await canvas.boundingBox();
  if (!box) fail('the editor canvas has no bounding box');
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  const half = Math.min(box.width, box.height) * 0.2;
  for (const dy of [-0.3, 0.2]) {
    await page.mouse.move(cx - half, cy + half * dy);
    await page.mouse.down();
    for (let i = 0; i <= 4; i++) await page.mouse.move(cx - half + (2 * half * i) / 4, cy + half * dy);
    await page.mouse.up();
  }
  await page.waitForTimeout(500);
}

// Run the comparison and wait for "done in" and the verdict; returns the x̂0 captions.
async function runCompare(page) {
  const before = await page.locator('#compare-status textarea').inputValue();
  await page.locator('#compare-run').click();
  const deadline = Date.now() + 480_000;
  let status = before;
  while (Date.now() < deadline) {
    status = await page.locator('#compare-status textarea').inputValue();
    if (/done in \d/.test(status) && status !== before) break;
    if (/^error/.test(status)) fail(`the comparison failed: ${status}`);
    await failOnToast(page);
    await page.waitForTimeout(250);
  }
  if (!/^Compare: done in \d+(\.\d)? s/.test(status)) fail(`no "done in" with a time: "${status}"`);
  await waitFor(
    page,
    () => /PSNR/.test(document.querySelector('#compare-verdict')?.textContent || ''),
    null,
    'the verdict',
    30_000,
  );
  await page.waitForTimeout(1000); // the table and gallery settle
  return page.evaluate(() =>
    [...document.querySelectorAll('#compare-live .caption-label, #compare-live figcaption')].map((c) =>
      c.textContent.replace(/\s+/g, ' ').trim(),
    ),
  );
}

// The table's header cells, and any word of theirs drawn on more than one line.
async function brokenHeaderWords(page) {
  return page.evaluate(() => {
    const broken = [];
    const heads = [...document.querySelectorAll('#compare-table thead th')];
    for (const th of heads) {
      const walker = document.createTreeWalker(th, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const re = /\S+/g;
        for (let m = re.exec(node.data); m; m = re.exec(node.data)) {
          const range = document.createRange();
          range.setStart(node, m.index);
          range.setEnd(node, m.index + m[0].length);
          const tops = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)));
          if (tops.size > 1) broken.push(m[0]);
        }
      }
    }
    return { count: heads.length, broken };
  });
}

// Captions of the x̂0 tiles that are not fully inside the gallery's visible box.
async function hiddenCaptions(page) {
  return page.evaluate(() => {
    const gallery = document.querySelector('#compare-live');
    const box = gallery.getBoundingClientRect();
    const captions = [...gallery.querySelectorAll('.caption-label, figcaption')];
    const out = [];
    for (const c of captions) {
      const r = c.getBoundingClientRect();
      let clipped = r.height === 0 || r.bottom > box.bottom + 1 || r.top < box.top - 1;
      for (let el = c.parentElement; el && el !== gallery.parentElement; el = el.parentElement) {
        const s = getComputedStyle(el);
        if (s.overflow !== 'visible' || s.overflowY !== 'visible') {
          const e = el.getBoundingClientRect();
          if (r.bottom > e.bottom + 1 || r.top < e.top - 1) clipped = true;
        }
      }
      if (clipped) out.push(c.textContent.trim());
    }
    return { count: captions.length, hidden: out };
  });
}

async function main() {
  const browser = await chromium.launch({
    executablePath,
    args: ['--headless', '--no-sandbox', '--disable-background-networking', '--no-first-run'],
  });
  const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
  const errors = [];
  page.on('pageerror', (err) => errors.push(String(err)));
  try {
    await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 60_000 });
    await page.waitForSelector('#restore-editor', { timeout: 60_000 });
    await page.locator('#restore-editor canvas').first().waitFor({ state: 'attached', timeout: 30_000 })
      .catch(() => log('no editor canvas before the upload'));
    await page.waitForTimeout(1500);

    // --- a digit and a stroke on Restore, carried over to Compare
    await page.locator('#restore-editor input[type=file]').first().setInputFiles(digit);
    await waitFor(
      page,
      () => /accepted/.test(document.querySelector('#restore-editor-note')?.textContent || ''),
      null,
      'the digit accepted on Restore',
      30_000,
    );
    await page.waitForTimeout(1500);
    await drawStroke(page);
    await page.getByRole('tab', { name: 'Compare' }).click();
    await waitFor(
      page,
      () => [...document.querySelectorAll('[data-testid="toast-body"]')].some((t) => /carried over/.test(t.textContent)),
      null,
      'the message that the Restore image was carried over',
      30_000,
    );
    await page.waitForTimeout(1500);
    log('the Restore image was carried over to Compare');

    // --- the budget control: three choices, equal cost first; 4 samples
    const budget = await page.evaluate(() =>
      [...document.querySelectorAll('#compare-budget input[type=radio]')].map((i) => [i.value, i.checked]),
    );
    log('budget choices:', JSON.stringify(budget));
    if (budget.length !== 3 || budget[0][0] !== 'cost' || !budget[0][1]) {
      fail(`the budget control should offer 3 choices with "cost" chosen: ${JSON.stringify(budget)}`);
    }
    const samples = await page.locator('#compare-num-samples input[type=number]').inputValue();
    if (Number(samples) < 4) fail(`Compare should draw at least 4 samples by default, not ${samples}`);
    await page.screenshot({ path: join(outdir, '00-compare-1366x768.png') });

    // --- equal cost: MGPS at 6 steps sets the budget
    await setNumber(page, '#compare-steps', '6');
    const captions0 = await runCompare(page);
    log('x̂0 captions:', captions0.join(' | '));
    const verdict = await text(page, '#compare-verdict');
    log('verdict:', verdict);
    // "Equal cost: 125 forward calls each (…); steps: MGPS 6, DPS 68, DAPS 25."
    const planned = Object.fromEntries(
      [...(verdict.match(/steps: ([^.]*)\./)?.[1] || '').matchAll(/([A-Za-z+-]+) (\d+)/g)].map((m) => [m[1], m[2]]),
    );
    if (Object.keys(planned).length < 3 || planned.MGPS !== '6') fail(`the verdict does not list the steps: ${verdict}`);
    for (const [name, k] of Object.entries(planned)) {
      if (!captions0.some((c) => c.startsWith(`${name} · step ${k}/${k}`))) {
        fail(`${name} did not run the ${k} steps the budget gave it: ${captions0.join(' | ')}`);
      }
    }
    if (new Set(Object.values(planned)).size < 2) fail(`equal cost gave every sampler the same steps: ${verdict}`);
    if (!/Equal cost: [\d,]+ forward calls each/.test(verdict)) fail(`the verdict does not state the budget: ${verdict}`);
    if (!/is best|cannot be told apart/.test(verdict)) fail(`the verdict names no result: ${verdict}`);
    if (!/95 %/.test(verdict)) fail('the verdict does not say how it was decided');

    const headers = await brokenHeaderWords(page);
    log(`${headers.count} table headers; words broken across lines: ${JSON.stringify(headers.broken)}`);
    if (headers.count < 10 || headers.broken.length) fail(`table headers broken mid-word: ${headers.broken}`);
    const captions = await hiddenCaptions(page);
    log(`${captions.count} x̂0 captions; hidden: ${JSON.stringify(captions.hidden)}`);
    if (captions.count < 3 || captions.hidden.length) fail(`x̂0 captions not in view: ${JSON.stringify(captions)}`);
    const ticks = await page.evaluate(() =>
      [...document.querySelectorAll('#compare-plot .ytick text')].map((t) => t.textContent.trim()),
    );
    log('y-axis labels:', ticks.join(', '));
    const values = ticks.map((t) => Number(t.replace(/,/g, '')));
    const ok125 = values.every((v) => [1, 2, 5].includes(Math.round(v / 10 ** Math.floor(Math.log10(v) + 1e-9))));
    if (values.length < 2 || values.some((v, i) => i && v <= values[i - 1]) || !ok125) {
      fail(`the log axis does not read increasing 1-2-5 values: ${ticks.join(', ')}`);
    }
    await page.locator('#compare-live').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(outdir, '01-compare-equal-cost.png') });
    await page.locator('#compare-table').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(outdir, '02-compare-table.png') });
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(outdir, '03-compare-full.png'), fullPage: true });

    // --- equal steps: every sampler runs the 6 steps
    await page.locator('#compare-budget label').filter({ hasText: 'Equal steps' }).click();
    const same = await runCompare(page);
    log('equal steps:', same.join(' | '));
    if (same.length < 3 || same.some((c) => !/ · step 6\/6/.test(c))) {
      fail(`equal steps should give 6/6 to every sampler: ${same.join(' | ')}`);
    }
    const verdict2 = await text(page, '#compare-verdict');
    if (!/^Equal steps: steps/.test(verdict2)) fail(`the verdict does not state equal steps: ${verdict2}`);
    await page.screenshot({ path: join(outdir, '04-compare-equal-steps.png'), fullPage: true });
    if (errors.length) fail(`errors in the page: ${errors.join(' | ')}`);
    log('ok');
  } catch (err) {
    await page.screenshot({ path: join(outdir, 'failure.png'), fullPage: true }).catch(() => {});
    if (errors.length) log(`page errors: ${errors.join(' | ')}`);
    throw err;
  } finally {
    await browser.close();
  }
}

runMain(main);
