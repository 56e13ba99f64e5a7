// Cancelling with DELETE /v1/jobs/{id} (queued and running jobs), and what happens to a streamed job when
// its client goes away: it survives the --disconnect-grace window (2 s here), then is cancelled; with
// "cancel_on_disconnect": true it is cancelled at once.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { collectEvents } from './lib/event_source.js';
import { longRequest, metric, requestJson, serverPerFile, sleep, sseRecords, tinyRequest, waitFor, waitForJob } from './lib/server.js';

const server = serverPerFile(['--workers', '1']);

const submit = async (fields) => {
  const { res, body } = await requestJson(server.base, 'POST', '/v1/jobs', tinyRequest(fields));
  assert.equal(res.status, 202, JSON.stringify(body));
  return body;
};
const cancel = (id) => requestJson(server.base, 'DELETE', `/v1/jobs/${id}`);

test('DELETE a queued job, then the running one: both streams end with cancelled', async () => {
  const running = await submit(longRequest());
  const queued = await submit({ steps: 4 });
  await waitForJob(server.base, running.id, (s) => s.state === 'running' && s.progress?.step >= 1);
  const { body: waiting } = await requestJson(server.base, 'GET', queued.status_url);
  assert.equal(waiting.state, 'queued');
  assert.equal(waiting.position, 1);

  const runningStream = collectEvents(server.base + running.events_url);
  const queuedStream = collectEvents(server.base + queued.events_url);
  // Both streams connected (the running one streaming, the queued one idle) before anything is cancelled.
  await waitFor(async () => (await metric(server.base, 'darkroom_streams_connected')) === 2, 10000,
    'both event streams to be connected (darkroom_streams_connected 2)');

  const deleted = await cancel(queued.id);
  assert.equal(deleted.res.status, 202);
  assert.equal(deleted.body.id, queued.id);
  const queuedEvents = (await queuedStream).events;
  assert.deepEqual(queuedEvents.map((e) => e.name), ['queued', 'cancelled']);
  assert.equal(queuedEvents.at(-1).data.reason, 'requested');
  assert.equal((await waitForJob(server.base, queued.id, (s) => s.state !== 'queued')).state, 'cancelled');

  const sent = Date.now();
  assert.equal((await cancel(running.id)).res.status, 202);
  const runningEvents = (await runningStream).events;
  assert.ok(Date.now() - sent < 5000, 'the running job stopped within 5 s (one step, on a loaded host)');
  assert.equal(runningEvents.at(-1).name, 'cancelled');
  assert.ok(runningEvents.some((e) => e.name === 'progress'));
  assert.ok(!runningEvents.some((e) => e.name === 'completed'));
  const status = await waitForJob(server.base, running.id, (s) => s.state !== 'running');
  assert.equal(status.state, 'cancelled');
  assert.equal(status.cancel_reason, 'requested');

  // A finished job: 200 and its state, unchanged.
  const again = await cancel(running.id);
  assert.equal(again.res.status, 200);
  assert.equal(again.body.state, 'cancelled');
  assert.equal((await cancel('no-such-job')).res.status, 404);
});

// POST /v1/generate of a long job as SSE; reads until `events` events arrived, then drops the connection.
async function streamThenDrop(fields, events) {
  const controller = new AbortController();
  const res = await fetch(`${server.base}/v1/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(longRequest(fields)),
    signal: controller.signal,
  });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/event-stream/);
  const jobId = res.headers.get('x-darkroom-job-id');
  const seen = [];
  for await (const record of sseRecords(res)) {
    if (record.event) seen.push(record.event);
    if (seen.length >= events) break;
  }
  controller.abort();
  assert.ok(seen.includes('started'));
  return jobId;
}

test('a dropped stream: the job survives the grace period, a resume extends it, then it is cancelled', async () => {
  const jobId = await streamThenDrop({}, 6);
  const dropped = Date.now();
  // A measurement of time, not a wait for a condition: 500 ms after the drop, the job must still run.
  await sleep(500);
  assert.equal((await requestJson(server.base, 'GET', `/v1/jobs/${jobId}`)).body.state, 'running', 'still running after the drop');

  // A client comes back within the grace period and watches for 2.5 s: the job keeps running throughout.
  // A measurement of time too: the client comes back 1 s after the drop, halfway through the 2 s grace.
  await sleep(500);
  const watcher = collectEvents(`${server.base}/v1/jobs/${jobId}/events?after=0`, { stopAfter: () => Date.now() - dropped > 3500 });
  const watched = await watcher;
  assert.ok(watched.events.some((e) => e.name === 'progress'));
  assert.equal((await requestJson(server.base, 'GET', `/v1/jobs/${jobId}`)).body.state, 'running', 'a watcher kept it alive');

  // Nobody watches any more: cancelled once the grace period (2 s) has passed, not before.
  const left = Date.now();
  // A measurement of time, not a wait for a condition: 1 s into the 2 s grace, the job must still run.
  await sleep(1000);
  assert.equal((await requestJson(server.base, 'GET', `/v1/jobs/${jobId}`)).body.state, 'running');
  const status = await waitForJob(server.base, jobId, (s) => s.state !== 'running', 5000);
  assert.equal(status.state, 'cancelled');
  const waited = Date.now() - left;
  assert.ok(waited >= 1800 && waited < 8000, `cancelled ${waited} ms after the last client left`);
});

test('"cancel_on_disconnect": true cancels as soon as the client leaves', async () => {
  const jobId = await streamThenDrop({ cancel_on_disconnect: true }, 6);
  const dropped = Date.now();
  const status = await waitForJob(server.base, jobId, (s) => s.state !== 'running', 3000);
  assert.equal(status.state, 'cancelled');
  assert.ok(Date.now() - dropped < 5000, 'cancelled within 5 s of the disconnect (at once, but a loaded host is slow)');
});
