// The WebSocket API with the ws client: submit, JSON events, ComfyUI-style binary preview frames (type 4
// with metadata, type 1 without), cancel, and subscribe from a sequence number.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';

import WebSocket from 'ws';

import { assertSteps, isJpeg, longRequest, serverPerFile, TERMINAL, tinyRequest } from './lib/server.js';

const server = serverPerFile(['--workers', '2']);

// A connected client that records every message: text as parsed JSON, binary frames as Buffers.
async function connect() {
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/v1/ws`);
  const messages = [];
  const waiters = [];
  ws.on('message', (data, isBinary) => {
    messages.push(isBinary ? { binary: Buffer.from(data) } : JSON.parse(data.toString()));
    for (const waiter of [...waiters]) waiter();
  });
  await once(ws, 'open');
  // Resolves with the first message (from index `from` on) that matches; rejects after timeoutMs.
  const waitFor = (match, { from = 0, timeoutMs = 20000 } = {}) => new Promise((resolve, reject) => {
    const check = () => {
      const found = messages.slice(from).find((m) => !m.binary && match(m));
      if (!found) return false;
      waiters.splice(waiters.indexOf(check), 1);
      clearTimeout(timer);
      resolve(found);
      return true;
    };
    const timer = setTimeout(() => {
      waiters.splice(waiters.indexOf(check), 1);
      reject(new Error(`no matching message within ${timeoutMs} ms; got ${JSON.stringify(messages.filter((m) => !m.binary))}`));
    }, timeoutMs);
    waiters.push(check);
    check();
  });
  const send = (message) => ws.send(JSON.stringify(message));
  return { ws, messages, waitFor, send };
}

const isTerminalOf = (jobId) => (m) => m.type === 'event' && m.job_id === jobId && TERMINAL.has(m.event);
const steps = 8;
const previewRequest = tinyRequest({ steps, preview: { method: 'latent2rgb', every_n_steps: 1 } });

// [u32 type][u32 meta length][meta JSON][image] or [u32 1][u32 format][image].
function parsePreviewFrame(frame) {
  const type = frame.readUInt32BE(0);
  if (type === 4) {
    const length = frame.readUInt32BE(4);
    return { type, meta: JSON.parse(frame.subarray(8, 8 + length).toString('utf8')), image: frame.subarray(8 + length) };
  }
  return { type, format: frame.readUInt32BE(4), image: frame.subarray(8) };
}

let finishedJob;  // {id, events} of the first test's job, for the subscribe test

test('submit with preview metadata: submitted, events in order, type-4 binary previews, completed', async () => {
  const client = await connect();
  try {
    client.send({ type: 'feature_flags', data: { supports_preview_metadata: true } });
    client.send({ type: 'submit', request: previewRequest, request_id: 'r1' });
    const submitted = await client.waitFor((m) => m.type === 'submitted');
    assert.equal(submitted.request_id, 'r1');
    const jobId = submitted.job_id;
    await client.waitFor(isTerminalOf(jobId));
    assert.equal(client.messages[0].type, 'submitted', 'submitted comes before the job\'s events');

    const events = client.messages.filter((m) => m.type === 'event');
    assert.ok(events.every((e) => e.job_id === jobId));
    assert.ok(events.every((e) => e.event !== 'preview'), 'previews travel as binary frames only');
    events.forEach((e, i) => i && assert.ok(e.seq > events[i - 1].seq));
    assert.deepEqual(events.slice(0, 2).map((e) => e.event), ['queued', 'started']);
    assertSteps(assert, events.filter((e) => e.event === 'progress'), steps);
    const done = events.at(-1);
    assert.equal(done.event, 'completed');
    assert.equal(done.images[0].url, `/v1/jobs/${jobId}/images/0`);

    const frames = client.messages.filter((m) => m.binary).map((m) => parsePreviewFrame(m.binary));
    assert.ok(frames.length >= 1, 'binary preview frames arrived');
    for (const f of frames) {
      assert.equal(f.type, 4);
      assert.equal(f.meta.job_id, jobId);
      assert.ok(f.meta.step >= 1 && f.meta.step <= steps);
      assert.equal(f.meta.total, steps);
      assert.equal(f.meta.content_type, 'image/jpeg');
      assert.equal(typeof f.meta.seq, 'number');
      assert.ok(isJpeg(f.image));
    }
    // Previews sit between the events of their seq.
    const seqs = frames.map((f) => f.meta.seq);
    seqs.forEach((s, i) => i && assert.ok(s > seqs[i - 1]));
    assert.ok(seqs.every((s) => s < done.seq));
    finishedJob = { id: jobId, events };
  } finally {
    client.ws.close();
  }
});

test('a client without the metadata flag gets type-1 frames [1][1 = JPEG][bytes]', async () => {
  const client = await connect();
  try {
    client.send({ type: 'submit', request: previewRequest });
    const { job_id: jobId } = await client.waitFor((m) => m.type === 'submitted');
    await client.waitFor(isTerminalOf(jobId));
    const frames = client.messages.filter((m) => m.binary).map((m) => parsePreviewFrame(m.binary));
    assert.ok(frames.length >= 1);
    for (const f of frames) {
      assert.equal(f.type, 1);
      assert.equal(f.format, 1);
      assert.ok(isJpeg(f.image));
    }
  } finally {
    client.ws.close();
  }
});

test('cancel a running job over the socket: a cancelled event arrives', async () => {
  const client = await connect();
  try {
    client.send({ type: 'submit', request: longRequest() });
    const { job_id: jobId } = await client.waitFor((m) => m.type === 'submitted');
    await client.waitFor((m) => m.type === 'event' && m.event === 'progress' && m.step >= 2);
    const sent = Date.now();
    client.send({ type: 'cancel', job_id: jobId });
    const terminal = await client.waitFor(isTerminalOf(jobId), { timeoutMs: 5000 });
    assert.equal(terminal.event, 'cancelled');
    assert.equal(terminal.reason, 'requested');
    assert.ok(Date.now() - sent < 5000, 'cancelled within 5 s');
    assert.ok(client.messages.some((m) => m.type === 'cancelling' && m.job_id === jobId));
  } finally {
    client.ws.close();
  }
});

test('subscribe to a finished job from a sequence number replays the rest of its log', async () => {
  assert.ok(finishedJob, 'needs the first test\'s job');
  const client = await connect();
  try {
    const from = finishedJob.events[4].seq;
    client.send({ type: 'subscribe', job_id: finishedJob.id, after: from });
    await client.waitFor(isTerminalOf(finishedJob.id));
    const replayed = client.messages.filter((m) => m.type === 'event');
    const expected = finishedJob.events.filter((e) => e.seq > from);
    assert.deepEqual(replayed.map((e) => [e.seq, e.event]), expected.map((e) => [e.seq, e.event]));

    client.send({ type: 'subscribe', job_id: 'no-such-job' });
    const error = await client.waitFor((m) => m.type === 'error');
    assert.equal(error.field, 'job_id');
  } finally {
    client.ws.close();
  }
});

test('an invalid submit answers an error naming the field, and the socket stays usable', async () => {
  const client = await connect();
  try {
    client.send({ type: 'submit', request: tinyRequest({ stpes: 3 }), request_id: 7 });
    const error = await client.waitFor((m) => m.type === 'error');
    assert.equal(error.code, 'invalid_request');
    assert.equal(error.request_id, 7);
    assert.match(error.message, /stpes/);
    client.send({ type: 'submit', request: tinyRequest({ steps: 2 }) });
    const { job_id: jobId } = await client.waitFor((m) => m.type === 'submitted');
    assert.equal((await client.waitFor(isTerminalOf(jobId))).event, 'completed');
  } finally {
    client.ws.close();
  }
});
