// Server-Sent Events with a real EventSource client: a job's whole stream, resume with Last-Event-ID and
// ?after=N, and EventSource's own reconnection after the connection drops mid-stream.
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';

import { collectEvents } from './lib/event_source.js';
import { assertSteps, isJpeg, isPng, pngInfo, requestJson, serverPerFile, tinyRequest } from './lib/server.js';

const server = serverPerFile();

const submit = async (fields) => {
  const { res, body } = await requestJson(server.base, 'POST', '/v1/jobs', tinyRequest(fields));
  assert.equal(res.status, 202, JSON.stringify(body));
  return body;
};
const withoutPreviews = (events) => events.filter((e) => e.name !== 'preview');
const ids = (events) => events.map((e) => Number(e.id));
const assertIncreasing = (values) => values.forEach((v, i) => i && assert.ok(v > values[i - 1], `ids not increasing: ${values}`));

test('POST /v1/jobs then EventSource on events_url: every step, previews, completed, image', async () => {
  const steps = 12;
  const job = await submit({ steps, preview: { method: 'latent2rgb', every_n_steps: 1 } });
  // The state when the answer was made: an idle worker may already have taken the job.
  assert.ok(['queued', 'running'].includes(job.state), job.state);
  assert.equal(job.status_url, `/v1/jobs/${job.id}`);
  assert.equal(job.events_url, `/v1/jobs/${job.id}/events`);
  assert.equal(job.preview_url, `/v1/jobs/${job.id}/preview`);
  assert.equal(job.cancel_url, job.status_url);

  const { events, errors } = await collectEvents(server.base + job.events_url);
  assert.equal(errors, 0);
  const names = events.map((e) => e.name);
  assert.equal(names[0], 'queued');
  assert.equal(names[1], 'started');
  assert.ok(names.includes('phase'));
  assert.equal(names.at(-1), 'completed');
  for (const e of events) {
    assert.equal(e.data.type, e.name);
    assert.equal(e.data.job_id, job.id);
    assert.equal(Number(e.id), e.data.seq, 'the SSE id is the event seq');
  }
  assertIncreasing(ids(events));
  assertSteps(assert, events.filter((e) => e.name === 'progress').map((e) => e.data), steps);

  const previews = events.filter((e) => e.name === 'preview').map((e) => e.data);
  assert.ok(previews.length >= 1, 'at least the newest preview is replayed');
  for (const p of previews) {
    assert.equal(p.method, 'latent2rgb');
    assert.equal(p.content_type, 'image/jpeg');
    assert.ok(p.step >= 1 && p.step <= steps);
    assert.ok(isJpeg(Buffer.from(p.image, 'base64')), 'preview image is base64 JPEG');
  }

  const done = events.at(-1).data;
  assert.equal(done.seed, 42);
  assert.equal(done.images.length, 1);
  assert.deepEqual(done.images[0], { index: 0, url: `/v1/jobs/${job.id}/images/0`, width: 64, height: 64, content_type: 'image/png' });
  const image = await fetch(server.base + done.images[0].url);
  assert.equal(image.status, 200);
  assert.equal(image.headers.get('content-type'), 'image/png');
  const png = new Uint8Array(await image.arrayBuffer());
  assert.ok(isPng(png));
  const info = pngInfo(png);
  assert.deepEqual([info.width, info.height], [64, 64]);
  assert.match(info.text.parameters, /a red fox in the snow/);
  assert.match(info.text.parameters, /Seed: 42/);

  const { body: status } = await requestJson(server.base, 'GET', job.status_url);
  assert.equal(status.state, 'completed');
  assert.equal(status.seed, 42);
  assert.equal(status.last_seq, Number(events.at(-1).id));
  assert.deepEqual(status.images, [done.images[0].url]);
  assert.equal(status.progress.step, steps);

  const preview = await fetch(server.base + job.preview_url);
  assert.equal(preview.status, 200);
  assert.equal(preview.headers.get('content-type'), 'image/jpeg');
  assert.equal(Number(preview.headers.get('x-darkroom-preview-step')), previews.at(-1).step);
  assert.ok(isJpeg(new Uint8Array(await preview.arrayBuffer())));
});

test('resume: Last-Event-ID continues where the first stream stopped; ?after=0 replays a finished job', async () => {
  const steps = 60;
  const job = await submit({ steps, preview: { method: 'latent2rgb', every_n_steps: 1 } });
  const url = server.base + job.events_url;
  const first = await collectEvents(url, { stopAfter: (events) => events.length >= 15 });
  assert.ok(!first.events.some((e) => e.name === 'completed'), 'the first stream stopped before the end (job too fast?)');
  const lastId = first.events.at(-1).id;

  const second = await collectEvents(url, { headers: { 'Last-Event-ID': lastId } });
  assert.ok(Number(second.events[0].id) > Number(lastId), 'the resumed stream starts after Last-Event-ID');
  const union = [...first.events, ...second.events];
  assertIncreasing(ids(union));
  const live = withoutPreviews(union);
  assert.deepEqual(live.slice(0, 2).map((e) => e.name), ['queued', 'started']);
  assertSteps(assert, live.filter((e) => e.name === 'progress').map((e) => e.data), steps);
  assert.equal(live.at(-1).name, 'completed');
  assert.equal(live.filter((e) => e.name === 'completed').length, 1);

  // The finished job's log: every non-preview event again, and only the newest preview.
  const replay = await collectEvents(`${url}?after=0`);
  assert.deepEqual(withoutPreviews(replay.events).map((e) => [e.id, e.name]), live.map((e) => [e.id, e.name]));
  const replayedPreviews = replay.events.filter((e) => e.name === 'preview');
  assert.equal(replayedPreviews.length, 1, 'a log keeps only the newest preview');
  assert.ok(isJpeg(Buffer.from(replayedPreviews[0].data.image, 'base64')));

  // From the middle: exactly the events after the cursor.
  const middle = Number(live[live.length >> 1].id);
  const tail = await collectEvents(`${url}?after=${middle}`);
  assert.deepEqual(withoutPreviews(tail.events).map((e) => e.id), live.filter((e) => Number(e.id) > middle).map((e) => e.id));

  // The header wins over the query.
  const both = await collectEvents(`${url}?after=0`, { headers: { 'Last-Event-ID': String(middle) } });
  assert.ok(Number(both.events[0].id) > middle);
});

test('limits raised by the operator (--max-batch 20) hold for the job, not only for the request check', async () => {
  const job = await submit({ steps: 1, batch: 17 });
  const { events } = await collectEvents(server.base + job.events_url);
  const terminal = events.at(-1);
  assert.equal(terminal.name, 'completed', JSON.stringify(terminal.data));
  assert.equal(terminal.data.images.length, 17);
});

test('an invalid resume cursor is a 400 naming "after"', async () => {
  const job = await submit({ steps: 2 });
  for (const [query, headers] of [['?after=abc', {}], ['?after=-1', {}], ['', { 'Last-Event-ID': 'x7' }]]) {
    const { res, body } = await requestJson(server.base, 'GET', `${job.events_url}${query}`, undefined, headers);
    assert.equal(res.status, 400, `${query} ${JSON.stringify(headers)}`);
    assert.equal(body.error.code, 'invalid_request');
    assert.equal(body.error.field, 'after');
  }
});

// A TCP proxy in front of the server that cuts the first connection once `cutAfter` bytes came back, so
// EventSource sees its stream drop mid-event and reconnects by itself (after the server's retry: 3000).
async function startCuttingProxy(port, cutAfter) {
  const requests = [];
  const proxy = net.createServer((client) => {
    const connection = requests.length;
    requests.push('');
    const upstream = net.connect(port, '127.0.0.1');
    let received = 0;
    client.on('data', (chunk) => { requests[connection] += chunk.toString('latin1'); upstream.write(chunk); });
    upstream.on('data', (chunk) => {
      received += chunk.length;
      if (connection === 0 && received >= cutAfter) {
        client.write(chunk.subarray(0, chunk.length - Math.max(0, received - cutAfter)));
        client.destroy();
        upstream.destroy();
        return;
      }
      client.write(chunk);
    });
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  proxy.listen(0, '127.0.0.1');
  await new Promise((resolve) => proxy.on('listening', resolve));
  return { proxy, requests, port: proxy.address().port };
}

test('EventSource reconnects by itself after the connection drops and resumes without loss', async () => {
  const steps = 60;
  const job = await submit({ steps });
  const { proxy, requests, port } = await startCuttingProxy(server.port, 3000);
  try {
    const { events, errors } = await collectEvents(`http://127.0.0.1:${port}${job.events_url}`, { timeoutMs: 20000 });
    assert.ok(errors >= 1, 'the drop was seen as an error (reconnection)');
    assert.ok(requests.length >= 2, 'EventSource opened a second connection');
    const resumedFrom = /last-event-id: *(\d+)/i.exec(requests[1]);
    assert.ok(resumedFrom, `the reconnection sent Last-Event-ID:\n${requests[1]}`);
    const beforeCut = events.filter((e) => Number(e.id) <= Number(resumedFrom[1]));
    assert.ok(beforeCut.length >= 3, 'some events arrived before the cut');
    assert.equal(beforeCut.at(-1).id, resumedFrom[1], 'Last-Event-ID is the last event delivered');
    assertIncreasing(ids(events));
    assertSteps(assert, events.filter((e) => e.name === 'progress').map((e) => e.data), steps);
    assert.equal(events.at(-1).name, 'completed');
  } finally {
    proxy.close();
  }
});
