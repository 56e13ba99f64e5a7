// msgpack streams decoded by an independent decoder (@msgpack/msgpack): length-prefixed frames and binary
// images.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { decode } from '@msgpack/msgpack';

import { assertSteps, isJpeg, isPng, pngInfo, serverPerFile, splitFrames, tinyRequest } from './lib/server.js';

const server = serverPerFile();

// Every frame decoded; heartbeat frames (sent while a stream idles) dropped.
async function readFrames(res) {
  const body = new Uint8Array(await res.arrayBuffer());
  return splitFrames(body).map((frame) => decode(frame)).filter((event) => event.type !== 'heartbeat');
}

const steps = 6;
const generate = (headers, fields = {}) => fetch(`${server.base}/v1/generate`, {
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(tinyRequest({ steps, preview: { method: 'latent2rgb', every_n_steps: 1 }, ...fields })),
});

test('POST /v1/generate with Accept: application/vnd.msgpack streams msgpack frames', async () => {
  const res = await generate({ accept: 'application/vnd.msgpack' });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/vnd.msgpack');
  const jobId = res.headers.get('x-darkroom-job-id');
  assert.ok(jobId);
  const events = await readFrames(res);

  const types = events.map((e) => e.type);
  assert.deepEqual(types.slice(0, 2), ['queued', 'started']);
  assert.equal(types.at(-1), 'completed');
  events.forEach((e, i) => {
    assert.equal(e.job_id, jobId);
    if (i) assert.ok(e.seq > events[i - 1].seq, 'seq increases');
  });
  assertSteps(assert, events.filter((e) => e.type === 'progress'), steps);

  const previews = events.filter((e) => e.type === 'preview');
  assert.ok(previews.length >= 1);
  for (const p of previews) {
    assert.ok(p.image instanceof Uint8Array, 'preview image is msgpack bin, not base64');
    assert.ok(isJpeg(p.image));
    assert.equal(p.content_type, 'image/jpeg');
    assert.equal(typeof p.sigma, 'number');
  }

  const done = events.at(-1);
  assert.equal(done.seed, 42);
  assert.equal(done.images.length, 1);
  const image = done.images[0].image;
  assert.ok(image instanceof Uint8Array && isPng(image), 'final image is PNG bin');
  const info = pngInfo(image);
  assert.deepEqual([info.width, info.height], [64, 64]);
  assert.match(info.text.parameters, /Seed: 42/);

  // The streamed PNG is the one the image URL serves.
  const downloaded = await fetch(server.base + done.images[0].url);
  assert.deepEqual(Buffer.from(await downloaded.arrayBuffer()), Buffer.from(image));

  // Replaying the finished job as msgpack (legacy media type) gives the same non-preview events.
  const replay = await readFrames(await fetch(`${server.base}/v1/jobs/${jobId}/events?after=0`, { headers: { accept: 'application/x-msgpack' } }));
  const summary = (list) => list.filter((e) => e.type !== 'preview').map((e) => [e.seq, e.type, e.step ?? null]);
  assert.deepEqual(summary(replay), summary(events));
});

test('"stream": "msgpack" in the body picks msgpack without an Accept header', async () => {
  const res = await generate({}, { stream: 'msgpack', steps: 2, preview: undefined });
  assert.equal(res.headers.get('content-type'), 'application/vnd.msgpack');
  const events = await readFrames(res);
  assert.equal(events.at(-1).type, 'completed');
  assert.equal(events.filter((e) => e.type === 'preview').length, 0, 'no previews unless asked');
});

test('an invalid request is a JSON 400, not a stream', async () => {
  const res = await generate({ accept: 'application/vnd.msgpack' }, { steps: 0 });
  assert.equal(res.status, 400);
  const body = await res.json();
  assert.equal(body.error.field, 'steps');
});
