// Reading offline, what it looks like: the banner over a copy kept on this device, the
// place of a file that is not kept, and the top of a thread whose earlier messages are
// not kept. The copy itself is js/offline.js.

import { h } from '../dom.js';
import { icon } from '../icons.js';
import { fullDate, time } from '../format.js';
import { state, on } from '../store.js';

const WORDS = {
  banner: (at) => `Offline — showing what this device kept, as of ${at}.`,
  sending: 'Messages you write wait here and are sent when careline can be reached.',
  image: (name) => `Image not kept on this device: ${name}. It shows when you are back online.`,
  file: (name) => `File not kept on this device: ${name}. It opens when you are back online.`,
  earlier: 'Earlier messages are not kept on this device.',
  none: 'The messages of this conversation are not kept on this device.',
};

function asOf(iso) {
  const d = new Date(iso);
  return d.toDateString() === new Date().toDateString() ? time(d) : fullDate(d);
}

/** Shown over the layout while the app shows the kept copy (never with live data). */
export function offlineBanner() {
  const text = h('span', { class: 'offline-text' });
  // On a phone the second sentence is left out: a message waiting says so itself.
  const more = h('span', { class: 'offline-more' }, ` ${WORDS.sending}`);
  const root = h('aside', { class: 'offline-banner', 'aria-label': 'Offline', hidden: true },
    h('div', { class: 'offline-line', role: 'status' }, icon('wifiOff', { size: 18 }), h('span', {}, text, more)));
  function update() {
    root.hidden = !state.offline;
    if (state.offline) text.textContent = WORDS.banner(asOf(state.offline.at));
  }
  const off = on('offline', update);
  update();
  root.dispose = off;
  return root;
}

/** In a message, where its files would be: they are not kept offline. */
export function keptFiles(message) {
  const files = message.attachments || [];
  if (!files.length) return null;
  return h('div', { class: 'att-offline-list' }, files.map((file) => h('p', { class: 'att-offline' },
    icon('wifiOff', { size: 16 }),
    h('span', { dir: 'auto' }, file.kind === 'image' ? WORDS.image(file.name) : WORDS.file(file.name)))));
}

/** The top of a kept thread with more before it (or nothing kept at all). */
export function keptTop(t) {
  return h('p', { class: 'offline-top' }, t.messages.size ? WORDS.earlier : WORDS.none);
}
