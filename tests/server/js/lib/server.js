// Shared helpers of the end-to-end tests: start `darkroom serve` on a free port with the golden tiny model,
// stop it with SIGTERM, send JSON requests, and read raw streams (SSE records, msgpack frames).
// ctest sets DARKROOM_BIN (the darkroom executable) and DARKROOM_GOLDEN_DIR (the reference data).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const goldenDir = process.env.DARKROOM_GOLDEN_DIR ?? path.resolve(here, '../../../../../shared/golden');

// The golden checkpoints as a user keeps them: each linked into a temporary folder beside its model config
// (tests/data/golden_models/NAME.json, the heads no tensor records), as the C++ tests see them.
let modelsDir;
export function goldenModelsDir() {
  if (modelsDir) return modelsDir;
  modelsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'darkroom-golden-models-'));
  const configs = path.resolve(here, '../../../data/golden_models');
  for (const name of ['sd1_tiny', 'sdxl_tiny']) {
    fs.symlinkSync(path.resolve(goldenDir, 'checkpoints', `${name}.safetensors`), path.join(modelsDir, `${name}.safetensors`));
    fs.copyFileSync(path.join(configs, `${name}.json`), path.join(modelsDir, `${name}.json`));
  }
  // Listed but not loadable: the SD1 file without the config its heads need.
  fs.symlinkSync(path.resolve(goldenDir, 'checkpoints', 'sd1_tiny.safetensors'), path.join(modelsDir, 'sd1_tiny_unconfigured.safetensors'));
  process.on('exit', () => fs.rmSync(modelsDir, { recursive: true, force: true }));
  return modelsDir;
}

// 64x64 images of the golden tiny SD1 model take some 10-20 ms per step.
export const tinyRequest = (fields = {}) => ({ prompt: 'a red fox in the snow', width: 64, height: 64, seed: 42, ...fields });
// A job that runs for many seconds (200 steps of 192x192): the tests cancel it, or the server's SIGTERM does.
export const longRequest = (fields = {}) => tinyRequest({ width: 192, height: 192, steps: 200, ...fields });

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export const isJpeg = (bytes) => bytes.length > 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
export const isPng = (bytes) =>
  bytes.length > 8 && Buffer.from(bytes.subarray(0, 8)).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));

// Width and height from a PNG's IHDR chunk, and the keywords of its tEXt chunks.
export function pngInfo(bytes) {
  const buf = Buffer.from(bytes);
  const info = { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20), text: {} };
  for (let at = 8; at + 8 <= buf.length; ) {
    const length = buf.readUInt32BE(at);
    const type = buf.toString('latin1', at + 4, at + 8);
    if (type === 'tEXt') {
      const body = buf.subarray(at + 8, at + 8 + length);
      const nul = body.indexOf(0);
      info.text[body.toString('latin1', 0, nul)] = body.toString('latin1', nul + 1);
    }
    at += 12 + length;
  }
  return info;
}

// Starts the server on the golden models; resolves once it printed its port. extraArgs are appended (e.g. ['--workers', '1']).
// One generation thread: test servers share the machine with each other and with builds, and libtorch's
// OpenMP threads slow down by orders of magnitude when the cores are oversubscribed.
export function startServer(extraArgs = []) {
  return startDarkroom(['--models-dir', goldenModelsDir(), '--default-model', 'sd1_tiny',
    '--vocab', path.join(goldenDir, 'clip', 'bpe_simple_vocab_16e6.txt.gz'), '--heartbeat', '1',
    '--disconnect-grace', '2', '--job-ttl', '60', '--max-batch', '20', ...extraArgs]);
}

// `darkroom serve` with exactly these options (and a free port, one generation thread): without
// --models-dir, on the embedded default model.
export async function startDarkroom(serveArgs) {
  const bin = process.env.DARKROOM_BIN;
  if (!bin) throw new Error('DARKROOM_BIN is not set: point it at the darkroom executable (ctest sets it)');
  const args = ['serve', '--port', '0', '--threads', '1', ...serveArgs];
  const proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stderr.on('data', (chunk) => { stderr += chunk; });
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve([code, signal])));
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`darkroom serve printed no port within 30 s; stderr:\n${stderr}`)), 30000);
    proc.stdout.on('data', (chunk) => {
      stdout += chunk;
      const match = /darkroom serving on http:\/\/[^:\s]+:(\d+)/.exec(stdout);
      if (match) { clearTimeout(timer); resolve(Number(match[1])); }
    });
    proc.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot run darkroom (DARKROOM_BIN=${bin}): ${error.message}`));
    });
    proc.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`darkroom serve exited (code ${code}, signal ${signal}) before listening; stderr:\n${stderr}`));
    });
  });
  const base = `http://127.0.0.1:${port}`;
  return {
    proc, port, base,
    stderr: () => stderr,
    // SIGTERM (unless already sent), then the exit code and signal (rejects when it takes longer than timeoutMs).
    async stop(timeoutMs = 10000) {
      if (proc.exitCode === null && proc.signalCode === null && !proc.killed) proc.kill('SIGTERM');
      let timer;
      const deadline = new Promise((_, reject) => {
        timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`darkroom did not exit within ${timeoutMs} ms of SIGTERM`)); }, timeoutMs);
      });
      try {
        const [code, signal] = await Promise.race([exited, deadline]);
        return { code, signal };
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

// One server for a test file: started before its tests (then `setup(server)` runs: root-level before
// hooks of node:test may run concurrently, so a file's setup goes here), stopped after them with SIGTERM,
// which must end the process with exit code 0. Returns the server's handle (filled in once started).
export function serverPerFile(extraArgs = [], setup = async () => {}) {
  const server = {};
  before(async () => {
    Object.assign(server, await startServer(extraArgs));
    await setup(server);
  });
  after(async () => {
    if (!server.stop) return;
    const { code, signal } = await server.stop();
    assert.equal(signal, null, `darkroom ended by ${signal}; stderr:\n${server.stderr()}`);
    assert.equal(code, 0, `darkroom exited with ${code}; stderr:\n${server.stderr()}`);
  });
  return server;
}

// fetch with a JSON body; resolves to { res, body } where body is the parsed JSON (or null).
export async function requestJson(base, method, url, json, headers = {}) {
  const res = await fetch(base + url, {
    method,
    headers: json === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: json === undefined ? undefined : JSON.stringify(json),
  });
  const text = await res.text();
  return { res, body: text ? JSON.parse(text) : null };
}

// Waiting for a condition with a deadline, instead of sleeping a guessed time before acting: polls the async
// predicate every 50 ms until it returns something truthy, and resolves to that. Throws once timeoutMs has
// passed (the predicate is tried once more at the deadline), naming `what` was awaited; `what` may be a
// function, called then, to describe the last state seen.
export async function waitFor(predicate, timeoutMs = 10000, what = 'a condition') {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await predicate();
    if (value) return value;
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'function' ? what() : what}`);
    }
    await sleep(50);
  }
}

// Polls GET /v1/jobs/{id} until predicate(status) holds; returns that status (throws after timeoutMs).
export async function waitForJob(base, id, predicate, timeoutMs = 10000) {
  let last;
  return waitFor(async () => {
    const { body } = await requestJson(base, 'GET', `/v1/jobs/${id}`);
    last = body;
    return predicate(body) ? body : null;
  }, timeoutMs, () => `job ${id} to reach the expected state; last: ${JSON.stringify(last)}`);
}

// The value of an unlabelled sample in GET /metrics (e.g. darkroom_streams_connected), or NaN when absent.
export async function metric(base, name) {
  const res = await fetch(`${base}/metrics`);
  const text = await res.text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? NaN : Number(line.slice(name.length + 1));
}

export const TERMINAL = new Set(['completed', 'error', 'cancelled']);
export const EVENT_NAMES = ['queued', 'started', 'phase', 'progress', 'preview', 'notice', 'completed', 'error', 'cancelled', 'replay_truncated'];

// Raw SSE records from a fetch Response: yields {comment} for ':' lines, {retry} for retry fields and
// {event, id, data} for dispatched events. Deliberately independent of the eventsource package, for what
// EventSource hides (comments, retry, POST streams).
export async function* sseRecords(res) {
  const decoder = new TextDecoder();
  let buffer = '';
  let record = { data: [] };
  for await (const chunk of res.body) {
    buffer += decoder.decode(chunk, { stream: true });
    let newline;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, newline).replace(/\r$/, '');
      buffer = buffer.slice(newline + 1);
      if (line === '') {
        if (record.data.length || record.event) yield { event: record.event ?? 'message', id: record.id, data: record.data.join('\n') };
        record = { data: [] };
      } else if (line.startsWith(':')) {
        yield { comment: line.slice(1).trim() };
      } else {
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'data') record.data.push(value);
        else if (field === 'event') record.event = value;
        else if (field === 'id') record.id = value;
        else if (field === 'retry') yield { retry: Number(value) };
      }
    }
  }
}

// Splits a msgpack stream body into frames: [u32 big-endian length][msgpack bytes]. Throws on a torn frame.
export function splitFrames(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const frames = [];
  let at = 0;
  while (at < bytes.length) {
    if (at + 4 > bytes.length) throw new Error(`torn frame header at byte ${at} of ${bytes.length}`);
    const length = view.getUint32(at);
    if (at + 4 + length > bytes.length) throw new Error(`frame at byte ${at} claims ${length} bytes, only ${bytes.length - at - 4} left`);
    frames.push(bytes.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  return frames;
}

// Progress steps must be exactly 1..total, once each.
export function assertSteps(assert, progressEvents, total) {
  assert.deepEqual(progressEvents.map((e) => e.step), Array.from({ length: total }, (_, i) => i + 1));
  for (const e of progressEvents) assert.equal(e.total, total);
}
