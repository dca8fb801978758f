// The banner a paused (frozen) conversation shows its participants: that an admin paused
// it, since when, and the reason they gave.

import { h } from '../dom.js';

const WORDS = {
  title: 'An admin has paused this conversation',
  since: (when) => `Since ${when}. Nothing can be sent until it is resumed.`,
  reason: 'Reason:',
};

export function pausedBanner() {
  const reason = h('span', { class: 'paused-reason', dir: 'auto' });
  const since = h('span', { class: 'paused-since' });
  const element = h('div', { class: 'paused-banner', role: 'status', hidden: true },
    h('strong', { class: 'paused-title' }, WORDS.title),
    since,
    h('span', { class: 'paused-why' }, WORDS.reason, ' ', reason));
  return {
    element,
    show(frozen) {
      element.hidden = !frozen;
      if (!frozen) return;
      since.textContent = WORDS.since(new Date(frozen.at).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' }));
      reason.textContent = frozen.reason;
    },
  };
}
