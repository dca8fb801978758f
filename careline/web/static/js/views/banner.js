// The connection banner: says plainly when messages cannot go out right now, and that
// they will once careline is reachable again.

import { h } from '../dom.js';
import { icon } from '../icons.js';
import { state, on } from '../store.js';

export function connectionBanner() {
  const text = h('span', { class: 'conn-text' });
  const retry = h('button', { type: 'button', class: 'conn-retry', hidden: true, onclick: () => state.socket && state.socket.retryNow() }, 'Retry now');
  const glyph = h('span', { class: 'conn-icon' });
  const line = h('div', { class: 'conn-line', role: 'status' }, glyph, text, retry);
  const root = h('aside', { class: 'conn', 'aria-label': 'Connection', hidden: true }, line);
  let wasDown = false;
  let countdown = null;
  let showTimer = null;
  let hideTimer = null;

  function queued() {
    return state.outbox.length;
  }

  function show(kind, message, { canRetry = false, iconName = 'wifiOff' } = {}) {
    clearTimeout(hideTimer);
    root.hidden = false;
    root.dataset.kind = kind;
    glyph.replaceChildren(icon(iconName, { size: 18 }));
    text.textContent = message;
    retry.hidden = !canRetry;
  }

  function update(sock) {
    clearInterval(countdown);
    clearTimeout(showTimer);
    const n = queued();
    const waitingNote = n ? ` ${n === 1 ? '1 message is' : `${n} messages are`} waiting to be sent.` : '';
    switch (state.connection) {
      case 'offline':
        wasDown = true;
        show('offline', `You’re offline. Messages you write will be sent when you reconnect.${waitingNote}`);
        break;
      case 'waiting': {
        wasDown = true;
        const tick = () => {
          const s = Math.max(0, Math.ceil((sock.retryAt - Date.now()) / 1000));
          show('waiting', `Connection lost. Reconnecting${s ? ` in ${s} s` : ''}…${waitingNote}`, { canRetry: true, iconName: 'refresh' });
        };
        tick();
        countdown = setInterval(tick, 1000);
        break;
      }
      case 'replaced':
        wasDown = true;
        show('waiting', `Paused: you have too many careline windows or devices open. Come back to this one, or choose Retry now, to use it here.${waitingNote}`, { canRetry: true, iconName: 'refresh' });
        break;
      case 'connecting':
        if (wasDown) show('waiting', 'Reconnecting…', { iconName: 'refresh' });
        else showTimer = setTimeout(() => show('waiting', 'Connecting…', { iconName: 'refresh' }), 1500);
        break;
      case 'ready':
        if (wasDown) {
          wasDown = false;
          show('ok', 'Connected again. Your messages are up to date.', { iconName: 'check' });
          hideTimer = setTimeout(() => { root.hidden = true; }, 2500);
        } else {
          root.hidden = true;
        }
        break;
      default:
        root.hidden = true;
    }
  }

  const offs = [on('connection', update), on('thread', () => {
    if (state.connection === 'offline') update(state.socket);
  })];
  update(state.socket);
  root.dispose = () => {
    offs.forEach((off) => off());
    clearInterval(countdown);
    clearTimeout(showTimer);
    clearTimeout(hideTimer);
  };
  return root;
}
