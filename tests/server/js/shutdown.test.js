// SIGTERM ends every open stream with a terminal event (cancelled, reason "shutdown") and the server
// exits 0.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import WebSocket from 'ws';

import { collectEvents } from './lib/event_source.js';
import { longRequest, requestJson, startServer } from './lib/server.js';

test('SIGTERM during a long job: SSE and WebSocket clients get cancelled, then the process exits 0', async () => {
  const server = await startServer();
  try {
    const { body: job } = await requestJson(server.base, 'POST', '/v1/jobs', longRequest());
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/v1/ws`);
    const wsEvents = [];
    const wsClosed = new Promise((resolve) => ws.on('close', resolve));
    const wsStarted = new Promise((resolve, reject) => {
      ws.on('message', (data, isBinary) => {
        if (isBinary) return;
        const message = JSON.parse(data.toString());
        wsEvents.push(message);
        if (message.event === 'progress') resolve();
      });
      ws.on('close', () => reject(new Error(`the WebSocket closed before any progress; stderr:\n${server.stderr()}`)));
    });
    await new Promise((resolve) => ws.on('open', resolve));
    ws.send(JSON.stringify({ type: 'subscribe', job_id: job.id }));
    await wsStarted;

    let sigterm;
    const sse = collectEvents(server.base + job.events_url, {
      stopAfter: (events) => {
        if (!sigterm && events.filter((e) => e.name === 'progress').length >= 3) {
          sigterm = Date.now();
          server.proc.kill('SIGTERM');
        }
        return false;
      },
      timeoutMs: 10000,
    });

    const { events } = await sse;
    const terminal = events.at(-1);
    assert.equal(terminal.name, 'cancelled', `the stream ended with ${terminal.name}`);
    assert.equal(terminal.data.reason, 'shutdown');
    assert.ok(Date.now() - sigterm < 8000, 'the cancelled event came within 8 s of SIGTERM');

    const { code, signal } = await server.stop(10000);
    assert.equal(signal, null);
    assert.equal(code, 0, `darkroom exited with ${code}; stderr:\n${server.stderr()}`);
    const exitedAfter = Date.now() - sigterm;

    const wsCloseCode = await wsClosed;
    const wsTerminal = wsEvents.filter((m) => m.type === 'event' && m.job_id === job.id).at(-1);
    assert.equal(wsTerminal?.event, 'cancelled', 'the WebSocket subscriber got the terminal event before the close');
    assert.equal(wsTerminal.reason, 'shutdown');
    assert.ok([1000, 1001].includes(wsCloseCode), `the server closed the WebSocket with a close frame, got code ${wsCloseCode}`);
    assert.ok(exitedAfter < 9000, `exited ${exitedAfter} ms after SIGTERM, once its streams had their terminal events`);
  } finally {
    if (server.proc.exitCode === null) server.proc.kill('SIGKILL');
  }
});
