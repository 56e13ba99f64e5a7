// Out of file descriptors, the server keeps serving the connections it has and backs off its accept
// loop instead of spinning a core on accept() failing with EMFILE; once descriptors free up it accepts
// again. The limit is lowered on the running server with prlimit (util-linux), just above what it uses.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { test } from 'node:test';

import { requestJson, serverPerFile, waitFor } from './lib/server.js';

const server = serverPerFile();

const openFiles = (pid) => fs.readdirSync(`/proc/${pid}/fd`).length;
// utime + stime of a process in seconds (fields 14 and 15 of /proc/PID/stat, in clock ticks of 1/100 s).
const cpuSeconds = (pid) => {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
};

test('EMFILE: the accept loop backs off, and accepts again once a descriptor is free', async () => {
  const pid = server.proc.pid;
  const limit = openFiles(pid) + 8;
  execFileSync('prlimit', ['--pid', String(pid), `--nofile=${limit}:${limit}`]);
  const sockets = [];
  try {
    // More connections than descriptors left: the rest wait in the listen backlog, and accept() fails.
    for (let i = 0; i < 24; ++i) {
      const socket = net.connect(server.port, '127.0.0.1');
      socket.on('error', () => {});
      sockets.push(socket);
    }
    await waitFor(async () => openFiles(pid) >= limit, 10000, `the server to run out of descriptors (limit ${limit})`);
    const before = cpuSeconds(pid);
    const started = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 1500));  // a measurement over time, not a wait for a condition
    const busy = (cpuSeconds(pid) - before) / ((Date.now() - started) / 1000);
    assert.ok(busy < 0.25, `the idle server used ${(busy * 100).toFixed(0)}% of a core while out of descriptors`);
  } finally {
    for (const socket of sockets) socket.destroy();
  }
  // The held connections are gone: the server answers again.
  await waitFor(async () => {
    try {
      return (await requestJson(server.base, 'GET', '/health')).res.status === 200;
    } catch {
      return false;
    }
  }, 10000, 'the server to accept again');
});
