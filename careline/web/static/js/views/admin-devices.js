// Signed-in devices: a person's (for an admin) or one's own, with "sign out" for one
// device or all of them. A device signed out gets 401 on its next request.

import { h, announce } from '../dom.js';
import { icon } from '../icons.js';
import { relativeMoment } from '../format.js';
import { confirmDialog, openDialog, spinner } from './common.js';

const WORDS = {
  none: 'Not signed in on any device.',
  thisDevice: 'This device',
  signedIn: 'Signed in',
  lastUsed: 'Last used',
  signOutOne: 'Sign out',
  signOutAll: 'Sign out of every device',
  unknown: 'Unknown device',
};

/** "Chrome on Android", "Safari on iPhone", "python-httpx" ... from a User-Agent. */
export function deviceSummary(ua) {
  if (!ua) return WORDS.unknown;
  const os = [
    [/iPhone/, 'iPhone'], [/iPad/, 'iPad'], [/Android/, 'Android'], [/Windows/, 'Windows'],
    [/Mac OS X|Macintosh/, 'Mac'], [/CrOS/, 'ChromeOS'], [/Linux/, 'Linux'],
  ].find(([re]) => re.test(ua));
  const browser = [
    [/Edg\//, 'Edge'], [/OPR\//, 'Opera'], [/Firefox\//, 'Firefox'], [/Chrom(e|ium)\//, 'Chrome'],
    [/Version\/.*Safari\//, 'Safari'],
  ].find(([re]) => re.test(ua));
  if (browser && os) return `${browser[1]} on ${os[1]}`;
  if (browser) return browser[1];
  return ua.split(/[\s(]/)[0].slice(0, 40) || WORDS.unknown;
}

/**
 * A dialog listing sessions. `load()` gives SessionRead items; `revoke(id)` ends one;
 * `revokeAll()` ends them all (optional). `who` names the person in confirmations.
 */
export function devicesDialog({ title, who, load, revoke, revokeAll = null }) {
  const list = h('ul', { class: 'device-list', 'aria-label': 'Signed-in devices' }, h('li', {}, spinner('Loading devices')));
  const all = revokeAll && h('button', {
    type: 'button', class: 'btn btn-danger-quiet',
    onclick: async () => {
      const ok = await confirmDialog({
        title: `Sign ${who} out of every device?`,
        text: 'Every session ends now; open conversations close within a second. They can sign in again.',
        confirm: WORDS.signOutAll, danger: true,
      });
      if (!ok) return;
      try {
        const result = await revokeAll();
        announce(`${who} was signed out of ${result.revoked} ${result.revoked === 1 ? 'session' : 'sessions'}.`);
      } catch (err) {
        announce(err.message, { tone: 'error' });
      }
      await reload();
    },
  }, icon('key', { size: 16 }), h('span', {}, WORDS.signOutAll));
  const dlg = openDialog({ title, content: list, actions: all ? [all] : [], cls: 'dialog-devices' });

  function row(s) {
    const name = deviceSummary(s.user_agent);
    return h('li', { class: 'device-row', 'data-id': s.id },
      h('div', { class: 'device-text' },
        h('span', { class: 'device-name' }, name, s.current ? h('span', { class: 'tag' }, WORDS.thisDevice) : null),
        h('span', { class: 'person-detail', title: s.user_agent }, `${WORDS.signedIn} ${relativeMoment(s.created_at)} · ${WORDS.lastUsed} ${relativeMoment(s.last_used_at)}`)),
      s.current ? null : h('button', {
        type: 'button', class: 'btn btn-small btn-danger-quiet', 'aria-label': `${WORDS.signOutOne} ${name}, signed in ${relativeMoment(s.created_at)}`,
        onclick: async (ev) => {
          ev.currentTarget.disabled = true;
          try {
            await revoke(s.id);
            announce(`${name} was signed out.`);
          } catch (err) {
            announce(err.message, { tone: 'error' });
          }
          await reload();
        },
      }, WORDS.signOutOne));
  }

  async function reload() {
    try {
      const sessions = await load();
      list.replaceChildren(...(sessions.length ? sessions.map(row) : [h('li', { class: 'muted' }, WORDS.none)]));
      if (all) all.disabled = !sessions.length;
    } catch (err) {
      list.replaceChildren(h('li', { class: 'form-error', role: 'alert' }, err.message));
    }
  }
  reload();
  return dlg;
}
