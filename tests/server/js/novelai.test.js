// NovelAI's image API with a real NovelAI client (nekoai-js), unmodified, pointed at darkroom with its
// `host` option: the V4 stream (msgpack chunks: an intermediate JPEG on every step of every sample, a final
// PNG per sample), the V4 non-streamed call (the same stream, read whole) and the V3 call (a zip of PNGs).
// NovelAI's clients send `Origin: https://novelai.net` (they act as NovelAI's web page), so the server
// allows that origin, and an API key, which they send as a Bearer token.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { NovelAI } from 'nekoai-js';

import { isJpeg, isPng, pngInfo, serverPerFile } from './lib/server.js';

const server = serverPerFile(['--cors-origin', 'https://novelai.net', '--api-key', 'nai-test-key']);
const client = () => new NovelAI({ token: 'nai-test-key', host: server.base, timeout: 120000, retry: { enabled: false } });
const request = (fields = {}) => ({ prompt: 'a red fox in the snow', width: 64, height: 64, steps: 4, seed: 42, ...fields });

test('V4 streaming: an intermediate on every step of every sample, then a final PNG per sample', async () => {
  const events = [];
  for await (const event of await client().generateImage(request({ model: 'nai-diffusion-4-5-full', n_samples: 2 }), true))
    events.push(event);
  for (const samp_ix of [0, 1]) {
    const sample = events.filter((e) => e.samp_ix === samp_ix);
    const intermediates = sample.filter((e) => e.event_type === 'intermediate');
    assert.deepEqual(intermediates.map((e) => e.step_ix), [0, 1, 2, 3], `every step of sample ${samp_ix}`);
    for (const e of intermediates) {
      assert.ok(isJpeg(e.image.data), 'intermediates are JPEG');
      assert.ok(e.sigma > 0);
    }
    const finals = sample.filter((e) => e.event_type === 'final');
    assert.equal(finals.length, 1);
    assert.ok(isPng(finals[0].image.data));
    const info = pngInfo(finals[0].image.data);
    assert.deepEqual([info.width, info.height], [64, 64]);
    assert.match(info.text.parameters, new RegExp(`Seed: ${42 + samp_ix}`));
    assert.equal(sample.at(-1).event_type, 'final', 'the final chunk ends its sample');
  }
  assert.equal(new Set(events.map((e) => e.gen_id)).size, 1, 'one gen_id for the request');
  assert.match(events[0].gen_id, /^\d+$/, 'gen_id is an integer');
  assert.ok(events.findIndex((e) => e.samp_ix === 1) > events.findIndex((e) => e.event_type === 'final'), 'samples in order');
});

test('V4 without streaming: the images of the stream', async () => {
  const images = await client().generateImage(request({ model: 'nai-diffusion-4-full' }));
  assert.equal(images.length, 1);
  assert.ok(isPng(images[0].data));
});

test('V3: a zip of PNGs, one per sample', async () => {
  const images = await client().generateImage(request({ model: 'nai-diffusion-3', n_samples: 2 }));
  assert.equal(images.length, 2);
  const seeds = images.map((image) => /Seed: (\d+)/.exec(pngInfo(image.data).text.parameters)[1]);
  assert.deepEqual(seeds, ['42', '43']);
});

test('a bad request is refused with an HTTP error before any chunk', async () => {
  await assert.rejects(client().generateImage(request({ model: 'nai-diffusion-3', steps: 5000 })), /HTTP Error: 400/);
  const res = await fetch(`${server.base}/ai/generate-image-stream`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer nai-test-key' },
    body: JSON.stringify({ input: 'x', parameters: { width: 64, height: 64, sampler: 'k_dpmpp_sde' } }),
  });
  assert.equal(res.status, 400);
  const body = await res.json();
  assert.equal(body.statusCode, 400);
  assert.match(body.message, /parameters\.sampler/);
  const unauthorized = await fetch(`${server.base}/ai/generate-image`, { method: 'POST', body: '{}' });
  assert.equal(unauthorized.status, 401);
  assert.equal((await unauthorized.json()).statusCode, 401);
});
