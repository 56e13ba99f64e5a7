// fal's API with fal's own client (@fal-ai/client), unmodified, pointed at darkroom by one requestMiddleware
// that rewrites fal's two hosts: stream (previews, then the result as the last event, which done() resolves
// with), run, subscribe (polling and streaming status), the queue's status, result and cancel (queued and
// running), and validation errors as the client's ValidationError. fal's clients send the key as
// "Authorization: Key ...".
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ApiError, ValidationError, createFalClient } from '@fal-ai/client';

import { isJpeg, isPng, serverPerFile, waitFor } from './lib/server.js';

const server = serverPerFile(['--workers', '1', '--api-key', 'fal-key']);
const fal = () => createFalClient({
  credentials: 'fal-key',
  requestMiddleware: async (request) => ({
    ...request,
    url: request.url.replace('https://queue.fal.run', `${server.base}/fal/queue`).replace('https://fal.run', `${server.base}/fal/run`),
  }),
});
const app = 'darkroom/sd1_tiny';
const input = (fields = {}) => ({ prompt: 'a red fox in the snow', image_size: { width: 64, height: 64 }, num_inference_steps: 10, seed: 42, ...fields });
const long = () => input({ image_size: { width: 192, height: 192 }, num_inference_steps: 200 });
const dataUri = (url, type) => {
  assert.ok(url.startsWith(`data:${type};base64,`), url.slice(0, 40));
  return Buffer.from(url.slice(url.indexOf(',') + 1), 'base64');
};

test('stream: previews every N steps, then the whole result, which done() resolves with', async () => {
  const stream = await fal().stream(app, { input: input({ preview_every: 2 }) });
  const done = stream.done();
  done.catch(() => {});  // iteration may end first; the rejection, if any, is checked below
  const events = [];
  for await (const event of stream) events.push(event);
  const result = await done;
  const previews = events.slice(0, -1);
  assert.ok(previews.length >= 3, `previews: ${previews.length}`);
  for (const preview of previews) {
    assert.equal(preview.image.content_type, 'image/jpeg');
    assert.ok(isJpeg(dataUri(preview.image.url, 'image/jpeg')));
  }
  assert.deepEqual(result, events.at(-1));
  assert.equal(result.seed, 42);
  assert.equal(result.prompt, 'a red fox in the snow');
  assert.deepEqual(result.has_nsfw_concepts, [false]);
  assert.equal(result.images.length, 1);
  assert.deepEqual(result.image, result.images[0]);
  const { url, width, height, content_type } = result.images[0];
  assert.deepEqual([width, height, content_type], [64, 64, 'image/jpeg']);
  const image = await fetch(url, { headers: { authorization: 'Key fal-key' } });  // a link to the server
  assert.equal(image.headers.get('content-type'), 'image/jpeg');
  assert.ok(isJpeg(new Uint8Array(await image.arrayBuffer())));
});

test('run: the result in one answer, images inline with sync_mode', async () => {
  const { data, requestId } = await fal().run(app, { input: input({ sync_mode: true, output_format: 'png', num_images: 2 }) });
  assert.match(requestId, /^[0-9a-f]{32}$/);
  assert.equal(data.images.length, 2);
  for (const image of data.images) {
    assert.equal(image.content_type, 'image/png');
    assert.ok(isPng(dataUri(image.url, 'image/png')));
  }
  assert.ok(data.timings.inference > 0);
});

test('subscribe: polling and streaming status, with logs, to the result', async () => {
  for (const mode of ['polling', 'streaming']) {
    const updates = [];
    const { data } = await fal().subscribe(app, { input: input(), mode, pollInterval: 100, logs: true, onQueueUpdate: (u) => updates.push(u) });
    assert.equal(data.images.length, 1, mode);
    assert.equal(updates.at(-1).status, 'COMPLETED', mode);
    assert.ok(updates.at(-1).metrics.inference_time > 0);
    const logs = updates.flatMap((u) => u.logs ?? []).map((l) => l.message);
    assert.ok(logs.includes('step 10/10'), `${mode} logs: ${logs}`);
  }
});

test('queue: status while queued and running, cancel both, result then answers the error', async () => {
  const client = fal();
  const running = await client.queue.submit(app, { input: long() });
  const queued = await client.queue.submit(app, { input: input() });
  await waitFor(async () => (await client.queue.status(app, { requestId: running.request_id })).status === 'IN_PROGRESS', 20000, 'the first request to run');
  const waiting = await client.queue.status(app, { requestId: queued.request_id });
  assert.equal(waiting.status, 'IN_QUEUE');
  assert.equal(waiting.queue_position, 0);

  for (const { request_id } of [queued, running]) {
    await client.queue.cancel(app, { requestId: request_id });
    const status = await waitFor(async () => {
      const s = await client.queue.status(app, { requestId: request_id });
      return s.status === 'COMPLETED' && s;
    }, 20000, 'the cancelled request to complete');
    assert.match(status.error, /cancelled/);
    await assert.rejects(client.queue.result(app, { requestId: request_id }), (error) => error instanceof ApiError && /cancelled/.test(error.message));
  }
  await assert.rejects(client.queue.status(app, { requestId: 'f'.repeat(32) }), (error) => error instanceof ApiError && error.status === 404);
});

test('bad input: a ValidationError naming the field', async () => {
  await assert.rejects(fal().run(app, { input: input({ num_inference_steps: 5000 }) }), (error) => {
    assert.ok(error instanceof ValidationError, String(error));
    assert.deepEqual(error.fieldErrors[0].loc, ['body', 'num_inference_steps']);
    return true;
  });
  await assert.rejects(fal().run('darkroom/no-such-model', { input: input() }),
    (error) => error instanceof ApiError && error.status === 404 && /no-such-model/.test(error.message));
});
