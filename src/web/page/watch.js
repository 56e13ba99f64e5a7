// Watching one job through GET /v1/jobs/{id}/events with EventSource. The browser reconnects by itself
// after a dropped connection and sends Last-Event-ID, and the server resumes after it, so nothing is
// lost: the page only says "reconnecting" meanwhile. The source is closed after the terminal event (else
// EventSource would reconnect to the finished stream).
import { withKey } from './api.js';

const EVENTS = ['queued', 'started', 'phase', 'progress', 'preview', 'notice', 'completed', 'error', 'cancelled',
  'replay_truncated'];
const TERMINAL = new Set(['completed', 'error', 'cancelled']);

// handlers: {event(name, data), connection(state)} where state is 'open' | 'reconnecting' | 'lost'.
export function watchJob(jobId, handlers) {
  const source = new EventSource(withKey(`/v1/jobs/${encodeURIComponent(jobId)}/events`));
  let ended = false;
  for (const name of EVENTS) {
    source.addEventListener(name, (message) => {
      // "error" is also EventSource's own connection error, which carries no data.
      if (message.data === undefined || ended) return;
      if (TERMINAL.has(name)) {
        ended = true;
        source.close();
      }
      handlers.event(name, JSON.parse(message.data));
    });
  }
  source.addEventListener('open', () => handlers.connection('open'));
  source.addEventListener('error', (message) => {
    if (message.data !== undefined || ended) return;
    handlers.connection(source.readyState === EventSource.CLOSED ? 'lost' : 'reconnecting');
  });
  return { close: () => { ended = true; source.close(); } };
}
