// Browser test of the Midpoint trade-off tab: headless Debian Chromium driven by playwright-core.
//
//   node tests/browser/tradeoff.spec.mjs <url> <outdir>
//
// Visitor A (1366×768, a laptop): the tab's first run draws the scatter with its observation
// line in view without scrolling, the animation starts at "the start" (x_T) and ends at "the
// end" (the samples), the decomposition chart shows its four curves and words, and two moves
// of η add A's runs to the SW chart. Visitor B (a second browser context, its own session)
// sees the same sweep with only its own run. A phone (390×844): on Restore, Run is within a
// screen of the canvas. Screenshots go to <outdir>. Exits 0 on success, 1 with a message.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { log, fail, text, runMain } from './helpers.mjs';

const [url, outdir] = process.argv.slice(2);
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
if (!url || !outdir) {
  console.error('usage: node tradeoff.spec.mjs <url> <outdir>');
  process.exit(2);
}
mkdirSync(outdir, { recursive: true });

async function waitFor(page, predicate, arg, what, timeout = 180_000) {
  try {
    await page.waitForFunction(predicate, arg, { timeout });
  } catch (err) {
    fail(`timed out waiting for ${what}`);
  }
}

// The η of the visitor's runs drawn on the SW chart.
async function yourRuns(page) {
  return page.evaluate(() => {
    const gd = document.querySelector('#tradeoff-sw .js-plotly-plot');
    const trace = gd && gd.data && gd.data.find((t) => /^your runs/.test(t.name));
    return trace ? Array.from(trace.x) : null;
  });
}

async function animationTitle(page) {
  return text(page, '#tradeoff-animation .gtitle');
}

// Open the app and its trade-off tab, and wait for the first run and every chart.
async function openTab(page) {
  await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 60_000 });
  await page.getByRole('tab', { name: 'Midpoint trade-off' }).click();
  await waitFor(
    page,
    () =>
      (document.querySelector('#tradeoff-summary')?.textContent || '').includes('Wasserstein') &&
      ['tradeoff-scatter', 'tradeoff-animation', 'tradeoff-sw', 'tradeoff-decomposition'].every(
        (id) => document.querySelector(`#${id} .js-plotly-plot .main-svg`),
      ),
    null,
    'the first trade-off run and its charts',
  );
  await page.waitForTimeout(800);
}

async function moveEta(page, where) {
  const slider = page.locator('#tradeoff-eta input[type=range]');
  const box = await slider.boundingBox();
  await page.mouse.click(box.x + box.width * where, box.y + box.height / 2);
  const eta = Number(await slider.inputValue());
  await waitFor(
    page,
    (want) => (document.querySelector('#tradeoff-summary')?.textContent || '').includes(want),
    `η = ${eta.toFixed(2)}`,
    `the run at η = ${eta}`,
  );
  await waitFor(
    page,
    (want) => {
      const gd = document.querySelector('#tradeoff-sw .js-plotly-plot');
      const trace = gd && gd.data && gd.data.find((t) => /^your runs/.test(t.name));
      return trace && Array.from(trace.x).some((x) => Math.abs(x - want) < 1e-6);
    },
    eta,
    `η = ${eta} on the SW chart`,
    30_000,
  );
  return eta;
}

async function main() {
  const browser = await chromium.launch({
    executablePath,
    args: ['--headless', '--no-sandbox', '--disable-background-networking', '--no-first-run'],
  });
  const errors = [];
  const newPage = async (viewport) => {
    const context = await browser.newContext({ viewport });
    const page = await context.newPage();
    page.on('pageerror', (err) => errors.push(String(err)));
    return page;
  };
  let page;
  try {
    // --- visitor A on a laptop
    page = await newPage({ width: 1366, height: 768 });
    await openTab(page);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(outdir, 'a-1366x768.png') });
    const scatter = await page.locator('#tradeoff-scatter').boundingBox();
    log('scatter box at 1366×768:', JSON.stringify(scatter));
    if (!scatter || scatter.y + scatter.height > 768) fail(`the scatter is cut at 1366×768: ${JSON.stringify(scatter)}`);
    const line = await page.evaluate(() => {
      const gd = document.querySelector('#tradeoff-scatter .js-plotly-plot');
      const paths = [...gd.querySelectorAll('.scatterlayer .trace')].filter((t) =>
        t.querySelector('.js-line'),
      );
      const r = paths[0]?.querySelector('.js-line')?.getBoundingClientRect();
      return r ? { top: r.top, bottom: r.bottom, height: r.height } : null;
    });
    log('observation line box:', JSON.stringify(line));
    if (!line || line.height < 20 || line.bottom > 768) fail(`the observation line is not in view: ${JSON.stringify(line)}`);
    const start = await animationTitle(page);
    if (!/the start/.test(start) || !/pure noise/.test(start)) fail(`the first frame says: ${start}`);
    const frame = page.locator('#tradeoff-frame input[type=number]');
    const last = await page.locator('#tradeoff-frame input[type=range]').getAttribute('max');
    await frame.fill(last);
    await frame.press('Enter');
    await waitFor(
      page,
      () => /the end, t = 0/.test(document.querySelector('#tradeoff-animation .gtitle')?.textContent || ''),
      null,
      'the last frame',
      30_000,
    );
    log('first and last frames:', start, '|', await animationTitle(page));
    const decomposition = await page.evaluate(() => {
      const gd = document.querySelector('#tradeoff-decomposition .js-plotly-plot');
      return gd && gd.data ? gd.data.map((t) => t.name) : [];
    });
    log('decomposition curves:', decomposition.join(' | '));
    if (decomposition.length !== 4 || !decomposition.some((n) => /likelihood/.test(n)) || !decomposition.some((n) => /transition/.test(n))) {
      fail(`the decomposition chart: ${decomposition}`);
    }
    const why = await text(page, '#tradeoff-decomposition-words');
    if (!/cross at η ≈/.test(why) || !/a U/.test(why)) fail(`the decomposition's words: ${why}`);
    const words = await text(page, '#tradeoff-sw-words');
    log('SW words:', words.slice(0, 300));
    if (!/lowest mean SW is at η = /.test(words)) fail(`the SW words: ${words}`);
    const moved = [await moveEta(page, 0.15), await moveEta(page, 0.85)];
    const a = await yourRuns(page);
    log('A ran η =', JSON.stringify(moved), '; A sees its runs at', JSON.stringify(a));
    if (!a || a.length !== 3) fail(`visitor A should see its 3 runs: ${JSON.stringify(a)}`);
    await page.locator('#tradeoff-sw').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(outdir, 'a-after-moves.png'), fullPage: true });

    // --- visitor B: a second browser context (its own session)
    const other = await newPage({ width: 1366, height: 768 });
    await openTab(other);
    const b = await yourRuns(other);
    log('B sees runs at', JSON.stringify(b));
    if (!b || b.length !== 1 || moved.some((e) => b.includes(e))) fail(`visitor B sees ${JSON.stringify(b)}`);
    await other.screenshot({ path: join(outdir, 'b-own-session.png'), fullPage: true });
    const again = await yourRuns(page);
    if (JSON.stringify(again) !== JSON.stringify(a)) fail(`A's runs changed when B came: ${JSON.stringify(again)}`);

    // --- a phone: Run near the canvas on Restore
    const phone = await newPage({ width: 390, height: 844 });
    await phone.goto(url, { waitUntil: 'domcontentloaded', timeout: 60_000 });
    await phone.waitForSelector('#restore-editor', { timeout: 60_000 });
    await phone.waitForTimeout(1500);
    const editor = await phone.locator('#restore-editor').boundingBox();
    const run = await phone.locator('#restore-run').boundingBox();
    log('phone: editor', JSON.stringify(editor), 'Run', JSON.stringify(run));
    await phone.screenshot({ path: join(outdir, 'phone-390x844.png'), fullPage: true });
    const gap = run.y - (editor.y + editor.height);
    if (gap > 844) fail(`on a phone Run is ${Math.round(gap)} px below the canvas (more than a screen)`);
    if (errors.length) fail(`errors in the page: ${errors.join(' | ')}`);
    log('ok');
  } catch (err) {
    if (page) await page.screenshot({ path: join(outdir, 'failure.png'), fullPage: true }).catch(() => {});
    if (errors.length) log(`page errors: ${errors.join(' | ')}`);
    throw err;
  } finally {
    await browser.close();
  }
}

runMain(main);
