// Links in message text: http, https, mailto and tel addresses become links; everything
// else (javascript:, data:, any other scheme) stays plain text. Built from text nodes and
// createElement only; no preview is ever fetched.

import { h } from './dom.js';

// A candidate starts with one of the allowed schemes and runs to the next space or a
// character that cannot be part of an address in running text. Other schemes are never
// matched, so they stay text by construction.
const CANDIDATE = /\b(?:https?:\/\/|mailto:|tel:)[^\s<>"'`]+/gi;
const TRAILING = /[.,;:!?…]+$/;
const PAIRS = { ')': '(', ']': '[', '}': '{' };
const TEL = /^\+?[0-9][0-9().\-/]{2,30}$/;
const MAIL = /^[^@\s/]+@[^@\s/?]+\.[^@\s/?]+(\?.*)?$/;

/** Drop the punctuation that ends a sentence (and a closing bracket the address did not
 * open): "see https://x.example/a." links https://x.example/a. */
function trim(candidate) {
  let s = candidate;
  for (;;) {
    const before = s;
    s = s.replace(TRAILING, '');
    const last = s[s.length - 1];
    if (last in PAIRS) {
      const opens = s.split(PAIRS[last]).length - 1;
      const closes = s.split(last).length - 1;
      if (closes > opens) s = s.slice(0, -1);
    }
    if (s === before) return s;
  }
}

/** The href for `text`, or null when it must stay text. */
export function safeHref(text) {
  let url;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  const scheme = url.protocol;
  if (scheme === 'http:' || scheme === 'https:') {
    // A user name in the address ("https://bank.example@evil.example/") hides the real
    // host from a quick reader: such an address stays text.
    if (!url.hostname || url.username || url.password) return null;
    return url.href;
  }
  const rest = text.slice(text.indexOf(':') + 1);
  if (scheme === 'mailto:') return MAIL.test(rest) ? `mailto:${rest}` : null;
  if (scheme === 'tel:') return TEL.test(rest) ? `tel:${rest}` : null;
  return null;
}

/** One link element, showing the whole address as it was written. */
function link(text, href) {
  const web = href.startsWith('http');
  return h('a', {
    class: 'msg-link',
    href,
    rel: 'noopener noreferrer',
    target: web ? '_blank' : null,
    referrerpolicy: 'no-referrer',
  }, text);
}

/** The nodes for a message's text: text nodes with links between them. */
export function linkify(text) {
  const out = [];
  let at = 0;
  for (const match of text.matchAll(CANDIDATE)) {
    const address = trim(match[0]);
    const href = address.includes(':') ? safeHref(address) : null;
    if (!href || address.length <= address.indexOf(':') + 1) continue;
    if (match.index > at) out.push(document.createTextNode(text.slice(at, match.index)));
    out.push(link(address, href));
    at = match.index + address.length;
  }
  if (at < text.length) out.push(document.createTextNode(text.slice(at)));
  return out;
}
