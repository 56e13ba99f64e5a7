// A full queue (--workers 1 --max-queue 1): 429 with Retry-After; and the heartbeat comments of an SSE
// stream that idles while its job waits in the queue (--heartbeat 1).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { longRequest, requestJson, serverPerFile, sseRecords, tinyRequest, waitForJob } from './lib/server.js';

// One job running, one queued: the queue is full. SIGTERM at the end cancels both.
let queued;
const server = serverPerFile(['--workers', '1', '--max-queue', '1'], async () => {
  const running = (await requestJson(server.base, 'POST', '/v1/jobs', longRequest())).body;
  await waitForJob(server.base, running.id, (s) => s.state === 'running');
  const second = await requestJson(server.base, 'POST', '/v1/jobs', tinyRequest({ steps: 2 }));
  assert.equal(second.res.status, 202);
  queued = second.body;
});

test('a running job and a full queue: the next POST /v1/jobs is 429 queue_full with Retry-After', async () => {
  const { res, body } = await requestJson(server.base, 'POST', '/v1/jobs', tinyRequest({ steps: 2 }));
  assert.equal(res.status, 429);
  const retryAfter = res.headers.get('retry-after');
  assert.match(retryAfter ?? '', /^\d+$/, `Retry-After is a number of seconds, got ${retryAfter}`);
  assert.ok(Number(retryAfter) >= 1);
  assert.equal(body.error.code, 'queue_full');
  assert.equal(typeof body.error.message, 'string');

  // The streaming endpoint refuses the same way, before any stream starts.
  const generate = await requestJson(server.base, 'POST', '/v1/generate', tinyRequest({ steps: 2 }));
  assert.equal(generate.res.status, 429);
  assert.equal(generate.body.error.code, 'queue_full');

  // The refused requests left the queue as it was.
  assert.equal((await requestJson(server.base, 'GET', queued.status_url)).body.state, 'queued');
});

test('an SSE stream idling on a queued job receives ": keep-alive" comments every --heartbeat seconds', async () => {
  const controller = new AbortController();
  const res = await fetch(server.base + queued.events_url, { signal: controller.signal });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/event-stream/);
  assert.equal(res.headers.get('cache-control'), 'no-cache');
  const records = [];
  const start = Date.now();
  try {
    for await (const record of sseRecords(res)) {
      records.push({ ...record, at: Date.now() - start });
      if (records.filter((r) => r.comment !== undefined).length >= 2) break;
      if (Date.now() - start > 5000) break;
    }
  } finally {
    controller.abort();
  }
  assert.deepEqual(records[0], { retry: 3000, at: records[0].at }, 'the first write is retry: 3000');
  assert.equal(records[1].event, 'queued');
  assert.equal(JSON.parse(records[1].data).position, 1);
  const comments = records.filter((r) => r.comment !== undefined);
  assert.equal(comments.length, 2, `records: ${JSON.stringify(records)}`);
  for (const c of comments) assert.equal(c.comment, 'keep-alive');
  assert.ok(comments[1].at < 6000, `two heartbeats within 6 s (got them at ${comments.map((c) => c.at)} ms)`);
  assert.ok(comments[1].at - comments[0].at > 500, 'heartbeats are spaced by about --heartbeat');
  assert.equal((await requestJson(server.base, 'GET', queued.status_url)).body.state, 'queued');
});
