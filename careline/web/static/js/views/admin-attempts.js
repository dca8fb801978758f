// The admin's "Notification delivery" section: what careline tried to send outside the
// app (web push, e-mail, digests) and what was refused or failed, with reason codes.
// Never the content: there is none to show.

import { h } from '../dom.js';
import { relativeMoment } from '../format.js';
import { attemptsPage, peopleNames } from '../notification-attempts.js';
import { spinner } from './common.js';

const WORDS = {
  title: 'Notification delivery',
  intro: 'Pushes and e-mails careline tried to send, newest first. Nothing of what was written is kept here.',
  onlyProblems: 'Only problems',
  none: 'No problems with notifications.',
  noneAtAll: 'No notifications sent yet.',
  more: 'Show more',
  failedToLoad: 'Could not load notification delivery.',
  someone: 'Someone no longer here',
  when: 'When', who: 'Who', channel: 'Channel', outcome: 'Outcome', reason: 'Reason',
  channels: { push: 'Web push', email: 'E-mail', digest: 'Digest' },
  outcomes: {
    sent: 'Sent', retrying: 'Trying again', refused: 'Refused', failed: 'Failed',
    removed: 'Browser removed',
  },
};

export function attemptsSection(main) {
  let failed = true;
  let cursor = null;
  let names = new Map();
  const body = h('tbody');
  const status = h('p', { class: 'attempts-status', role: 'status' });
  const more = h('button', { type: 'button', class: 'btn btn-small', hidden: true, onclick: () => load(false) }, WORDS.more);
  const toggle = h('input', {
    type: 'checkbox', id: 'attempts-failed', checked: true,
    onchange: () => { failed = toggle.checked; load(true); },
  });
  const table = h('table', { class: 'attempts-table' },
    h('thead', {}, h('tr', {},
      ...[WORDS.when, WORDS.who, WORDS.channel, WORDS.outcome, WORDS.reason].map((t) => h('th', { scope: 'col' }, t)))),
    body);
  main.append(h('section', { class: 'attempts', 'aria-labelledby': 'attempts-title' },
    h('h3', { id: 'attempts-title' }, WORDS.title),
    h('p', { class: 'attempts-intro' }, WORDS.intro),
    h('label', { class: 'attempts-filter', for: 'attempts-failed' }, toggle, h('span', {}, WORDS.onlyProblems)),
    table, status, more));

  const row = (a) => h('tr', { class: `attempt attempt-${a.outcome}` },
    h('td', {}, relativeMoment(a.at)),
    h('td', {}, names.get(a.account_id) || WORDS.someone),
    h('td', {}, WORDS.channels[a.channel] || a.channel),
    h('td', {}, WORDS.outcomes[a.outcome] || a.outcome),
    h('td', {}, [a.reason, a.status].filter((v) => v !== null && v !== undefined).join(' · ')));

  async function load(fresh) {
    if (fresh) { cursor = null; body.replaceChildren(); }
    status.replaceChildren(spinner('Loading notification delivery'));
    try {
      if (!names.size) names = await peopleNames();
      const page = await attemptsPage({ failed, cursor });
      body.append(...page.items.map(row));
      cursor = page.next_cursor;
      more.hidden = !cursor;
      status.textContent = body.children.length ? '' : (failed ? WORDS.none : WORDS.noneAtAll);
      table.hidden = !body.children.length;
    } catch {
      status.textContent = WORDS.failedToLoad;
    }
  }
  load(true);
}
