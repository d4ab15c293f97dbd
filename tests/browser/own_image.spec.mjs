// Browser test of "bring your own image" on the Restore tab: headless Debian Chromium driven by
// playwright-core.
//
//   node tests/browser/own_image.spec.mjs <url> <outdir> <inputs>
//
// <inputs> holds files degraded outside the project by tests/test_app_browser_own_image.py:
// low_res_7.png (a digit downscaled ×4 with a BOX filter: 7×7) and digit_q10.jpg (a Pillow
// JPEG at quality 10).
//
// At 1366×768: an example of clothes switches the prior to the clothes prior, a photograph
// says which prior it needs and that none runs here; a JPEG uploaded in observation mode under
// the JPEG degradation has its quality read from the file; the low-resolution digit, uploaded
// as "my image is already degraded" under super-resolution ×4, is restored (no PSNR, the data
// fit against the noise level), the before/after slider and the download are there and the
// archive is saved to <outdir>/run.zip (the wrapper checks its files); a long run is stopped
// and its last step stays on the page, marked "stopped at step k/K", with its archive; then, on
// the same page, a digit drawn on a blank canvas is degraded and restored. At 390×844 (a phone)
// the input mode is reachable and the page does not scroll sideways. Screenshots go to <outdir>.

import { mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { log, fail, text, waitFor, setNumber, runMain } from './helpers.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const [url, outdir = join(here, '..', '_artifacts', 'own_image'), inputs] = process.argv.slice(2);
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
if (!url || !inputs) {
  console.error('usage: node own_image.spec.mjs <url> <outdir> <inputs>');
  process.exit(2);
}
mkdirSync(outdir, { recursive: true });

async function statusOf(page) {
  return page.locator('#restore-status textarea').inputValue();
}

async function waitText(page, selector, pattern, what, timeout = 60_000) {
  await waitFor(
    page,
    ([sel, src]) => new RegExp(src).test(document.querySelector(sel)?.textContent || ''),
    [selector, pattern.source],
    what,
    timeout,
  );
  return text(page, selector);
}

async function priorOf(page) {
  return page.locator('#restore-prior input').inputValue();
}

async function waitPrior(page, pattern, what) {
  await waitFor(
    page,
    (src) => new RegExp(src).test(document.querySelector('#restore-prior input')?.value || ''),
    pattern.source,
    what,
    60_000,
  );
  return priorOf(page);
}

// Pick an option of a dropdown by its label.
async function choose(page, id, label) {
  await page.locator(`#${id} input`).click();
  await page.getByRole('option', { name: label }).first().click();
  await page.waitForTimeout(500);
}

async function failOnToast(page) {
  const toast = page.locator('[data-testid="toast-body"]');
  if (await toast.count()) {
    const body = (await toast.first().textContent()) || '';
    if (/error/i.test(body)) fail(`the app reported an error: ${body.replace(/\s+/g, ' ').trim()}`);
  }
}

async function closeToasts(page) {
  const close = page.locator('[data-testid="toast-close"]');
  for (let i = (await close.count()) - 1; i >= 0; i--) await close.nth(i).click().catch(() => {});
}

// Give a file to the Restore editor as a user would, and wait until the page accepts it.
async function upload(page, file) {
  await page.locator('#restore-editor input[type=file]').first().setInputFiles(file);
  const name = file.split('/').pop().replace('.', '\\.');
  await waitText(page, '#restore-editor-note', new RegExp(`${name}” accepted`), `${file} accepted`, 30_000);
  await page.waitForTimeout(1500); // the editor fits the image to the view
}

// Run and wait for the final status (done), failing on an error.
async function runToEnd(page) {
  const before = await statusOf(page);
  await page.locator('#restore-run').click();
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    const s = await statusOf(page);
    if (/done in/.test(s) && s !== before) break;
    if (/^error/.test(s)) fail(`the run failed: ${s}`);
    await failOnToast(page);
    await page.waitForTimeout(200);
  }
  const s = await statusOf(page);
  if (!/done in/.test(s)) fail(`no restoration within 180 s (status "${s}")`);
  await waitText(page, '#restore-metrics', /data fit/, 'the metrics table', 30_000);
  return s;
}

async function imageSrc(page, id) {
  return page.evaluate((sel) => {
    const img = document.querySelector(`${sel} img`);
    return img ? img.getAttribute('src') || '' : '';
  }, `#${id}`);
}

// The before/after slider shows two images; the download button is enabled; the archive is
// saved as <outdir>/<name>.
async function takeAway(page, name) {
  await waitFor(
    page,
    () => document.querySelectorAll('#restore-slider img').length >= 2,
    null,
    'the before/after slider',
    30_000,
  );
  const button = page.locator('#restore-download');
  if (await button.isDisabled()) fail('the download button is disabled after the run');
  const [download] = await Promise.all([page.waitForEvent('download', { timeout: 30_000 }), button.click()]);
  await download.saveAs(join(outdir, name));
  log(`downloaded ${download.suggestedFilename()} as ${name}`);
  if (!/\.zip$/.test(download.suggestedFilename())) fail(`not a zip: ${download.suggestedFilename()}`);
}

async function showAll(page) {
  for (const id of ['restore-observation', 'restore-gallery', 'restore-metrics', 'restore-download']) {
    await page.locator(`#${id}`).scrollIntoViewIfNeeded();
    await page.waitForTimeout(300);
  }
  await page.evaluate(() => window.scrollTo(0, 0));
}

// In the page: true when the editor's canvas, not a status overlay, is what a pointer at its
// centre reaches.
function canvasReachable() {
  const canvases = document.querySelectorAll('#restore-editor canvas');
  const canvas = canvases[canvases.length - 1];
  if (!canvas) return false;
  const r = canvas.getBoundingClientRect();
  const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
  return hit instanceof HTMLCanvasElement && canvas.closest('#restore-editor').contains(hit);
}

// Draw a "7" on the editor's canvas: a bar and a diagonal.
async function drawSeven(page) {
  const canvas = page.locator('#restore-editor canvas').last();
  await canvas.waitFor({ state: 'visible', timeout: 30_000 });
  const brush = page.locator('#restore-editor button[aria-label="Brush"]');
  if (await brush.count()) await brush.first().click();
  const box = await canvas.boundingBox();
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  const s = Math.min(box.width, box.height) * 0.25;
  const line = async (x0, y0, x1, y1) => {
    await page.mouse.move(x0, y0);
    await page.mouse.down();
    for (let i = 1; i <= 8; i++) await page.mouse.move(x0 + ((x1 - x0) * i) / 8, y0 + ((y1 - y0) * i) / 8);
    await page.mouse.up();
  };
  await line(cx - s, cy - s, cx + s, cy - s);
  await line(cx + s, cy - s, cx - s * 0.2, cy + s);
  await page.waitForTimeout(500);
}

async function main() {
  const browser = await chromium.launch({
    executablePath,
    args: ['--headless', '--no-sandbox', '--disable-background-networking', '--no-first-run'],
  });
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, acceptDownloads: true });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (err) => {
    errors.push(String(err));
    log(`page error: ${err}`);
  });
  try {
    await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 60_000 });
    await page.waitForSelector('#restore-editor', { timeout: 60_000 });
    await page.locator('#restore-editor canvas').first().waitFor({ state: 'attached', timeout: 30_000 })
      .catch(() => log('no editor canvas yet'));
    await page.waitForTimeout(1500);
    for (const id of ['restore-run', 'restore-stop', 'restore-status']) {
      const box = await page.locator(`#${id}`).boundingBox();
      if (!box || box.y + box.height > 768) fail(`#${id} is not in view at 1366×768`);
    }
    await page.screenshot({ path: join(outdir, '00-laptop.png') });

    // --- an example of clothes brings its prior; a photograph says what it needs
    if (!/digits/i.test(await priorOf(page))) fail(`the page does not start on the digits: ${await priorOf(page)}`);
    await page.locator('#restore-examples').getByText('clothes 2', { exact: true }).click();
    const fashion = await waitPrior(page, /Fashion/, 'the clothes prior after a clothes example');
    const switched = await waitText(page, '#restore-fit-note', /prior is now/, 'a note on the switch');
    log(`clothes example: prior "${fashion}"; "${switched}"`);
    await page.screenshot({ path: join(outdir, '01-clothes-example.png') });
    await page.locator('#restore-examples').getByText('astronaut (photo)', { exact: true }).click();
    const photo = await waitText(page, '#restore-fit-note', /No prior here restores photographs/, 'the photograph note');
    log(`photograph: ${photo}`);
    if (!/CelebA-HQ/.test(photo) || !/GPU Space/.test(photo)) fail(`the note names no prior that would work: ${photo}`);
    await page.screenshot({ path: join(outdir, '02-photo-example.png') });
    await page.locator('#restore-examples').getByText('digit 3', { exact: true }).click();
    await waitPrior(page, /MNIST digits/, 'the digits prior after a digit example');
    log('digit example: back on the digits prior');

    // --- my image is already degraded: a JPEG's quality is read from the file
    await page.locator('#restore-input-mode').getByText('My image is already degraded').click();
    await choose(page, 'restore-operator', 'JPEG (differentiable)');
    await upload(page, join(inputs, 'digit_q10.jpg'));
    const quality = await waitText(page, '#restore-mode-note', /Quality 10 read from/, 'the JPEG quality read from the file', 30_000);
    log(`JPEG: ${quality}`);
    const slider = await page.locator('#restore-jpeg-quality input[type=number]').inputValue();
    if (slider !== '10') fail(`the quality control is ${slider}, not the 10 read from the file`);
    const sigma = page.locator('#restore-sigma-estimate');
    await sigma.waitFor({ state: 'visible', timeout: 30_000 });
    const jpegWhy = await waitText(page, '#restore-sigma-why', /JPEG operator's own error/, 'why this σ_y');
    log(`noise: ${await sigma.textContent()} — ${jpegWhy}`);

    // --- a low-resolution digit under super-resolution ×4: restored, no PSNR
    await choose(page, 'restore-operator', 'Super-resolution ×4');
    await upload(page, join(inputs, 'low_res_7.png'));
    const hint = await waitText(page, '#restore-mode-note', /low-resolution/, 'what the image is taken as');
    log(`super-resolution: ${hint}`);
    // the suggested noise level: a 7×7 image is too small to estimate it from
    await waitText(page, '#restore-sigma-why', /too small/, 'the σ_y suggested for a 7×7 image');
    const suggested = ((await sigma.textContent()) || '').match(/≈\s*([\d.]+)/);
    if (!suggested) fail(`no suggested σ_y: ${await sigma.textContent()}`);
    await sigma.click();
    const sigmaBox = page.locator('.block', { hasText: 'σ_y (observation noise' }).locator('input[type=number]').first();
    await waitFor(
      page,
      ([want]) => [...document.querySelectorAll('input[type=number]')].some((el) => el.value === want),
      [String(Number(suggested[1]))],
      'σ_y set to the suggestion',
      30_000,
    );
    log(`σ_y set to the suggested ${await sigmaBox.inputValue()}`);
    await page.locator('#restore-advanced').getByText('Advanced: sampler settings').click();
    await page.waitForTimeout(300);
    await setNumber(page, '#restore-mgps-num_steps', '25');
    await setNumber(page, '#restore-num-samples', '2');
    log(await runToEnd(page));
    const metrics = await text(page, '#restore-metrics');
    if (!/original image is not known/.test(metrics) || /dB/.test(metrics)) fail(`metrics of an observation: ${metrics}`);
    if (!/your image is the observation y/.test(metrics)) fail(`the metrics do not say the image is y: ${metrics}`);
    if (!(await imageSrc(page, 'restore-result'))) fail('no restoration shown');
    await takeAway(page, 'run.zip');
    await showAll(page);
    await page.screenshot({ path: join(outdir, '03-observation-restored.png'), fullPage: true });

    // --- a long run, stopped: its last step stays on the page
    await setNumber(page, '#restore-mgps-num_steps', '400');
    await page.locator('#restore-run').click();
    await waitFor(
      page,
      () => /running, step ([3-9]|\d\d)/.test(document.querySelector('#restore-status textarea')?.value || ''),
      null,
      'the long run to stream',
      60_000,
    );
    await page.locator('#restore-stop').click();
    await waitFor(
      page,
      () => /stopped at step \d+\/400/.test(document.querySelector('#restore-status textarea')?.value || ''),
      null,
      'the status after Stop',
      30_000,
    );
    const stopped = await waitText(page, '#restore-metrics', /Stopped at step \d+\/400/, 'the stopped results');
    log(`after Stop: ${await statusOf(page)}; ${stopped.slice(0, 80)}`);
    if (!(await imageSrc(page, 'restore-result'))) fail('Stop left no restoration on the page');
    await takeAway(page, 'stopped.zip');
    await page.screenshot({ path: join(outdir, '04-stopped.png'), fullPage: true });
    await setNumber(page, '#restore-mgps-num_steps', '25');
    await closeToasts(page);

    // --- on the same page, after the stopped run: draw an image on a blank canvas, then degrade
    // and restore it
    await page.locator('#restore-input-mode').getByText('The app degrades a clean image').click();
    await choose(page, 'restore-operator', 'Box inpainting');
    await page.locator('#restore-blank').click();
    await waitFor(
      page,
      () => document.querySelector('#restore-strokes input[value="image"]')?.checked === true,
      null,
      'the strokes to be the image',
      30_000,
    );
    await page.waitForTimeout(1500); // the blank canvas and its white brush load
    await waitFor(page, canvasReachable, null, 'the blank canvas to take strokes (nothing over it)', 60_000);
    await drawSeven(page);
    await page.locator('#restore-editor').screenshot({ path: join(outdir, '05-drawn-seven.png') });
    log(await runToEnd(page));
    const drawn = await text(page, '#restore-metrics');
    if (!/PSNR of the samples/.test(drawn)) fail(`a drawn image is scored against itself: ${drawn}`);
    await showAll(page);
    await page.screenshot({ path: join(outdir, '06-drawn-restored.png'), fullPage: true });

    // --- a phone: the input mode is reachable, nothing scrolls sideways
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 } });
    await phone.goto(url, { waitUntil: 'domcontentloaded', timeout: 60_000 });
    await phone.waitForSelector('#restore-input-mode', { timeout: 60_000 });
    await phone.waitForTimeout(2000);
    await phone.locator('#restore-input-mode').scrollIntoViewIfNeeded();
    const wide = await phone.evaluate(() => document.documentElement.scrollWidth);
    await phone.screenshot({ path: join(outdir, '07-phone.png') });
    log(`phone: page width ${wide} px`);
    if (wide > 392) fail(`the page scrolls sideways on a phone (${wide} px wide)`);
    if (errors.length) fail(`errors in the page: ${errors.join(' | ')}`);
    log('ok');
  } catch (err) {
    await page.screenshot({ path: join(outdir, 'failure.png'), fullPage: true }).catch(() => {});
    throw err;
  } finally {
    await browser.close();
  }
}

runMain(main);
