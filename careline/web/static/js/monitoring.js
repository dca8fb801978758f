// The network side of the monitoring dashboard (views never call the network): watch a
// scope over the socket (`monitor.subscribe`, then `monitor.updated` every few seconds,
// docs/protocol.md#monitoring), again after every reconnection; one snapshot over REST
// while the socket is not ready.

import { api } from './api.js';
import { state, on } from './store.js';

export const SCOPES = ['tenant', 'instance'];

/**
 * Watch `scope`; `onSnapshot(snapshot)` for each one, `onInfo({operator})` once the
 * socket said whether this person may watch the instance, `onError(err)` on a refusal
 * (`err.ended`: careline stopped it, this person may watch no more).
 * Returns { setScope(scope), dispose() }.
 */
export function watchMonitoring(scope, { onSnapshot, onInfo = () => {}, onError = () => {} }) {
  let current = scope;
  let disposed = false;
  let asked = 0; // a later subscribe wins over an earlier answer

  const subscribe = async () => {
    const ticket = ++asked;
    const socket = state.socket;
    if (!socket || socket.status !== 'ready') {
      try {
        const snapshot = await api('GET', `/admin/monitoring?scope=${current}`);
        if (!disposed && ticket === asked) onSnapshot(snapshot);
      } catch (err) {
        if (!disposed && ticket === asked) onError(err);
      }
      return;
    }
    try {
      const result = await socket.request('monitor.subscribe', { scope: current });
      if (disposed || ticket !== asked) return;
      onInfo({ operator: !!result.operator });
      onSnapshot(result.snapshot);
    } catch (err) {
      if (!disposed && ticket === asked && err.code !== 'disconnected') onError(err);
    }
  };

  const offEvent = on('event', (frame) => {
    if (disposed) return;
    if (frame.op === 'monitor.updated' && frame.snapshot && frame.snapshot.scope === current) onSnapshot(frame.snapshot);
    // careline read this person's right again and it is gone (demoted, no more an operator).
    if (frame.op === 'monitor.ended') onError({ code: frame.code, ended: true });
  });
  const offConnection = on('connection', (sock) => {
    // After the task that sends `resume`: that must be a new socket's first request.
    if (!disposed && sock && sock.status === 'ready') setTimeout(subscribe, 0);
  });
  subscribe();

  return {
    setScope(next) {
      if (!SCOPES.includes(next) || next === current) return;
      current = next;
      subscribe();
    },
    dispose() {
      disposed = true;
      offEvent();
      offConnection();
      const socket = state.socket;
      if (socket && socket.status === 'ready') socket.request('monitor.unsubscribe').catch(() => {});
    },
  };
}
