// The page darkroom serves at /, in Debian's headless Chromium against a real `darkroom serve` on the
// golden tiny model: it develops, counts steps, estimates, cancels, survives a dropped connection, shows
// the server's refusals and asks for an API key.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { longRequest, startDarkroom, startServer, waitForJob } from '../server/js/lib/server.js';
import { startProxy } from './lib/proxy.js';
import { byTestId, launchBrowser, openPage, recordChanges, screenshot, seen, text, until } from './lib/browser.js';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

const state = (page) => page.$eval(byTestId('status'), (node) => node.dataset.state);
const untilState = (page, wanted, timeoutMs = 30000) =>
  until(async () => (await state(page)) === wanted, async () => `status '${await text(page, 'status')}', message '${await text(page, 'message')}'`, timeoutMs);

async function fill(page, fields) {
  for (const [id, value] of Object.entries(fields)) {
    await page.$eval(`#${id}`, (node, value) => {
      node.value = value;
      node.dispatchEvent(new Event('input', { bubbles: true }));
      node.dispatchEvent(new Event('change', { bubbles: true }));
    }, String(value));
  }
}

// The golden tiny model has no size of its own (it gets SD1's 512): tests ask for 64x64, which is fast.
const TINY = { width: 64, height: 64 };
const stepsSeen = (page) => page.$eval(byTestId('progress'), (node) => node.dataset.steps);
const range = (n) => Array.from({ length: n }, (_, i) => i + 1).join(',');

describe('on the golden tiny model', () => {
  let server;
  before(async () => { server = await startServer(); });
  after(async () => { await server.stop(); });

  test('the image develops: previews, every step, a changing ETA, the result with its parameters', async () => {
    const page = await openPage(browser, server.base);
    const models = await page.$$eval(`${byTestId('model')} option`, (options) => options.map((o) => [o.value, o.disabled]));
    assert.deepEqual(models.find(([id]) => id === 'sd1_tiny'), ['sd1_tiny', false]);
    assert.deepEqual(models.find(([id]) => id === 'sd1_tiny_unconfigured'), ['sd1_tiny_unconfigured', true]);
    // The model's own defaults, and only the preview methods it has.
    const capabilities = await (await fetch(`${server.base}/v1/capabilities`)).json();
    const defaults = capabilities.models.find((model) => model.id === 'sd1_tiny').defaults;
    assert.equal(await page.$eval('#width', (node) => node.value), String(defaults.width));
    assert.equal(await page.$eval('#cfg', (node) => node.value), String(defaults.cfg));
    const methods = await page.$$eval('#preview-method option', (options) => options.map((o) => o.value));
    assert.ok(methods.includes('latent2rgb') && !methods.includes('taesd'), methods.join());

    const steps = 24;
    await fill(page, { ...TINY, steps, 'preview-method': 'latent2rgb' });
    await recordChanges(page, 'previews', byTestId('preview'), 'src');
    await recordChanges(page, 'eta', byTestId('eta'));
    await page.type(byTestId('prompt'), 'a red fox in the snow');
    await page.keyboard.press('Enter');  // Enter in the prompt box generates
    await untilState(page, 'completed');

    assert.equal(await text(page, 'progress'), `${steps}/${steps}`);
    assert.equal(await stepsSeen(page), range(steps));
    const previews = await seen(page, 'previews');
    assert.ok(new Set(previews).size >= 3, `${previews.length} distinct previews`);
    assert.ok(previews.every((src) => src.startsWith('data:image/jpeg;base64,')));
    const etas = (await seen(page, 'eta')).filter((value) => value.startsWith('ETA'));
    assert.ok(new Set(etas).size >= 2, `ETA took the values ${etas.join(' | ')}`);

    const result = await page.$eval(byTestId('result'), (img) => ({ hidden: img.hidden, width: img.naturalWidth, src: img.src }));
    assert.deepEqual([result.hidden, result.width], [false, 64]);
    assert.match(result.src, /\/v1\/jobs\/[^/]+\/images\/0$/);
    assert.equal(await page.$eval(byTestId('preview'), (img) => img.hidden), true);
    const parameters = await text(page, 'parameters');
    assert.match(parameters, /seed \d+ · 64x64 · 24 steps · cfg \d/);
    // The download is the server's PNG with its parameters chunk; the animation is an animated WebP.
    const download = await page.$eval(byTestId('download'), (a) => a.href);
    const png = Buffer.from(await (await fetch(download)).arrayBuffer());
    assert.ok(png.includes('parameters') && png.includes('a red fox in the snow'));
    await until(() => page.$eval(byTestId('animation'), (img) => img.complete && img.naturalWidth === 64), async () => 'the animation did not load');
    const webp = Buffer.from(await (await fetch(await page.$eval(byTestId('animation'), (img) => img.src))).arrayBuffer());
    assert.equal(webp.toString('latin1', 8, 12), 'WEBP');
    assert.ok(webp.includes('ANIM'), 'an animated WebP');
    assert.equal(await page.$$eval(`${byTestId('history')} li`, (items) => items.length), 1);
    // Only the page's files and the public API were requested, and the job cost the server what any
    // streaming client costs: one submission, one event stream, the image and the animation; no polling.
    const paths = page.requested.filter((url) => !url.startsWith('data:')).map((url) => new URL(url).pathname);
    for (const path of paths) assert.match(path, /^\/($|web\/|v1\/)/, path);
    const jobPaths = paths.filter((path) => path.startsWith('/v1/jobs/')).map((path) => path.replace(/^\/v1\/jobs\/[^/]+/, ''));
    assert.deepEqual([...new Set(jobPaths)].sort(), ['/animation', '/events', '/images/0']);
    assert.equal(jobPaths.filter((path) => path === '/events').length, 1);
    assert.deepEqual(page.problems, []);

    // Use these settings again: the same seed, and the seed can be reused.
    const seed = Number(/seed (\d+)/.exec(parameters)[1]);
    await fill(page, { steps: 3 });
    await page.click(byTestId('reuse'));
    assert.equal(await page.$eval('#seed', (node) => node.value), String(seed));
    assert.equal(await page.$eval(byTestId('steps'), (node) => node.value), String(steps));
    await page.close();
  });

  test('cancel stops a running job within a step', async () => {
    const page = await openPage(browser, server.base);
    await fill(page, { width: 192, height: 192, steps: 200, 'preview-method': 'none' });
    await page.type(byTestId('prompt'), 'a long one');
    await page.click(byTestId('generate'));
    await until(async () => Number((await text(page, 'progress')).split('/')[0]) >= 2, async () => text(page, 'status'));
    assert.equal(await page.$eval(byTestId('cancel'), (b) => b.disabled), false);
    const clicked = Date.now();
    await page.click(byTestId('cancel'));
    await untilState(page, 'cancelled', 10000);
    assert.ok(Date.now() - clicked < 5000);
    assert.ok(Number((await text(page, 'progress')).split('/')[0]) < 200);
    assert.equal(await page.$eval(byTestId('generate'), (b) => b.disabled), false);
    await page.close();
  });

  test('a connection dropped mid-run resumes and loses no step', async () => {
    const proxy = await startProxy(server.port);
    try {
      const page = await openPage(browser, proxy.base);
      const steps = 80;
      await fill(page, { width: 128, height: 128, steps, 'preview-method': 'latent2rgb' });
      await recordChanges(page, 'status', byTestId('status'));
      await page.type(byTestId('prompt'), 'a lighthouse at dusk');
      await page.click(byTestId('generate'));
      await until(async () => Number((await text(page, 'progress')).split('/')[0]) >= 3, async () => text(page, 'status'));
      proxy.goOffline();
      await until(async () => (await state(page)) === 'reconnecting', async () => `status ${await text(page, 'status')}`, 5000);
      await new Promise((resolve) => setTimeout(resolve, 1000));  // offline for a second: the point of the test
      proxy.goOnline();
      await untilState(page, 'completed', 60000);
      assert.equal(await stepsSeen(page), range(steps));
      assert.ok((await seen(page, 'status')).includes('reconnecting…'));
      assert.equal(await page.$eval(byTestId('result'), (img) => img.naturalWidth), 128);
      await page.close();
    } finally {
      await proxy.close();
    }
  });

  test('a bad request shows its message next to the field', async () => {
    const page = await openPage(browser, server.base);
    await fill(page, { ...TINY, steps: 0 });
    await page.type(byTestId('prompt'), 'zero steps');
    await page.click(byTestId('generate'));
    await untilState(page, 'error', 10000);
    const error = await page.$eval('.field-error[data-for="steps"]', (node) => node.textContent);
    assert.match(error, /steps: must be between 1 and \d+, got 0/);
    assert.equal(await page.$eval(byTestId('steps'), (node) => node.getAttribute('aria-invalid')), 'true');
    assert.match(await text(page, 'message'), /steps/);
    assert.equal(await page.$eval(byTestId('generate'), (b) => b.disabled), false);
    // A seed JavaScript cannot hold exactly is refused by the page, not silently rounded to another seed.
    await fill(page, { steps: 4, seed: '1152921504606846977' });
    await page.click(byTestId('generate'));
    await until(async () => (await page.$eval('.field-error[data-for="seed"]', (node) => node.textContent)).includes('seed'),
      async () => text(page, 'status'));
    await page.close();
  });

  test('usable on a phone-sized viewport', async () => {
    const page = await openPage(browser, server.base, { width: 390, height: 844 });
    const overflow = await page.evaluate(() => document.scrollingElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow} px wider than the screen`);
    for (const id of ['prompt', 'generate', 'preview']) {
      const box = await page.$eval(byTestId(id), (node) => { const r = node.getBoundingClientRect(); return [r.left, r.right]; });
      assert.ok(box[0] >= 0 && box[1] <= 390, `${id} at ${box}`);
    }
    await page.close();
  });
});

describe('with a full queue', () => {
  let server;
  before(async () => { server = await startServer(['--max-queue', '1', '--workers', '1']); });
  after(async () => { await server.stop(); });

  test('429 says when to try again', async () => {
    const submit = () => fetch(`${server.base}/v1/jobs`, { method: 'POST', body: JSON.stringify(longRequest()) });
    const running = await submit();
    assert.equal(running.status, 202);
    await waitForJob(server.base, (await running.json()).id, (job) => job.state === 'running');
    assert.equal((await submit()).status, 202);  // waiting: the queue is full
    const page = await openPage(browser, server.base);
    await page.type(byTestId('prompt'), 'one too many');
    await page.click(byTestId('generate'));
    await untilState(page, 'error', 10000);
    assert.match(await text(page, 'message'), /queue is full: try again in \d+ s/);
    await page.close();
  });
});

describe('with an API key', () => {
  let server;
  before(async () => { server = await startServer(['--api-key', 'opensesame']); });
  after(async () => { await server.stop(); });

  test('the page asks for the key once, says when it is wrong, and uses it for every request', async () => {
    const page = await openPage(browser, server.base, { waitReady: false });
    await page.waitForSelector('#key-dialog[open]');
    await page.type(byTestId('api-key'), 'wrong');
    await page.click(byTestId('api-key-save'));
    await until(async () => (await page.$eval('#key-problem', (node) => node.textContent)).includes('did not accept'),
      async () => 'no complaint about the wrong key');
    await page.type(byTestId('api-key'), 'opensesame');
    await page.click(byTestId('api-key-save'));
    await page.waitForSelector('body[data-ready="true"]');
    await fill(page, { ...TINY, steps: 4, 'preview-method': 'latent2rgb' });
    await page.type(byTestId('prompt'), 'behind a key');
    await page.click(byTestId('generate'));
    await untilState(page, 'completed');
    assert.equal(await page.$eval(byTestId('result'), (img) => img.naturalWidth), 64);
    // The key is remembered: a reload asks nothing.
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    assert.equal(await page.$eval('#key-dialog', (dialog) => dialog.open), false);
    await page.close();
  });

  test('closing the key dialog says what is missing instead of waiting forever', async () => {
    const page = await openPage(browser, server.base, { waitReady: false });
    await page.waitForSelector('#key-dialog[open]');
    await page.keyboard.press('Escape');
    await untilState(page, 'error', 10000);
    assert.match(await text(page, 'message'), /needs an API key/);
    await page.close();
  });
});

// The README's screenshots (docs/images/, written when DARKROOM_SCREENSHOT_DIR is set): the embedded
// default model, so the picture is a real one.
describe('on the embedded default model', () => {
  let server;
  before(async () => { server = await startDarkroom([]); });
  after(async () => { await server.stop(); });

  test('mid-generation and finished, at 1280x800', async () => {
    const page = await openPage(browser, server.base);
    const steps = 40;
    await fill(page, { steps, 'preview-method': 'latent2rgb', seed: 6257530927779103 });  // the same picture every run
    await page.type(byTestId('prompt'), 'a red circle in the center on a blue background');
    await page.click(byTestId('generate'));
    await until(async () => Number((await text(page, 'progress')).split('/')[0]) >= steps / 2 &&
      await page.$eval(byTestId('preview'), (img) => img.complete && img.naturalWidth > 0), async () => text(page, 'status'));
    await screenshot(page, 'page-developing.png');
    await untilState(page, 'completed');
    await until(() => page.$eval(byTestId('animation'), (img) => img.complete && img.naturalWidth > 0), async () => 'no animation');
    await screenshot(page, 'page-finished.png');
    // At 1280x800 the form and the image sit side by side, the Generate button and the image in view.
    const box = (id) => page.$eval(byTestId(id), (node) => { const r = node.getBoundingClientRect(); return { left: r.left, right: r.right, bottom: r.bottom }; });
    const [prompt, result, generate] = [await box('prompt'), await box('result'), await box('generate')];
    assert.ok(prompt.right <= result.left, `form ${JSON.stringify(prompt)}, image ${JSON.stringify(result)}`);
    assert.ok(generate.bottom <= 800 && result.bottom <= 800, `generate ${generate.bottom}, image ${result.bottom}`);
    assert.deepEqual(page.problems, []);
    await page.close();
  });
});
