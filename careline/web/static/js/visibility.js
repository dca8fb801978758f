// What this device shows, told to careline over the socket (`visibility.set`,
// docs/protocol.md): the conversation open in the thread view and whether the page is
// visible. While it is, careline sends nothing of that conversation outside the app
// (no web push, no e-mail): the person is already looking.

import { state, on } from './store.js';

let started = false;
let said = null; // what careline was last told, as "id|visible"

function tell(force = false) {
  const socket = state.socket;
  if (!socket || socket.status !== 'ready') return;
  const conversationId = state.openId || null;
  const visible = document.visibilityState === 'visible';
  const now = `${conversationId}|${visible}`;
  if (!force && now === said) return;
  said = now;
  socket.request('visibility.set', { conversation_id: conversationId, visible }).catch(() => {
    said = null; // not heard: say it again on the next change or connection
  });
}

/** Keep careline told, from sign-in on: on opening or closing a thread, on every
 * visibilitychange, and again on each new connection (a new socket shows nothing). */
export function startVisibility() {
  if (started) return;
  started = true;
  on('open', () => tell());
  on('connection', (sock) => {
    // After the task that sends `resume`: that must be the new socket's first request.
    if (sock && sock.status === 'ready') setTimeout(() => tell(true), 0);
  });
  document.addEventListener('visibilitychange', () => tell());
}
