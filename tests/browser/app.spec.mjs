// Browser test of the mgps Gradio app: headless Debian Chromium driven by playwright-core.
//
//   node tests/browser/app.spec.mjs <url> <outdir> <inputs>
//
// <inputs> holds the files a user might wrongly upload (notes.txt, fake.png: text named .png,
// big.png: 24 megapixels, huge.png: 26 MB), written by tests/test_app_browser.py.
//
// At 1366×768 (a laptop): Run and the status are in view without scrolling. Each wrong file
// gets a message naming it before any Run. A digit is uploaded, a stroke drawn, MGPS run: the
// streamed x̂0 changes, the restoration and metrics appear, the status says "done in"; a long
// run is stopped and the status says where. On the trade-off tab η is moved six times (no new
// WebGL context is created), the animation's slider moves the points drawn, and Play streams
// the snapshots. Back on Restore a new stroke is drawn and run: a restoration, and no page
// error. Screenshots go to <outdir>. Exits 0 on success, 1 with a message otherwise.

import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { log, fail, text, waitFor, setNumber, runMain } from './helpers.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const [url, outdir = join(here, '..', '_artifacts'), inputs] = process.argv.slice(2);
const digit = resolve(join(here, '..', '..', 'assets', 'examples', 'digit_3_1.png'));
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
if (!url || !inputs) {
  console.error('usage: node app.spec.mjs <url> <outdir> <inputs>');
  process.exit(2);
}
mkdirSync(outdir, { recursive: true });

// The src of the <img> inside an output image component ('' when empty).
async function imageSrc(page, id) {
  return page.evaluate((sel) => {
    const img = document.querySelector(`${sel} img`);
    return img ? img.getAttribute('src') || '' : '';
  }, `#${id}`);
}

async function statusOf(page, tab) {
  return page.locator(`#${tab}-status textarea`).inputValue();
}

// Fail at once when the app shows an error toast (gr.Error), with its text.
async function failOnToast(page) {
  const toast = page.locator('[data-testid="toast-body"]');
  if (await toast.count()) {
    const body = (await toast.first().textContent()) || '';
    if (/error/i.test(body)) fail(`the app reported an error: ${body.replace(/\s+/g, ' ').trim()}`);
  }
}

// Give a file to the Restore editor as a user would (its file input) and return the message
// shown under the editor.
async function upload(page, file) {
  await page.evaluate(() => {
    const note = document.querySelector('#restore-editor-note');
    if (note) note.dataset.before = note.textContent;
  });
  await page.locator('#restore-editor input[type=file]').first().setInputFiles(file);
  await waitFor(
    page,
    () => {
      const t = document.querySelector('#restore-editor-note')?.textContent || '';
      return /Not uploaded|accepted/.test(t) && !t.includes('checking');
    },
    null,
    `a message about ${file}`,
    30_000,
  );
  return text(page, '#restore-editor-note');
}

// Drop a file on the Restore editor, as a user dragging it from their files would; return the
// message shown under the editor.
async function drop(page, file, name) {
  const bytes = readFileSync(file).toString('base64');
  await page.evaluate(
    ({ bytes, name }) => {
      const data = Uint8Array.from(atob(bytes), (c) => c.charCodeAt(0));
      const transfer = new DataTransfer();
      transfer.items.add(new File([data], name, { type: 'text/plain' }));
      const target = document.querySelector('#restore-editor canvas') || document.querySelector('#restore-editor');
      for (const type of ['dragenter', 'dragover', 'drop']) {
        target.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: transfer }));
      }
    },
    { bytes, name },
  );
  await waitFor(
    page,
    (n) => (document.querySelector('#restore-editor-note')?.textContent || '').includes(n),
    name,
    `a message about the dropped ${name}`,
    30_000,
  );
  return text(page, '#restore-editor-note');
}

async function closeToasts(page) {
  const close = page.locator('[data-testid="toast-close"]');
  for (let i = (await close.count()) - 1; i >= 0; i--) await close.nth(i).click().catch(() => {});
  await page.waitForTimeout(300);
}

// Draw two strokes across the middle of the editor's canvas (the brush is the active tool).
async function drawStroke(page, shift = 0) {
  const canvas = page.locator('#restore-editor canvas').last();
  await canvas.waitFor({ state: 'visible', timeout: 30_000 });
  const brush = page.locator('#restore-editor button[aria-label="Brush"]');
  if (await brush.count()) await brush.first().click();
  const box = await canvas.boundingBox();
  if (!box) fail('the editor canvas has no bounding box');
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2 + shift;
  const half = Math.min(box.width, box.height) * 0.2;
  for (const dy of [-0.3, 0.2]) {
    await page.mouse.move(cx - half, cy + half * dy);
    await page.mouse.down();
    for (let i = 0; i <= 4; i++) await page.mouse.move(cx - half + (2 * half * i) / 4, cy + half * dy);
    await page.mouse.up();
  }
  await page.waitForTimeout(500);
}

// Run MGPS on the Restore tab and wait for the restoration; returns the x̂0 frames seen.
async function runRestore(page, shots) {
  const before = await imageSrc(page, 'restore-x0');
  const statusBefore = await statusOf(page, 'restore');
  await page.locator('#restore-run').click();
  const clicked = performance.now();
  const firstFrames = [];
  const seen = new Set();
  const states = new Set();
  const deadline = Date.now() + 180_000;
  let midStream = false;
  while (Date.now() < deadline) {
    const src = await imageSrc(page, 'restore-x0');
    if (src && src !== before && !seen.has(src) && firstFrames.length < 2) {
      firstFrames.push(((performance.now() - clicked) / 1000).toFixed(2));
    }
    if (src) seen.add(src);
    const s = await statusOf(page, 'restore');
    states.add(s.replace(/\d+(\.\d+)?/g, '#'));
    if (seen.size >= 3 && !midStream && shots.streaming) {
      midStream = true;
      await page.screenshot({ path: join(outdir, shots.streaming), fullPage: true });
      log(`streaming: ${seen.size} different x̂0 frames so far; status "${s}"`);
    }
    if (/done in/.test(s) && (await imageSrc(page, 'restore-result'))) break;
    if (/^error/.test(s) && s !== statusBefore) fail(`the run failed: ${s}`);
    await failOnToast(page);
    await page.waitForTimeout(100);
  }
  const final = await statusOf(page, 'restore');
  if (!/done in/.test(final)) fail(`no final restoration within 180 s (status "${final}")`);
  log(`x̂0 shown ${firstFrames[0]} s after Run (the prior's, before guidance), ` +
    `${firstFrames[1]} s (after the first step); polled every 0.1 s`);
  await waitFor(
    page,
    () => (document.querySelector('#restore-metrics')?.textContent || '').includes('PSNR'),
    null,
    'the metrics table',
    30_000,
  );
  if (![...states].some((s) => /running, step #\/# · # s/.test(s))) {
    fail(`the status never said "running, step k/K" with a time: ${[...states].join(' | ')}`);
  }
  return seen.size;
}

// Scroll the results into view once, so that the browser loads their lazy images before a
// full-page screenshot.
async function showAll(page) {
  for (const id of ['restore-observation', 'restore-gallery', 'restore-metrics']) {
    await page.locator(`#${id}`).scrollIntoViewIfNeeded();
    await page.waitForTimeout(400);
  }
  await page.evaluate(() => window.scrollTo(0, 0));
}

// The x values of trace k (the moving samples) of the animation plot, as plotly holds them
// (a list, or plotly's binary {dtype, bdata}), as a string.
async function animationPoints(page, k = 3) {
  return page.evaluate((k) => {
    const gd = document.querySelector('#tradeoff-animation .js-plotly-plot');
    return gd && gd.data && gd.data[k] ? JSON.stringify(gd.data[k].x).slice(0, 400) : '';
  }, k);
}

async function tradeoffIdle(page) {
  await waitFor(
    page,
    () =>
      ['tradeoff-scatter', 'tradeoff-animation', 'tradeoff-sw', 'tradeoff-decomposition'].every((id) =>
        document.querySelector(`#${id} .js-plotly-plot .main-svg`),
      ) && !document.querySelector('#tradeoff-summary .pending, #tradeoff-scatter .pending'),
    null,
    'the trade-off charts',
  );
  await page.waitForTimeout(500);
}

async function main() {
  const browser = await chromium.launch({
    executablePath,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
  // count the WebGL contexts the page creates (Chromium keeps at most 16 alive)
  await page.addInitScript(() => {
    window.__webgl = 0;
    const get = HTMLCanvasElement.prototype.getContext;
    const made = new WeakSet();
    HTMLCanvasElement.prototype.getContext = function (type, ...rest) {
      const ctx = get.call(this, type, ...rest);
      if (ctx && /webgl/.test(String(type)) && !made.has(ctx)) {
        made.add(ctx);
        window.__webgl += 1;
      }
      return ctx;
    };
  });
  const errors = [];
  page.on('pageerror', (err) => {
    errors.push(String(err));
    log(`page error: ${err}`);
  });
  page.on('console', (m) => {
    if (m.type() === 'error' && /WebGL|413/.test(m.text())) errors.push(m.text());
  });
  try {
    // --- open the page (waiting for 'networkidle' never ends: the queue keeps a stream open)
    await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 60_000 });
    await page.waitForSelector('#restore-editor', { timeout: 60_000 });
    // the editor builds its canvas after it appears; an upload before that makes Gradio's
    // editor throw (reset_layers / dimensions of undefined) and lose the image's layout
    await page.locator('#restore-editor canvas').first().waitFor({ state: 'attached', timeout: 30_000 })
      .catch(() => log('no editor canvas before the upload'));
    await page.waitForTimeout(1500);
    log('page loaded');

    // --- a laptop's window: Run, Stop and the status in view without scrolling
    for (const id of ['restore-run', 'restore-stop', 'restore-status']) {
      const box = await page.locator(`#${id}`).boundingBox();
      if (!box || box.y < 0 || box.y + box.height > 768) {
        fail(`#${id} is not in view at 1366×768: ${JSON.stringify(box)}`);
      }
    }
    if (await page.locator('#restore-mgps-lr').isVisible()) {
      fail('the sampler settings should be in a collapsed "Advanced" section');
    }
    await page.screenshot({ path: join(outdir, '00-laptop-1366x768.png') });
    log('Run, Stop and the status are in view at 1366×768');

    // --- wrong files: each gets a message naming it, before any Run
    const cases = [
      ['notes.txt', /“notes\.txt” is not an image/],
      ['fake.png', /“fake\.png” is not an image this page can read/],
      ['huge.png', /“huge\.png” is 26\.0 MB; the limit is 25 MB/],
      ['big.png', /“big\.png” is 6000×4000 = 24 megapixels; the limit is 20/],
    ];
    for (const [name, want] of cases) {
      const message = await upload(page, join(inputs, name));
      log(`${name}: ${message}`);
      if (!want.test(message)) fail(`unexpected message for ${name}: ${message}`);
      if (name === 'huge.png') {
        await page.screenshot({ path: join(outdir, '01-upload-refused.png') });
      }
    }
    if (await statusOf(page, 'restore')) fail('a status appeared although nothing was run');
    const dropped = await drop(page, join(inputs, 'notes.txt'), 'dropped notes.txt');
    log(`dropped notes.txt: ${dropped}`);
    if (!/“dropped notes\.txt” is not an image/.test(dropped)) fail(`drop: ${dropped}`);

    // --- Run with no image: the status says what is wrong (and a toast)
    await page.locator('#restore-run').click();
    await waitFor(
      page,
      () => /^error: Upload an image/.test(document.querySelector('#restore-status textarea')?.value || ''),
      null,
      'the error in the status',
      30_000,
    );
    log('Run without an image:', await statusOf(page, 'restore'));
    await closeToasts(page);

    // --- a digit: accepted, then a stroke drawn on it
    const accepted = await upload(page, digit);
    if (!/“digit_3_1\.png” accepted \(28×28/.test(accepted)) fail(`digit not accepted: ${accepted}`);
    await page.waitForTimeout(1500); // the editor fits the image to the view
    await drawStroke(page);
    await page.locator('#restore-editor').screenshot({ path: join(outdir, '02-mask-drawn.png') });
    log('digit accepted and a stroke drawn');

    // --- fewer steps and samples than the defaults, as a user in a hurry would set them
    await page.locator('#restore-advanced').getByText('Advanced: sampler settings').click();
    await page.waitForTimeout(300);
    await setNumber(page, '#restore-mgps-num_steps', '25');
    await setNumber(page, '#restore-num-samples', '2');

    // --- Run: the streamed estimate changes, then the results
    const frames = await runRestore(page, { streaming: '03-streaming.png' });
    log(`finished: ${frames} different x̂0 frames were streamed`);
    if (frames < 3) fail(`the streamed image did not change (${frames} frames seen)`);
    await showAll(page);
    await page.screenshot({ path: join(outdir, '04-final.png'), fullPage: true });
    const metrics = await text(page, '#restore-metrics');
    if (!metrics.includes('2 sample(s)')) fail('the run did not use the 2 samples set in the UI');
    const estimate = await text(page, '#restore-estimate');
    log('estimate after the run:', estimate);
    if (!/about .*(s|min)/.test(estimate)) fail(`no time estimate after a run: ${estimate}`);

    // --- a long run, stopped: the status says where
    await setNumber(page, '#restore-mgps-num_steps', '400');
    // the estimate is the server's answer to the change: on a loaded machine it comes late
    await waitFor(
      page,
      () => /400 steps/.test(document.querySelector('#restore-estimate')?.textContent || ''),
      undefined,
      'the estimate of a 400-step run',
      30_000,
    );
    const longEstimate = await text(page, '#restore-estimate');
    log('estimate before a 400-step run:', longEstimate);
    if (!/400 steps × 2 samples: about/.test(longEstimate)) fail(`no estimate: ${longEstimate}`);
    await page.locator('#restore-run').click();
    await waitFor(
      page,
      () => /running, step ([3-9]|\d\d)/.test(document.querySelector('#restore-status textarea')?.value || ''),
      null,
      'the long run to stream',
      60_000,
    );
    await page.locator('#restore-stop').click();
    await page.waitForTimeout(2000);
    const stopped = await statusOf(page, 'restore');
    log('after Stop:', stopped);
    if (!/stopped at step \d+\/400/.test(stopped)) fail(`the status after Stop: ${stopped}`);
    await page.screenshot({ path: join(outdir, '05-stopped.png') });
    await setNumber(page, '#restore-mgps-num_steps', '25');

    // --- the trade-off tab: first view, then six moves of η
    const contexts = await page.evaluate(() => window.__webgl);
    await page.setViewportSize({ width: 1366, height: 1400 });
    await page.getByRole('tab', { name: 'Midpoint trade-off' }).click();
    await waitFor(
      page,
      () => (document.querySelector('#tradeoff-summary')?.textContent || '').includes('Wasserstein'),
      null,
      'the first trade-off run',
    );
    await tradeoffIdle(page);
    await page.screenshot({ path: join(outdir, '06-tradeoff.png'), fullPage: true });
    const slider = page.locator('#tradeoff-eta input[type=range]');
    for (const [k, where] of [0.1, 0.3, 0.7, 0.9, 0.2, 0.6].entries()) {
      const sbox = await slider.boundingBox();
      if (!sbox) fail('the η slider has no bounding box');
      await page.mouse.click(sbox.x + sbox.width * where, sbox.y + sbox.height / 2);
      const eta = Number(await slider.inputValue());
      await waitFor(
        page,
        (want) => (document.querySelector('#tradeoff-summary')?.textContent || '').includes(want),
        `η = ${eta.toFixed(2)}`,
        `the run at η = ${eta}`,
      );
      await tradeoffIdle(page);
      log(`η move ${k + 1}: η = ${eta}`);
    }
    await page.screenshot({ path: join(outdir, '07-tradeoff-after-six-moves.png'), fullPage: true });
    const grown = (await page.evaluate(() => window.__webgl)) - contexts;
    log(`WebGL contexts created on the trade-off tab: ${grown}`);
    if (grown > 0) fail(`the trade-off tab created ${grown} WebGL contexts`);
    const words = await text(page, '#tradeoff-sw-words');
    log('SW words:', words.slice(0, 200));
    if (!/lowest mean SW is at η = /.test(words)) fail(`the SW chart's words: ${words}`);

    // --- the animation: the slider moves the points, Play streams the snapshots
    const before = await animationPoints(page);
    if (!before) fail('the animation draws no moving points');
    const fbox = await page.locator('#tradeoff-frame input[type=range]').boundingBox();
    await page.mouse.click(fbox.x + fbox.width * 0.6, fbox.y + fbox.height / 2);
    await waitFor(
      page,
      (b) => {
        const gd = document.querySelector('#tradeoff-animation .js-plotly-plot');
        return gd && gd.data && gd.data[3] && JSON.stringify(gd.data[3].x).slice(0, 400) !== b;
      },
      before,
      'the animation to draw other points',
      30_000,
    );
    const title = await text(page, '#tradeoff-animation .gtitle');
    log('animation moved to:', title);
    await page.locator('#tradeoff-play').click();
    await waitFor(
      page,
      () => Number(document.querySelector('#tradeoff-frame input[type=number]')?.value) >= 19,
      null,
      'Play to reach the last snapshot',
      60_000,
    );
    const after = await animationPoints(page);
    if (after === before) fail('the animation did not change the points drawn');
    await page.screenshot({ path: join(outdir, '08-animation.png'), fullPage: true });

    // --- back to Restore: draw, run, a restoration, and no page error
    await page.setViewportSize({ width: 1366, height: 768 });
    await page.getByRole('tab', { name: 'Restore' }).click();
    await page.waitForTimeout(1000);
    const again = await upload(page, join(inputs, 'notes.txt'));
    if (!/“notes\.txt” is not an image/.test(again)) fail(`upload after the tabs: ${again}`);
    await drawStroke(page, 20);
    await runRestore(page, {});
    await showAll(page);
    await page.screenshot({ path: join(outdir, '09-restore-after-tradeoff.png'), fullPage: true });
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
