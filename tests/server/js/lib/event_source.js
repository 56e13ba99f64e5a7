// Reading a job's events with the eventsource package (a WHATWG EventSource for Node).
import { EventSource } from 'eventsource';

import { EVENT_NAMES, TERMINAL } from './server.js';

// Opens an EventSource on url and collects its events as {name, id, data} until a terminal event (the
// source is then closed) or until stopAfter(events) returns true. headers are sent on every connection
// (e.g. Last-Event-ID). Rejects when the connection fails for good or nothing terminal arrives in timeoutMs.
// Resolves to {events, errors}: errors counts the error events (each one a reconnection attempt).
export function collectEvents(url, { headers = {}, stopAfter = () => false, timeoutMs = 20000 } = {}) {
  const events = [];
  let errors = 0;
  const source = new EventSource(url, {
    fetch: (input, init) => fetch(input, { ...init, headers: { ...init.headers, ...headers } }),
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      source.close();
      reject(new Error(`no terminal event within ${timeoutMs} ms; got ${events.map((e) => e.name).join(' ')}`));
    }, timeoutMs);
    const finish = () => {
      clearTimeout(timer);
      source.close();
      resolve({ events, errors });
    };
    for (const name of EVENT_NAMES) {
      source.addEventListener(name, (message) => {
        // "error" is also EventSource's own connection-error event, which carries no data.
        if (source.readyState === source.CLOSED || message.data === undefined) return;
        events.push({ name, id: message.lastEventId, data: JSON.parse(message.data) });
        if (TERMINAL.has(name) || stopAfter(events)) finish();
      });
    }
    source.addEventListener('error', (error) => {
      if (error.data !== undefined) return;  // the job's error event, collected above
      ++errors;
      if (source.readyState === source.CLOSED) {
        clearTimeout(timer);
        reject(new Error(`EventSource failed for good: ${error.message ?? ''} (HTTP ${error.code ?? '-'})`));
      }
    });
  });
}
