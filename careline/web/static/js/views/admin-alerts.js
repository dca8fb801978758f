// Alerts raised and cleared, at the top of the monitoring page: the open ones first
// (live: a raised alert appears, a cleared one leaves), then the history, paged.
// Rules, parts and numbers only: there is no content to show.

import { h } from '../dom.js';
import { relativeMoment } from '../format.js';
import { alertsPage, onAlertChanged } from '../alerts.js';
import { spinner } from './common.js';

const WORDS = {
  title: 'Alerts',
  open: 'Open now',
  noneOpen: 'No alerts. Everything careline watches is within its limits.',
  history: 'History',
  noHistory: 'No alert has been raised yet.',
  more: 'Show more',
  loading: 'Loading alerts',
  failed: 'Could not load the alerts.',
  when: 'Raised', what: 'What', value: 'Measured', cleared: 'Cleared',
  stillOpen: 'Still open',
  instance: 'Whole service',
  organisation: 'This organisation',
  rules: {
    delivery_p99: 'Messages are slow to arrive',
    http_5xx: 'Server errors',
    queue_age: 'Background work is waiting',
    part_down: (part) => `${part} is down`,
    disk_low: 'The disk for files is nearly full',
    sign_in_failures: 'Many failed sign-ins',
  },
  parts: {
    postgres: 'The database', pool: 'The database connections', clamd: 'Virus scanning',
    smtp: 'The e-mail relay', push: 'Web push', turn: 'The call relay (TURN)',
    sfu: 'Group calls (SFU)', whatsapp: 'WhatsApp', disk: 'The disk for files',
  },
  figures: {
    delivery_p99: (v, t) => `p99 ${Math.round(v)} ms (limit ${Math.round(t)} ms)`,
    http_5xx: (v, t) => `${v.toFixed(1)} % of requests (limit ${t} %)`,
    queue_age: (v, t) => `oldest waited ${Math.round(v)} s (limit ${Math.round(t)} s)`,
    part_down: () => 'not answering',
    disk_low: (v, t) => `${v.toFixed(1)} % free (limit ${t} %)`,
    sign_in_failures: (v, t) => `${Math.round(v)} in 5 minutes (limit ${Math.round(t)})`,
  },
};

function what(alert) {
  const words = WORDS.rules[alert.rule];
  if (typeof words === 'function') return words(WORDS.parts[alert.subject] || alert.subject || '');
  return words || alert.rule;
}

function figure(alert) {
  const words = WORDS.figures[alert.rule];
  return words ? words(alert.value, alert.threshold) : String(alert.value);
}

export function alertsSection(main) {
  const openList = h('ul', { class: 'alerts-open', 'aria-label': WORDS.open });
  const openStatus = h('p', { class: 'alerts-status', role: 'status' });
  const body = h('tbody');
  const table = h('table', { class: 'alerts-table', hidden: true },
    h('thead', {}, h('tr', {},
      ...[WORDS.when, WORDS.what, WORDS.value, WORDS.cleared].map((t) => h('th', { scope: 'col' }, t)))),
    body);
  const historyStatus = h('p', { class: 'alerts-status', role: 'status' });
  const more = h('button', { type: 'button', class: 'btn btn-small', hidden: true, onclick: () => load(false) }, WORDS.more);
  main.append(h('section', { class: 'admin-section alerts', 'aria-labelledby': 'alerts-title' },
    h('h2', { id: 'alerts-title' }, WORDS.title),
    h('h3', { class: 'alerts-heading' }, WORDS.open), openList, openStatus,
    h('h3', { class: 'alerts-heading' }, WORDS.history), table, historyStatus, more));

  const open = new Map(); // id -> alert, the open ones shown
  let cursor = null;
  let stopped = false;

  const openItem = (a) => h('li', { class: `alert-item alert-${a.scope}`, dataset: { alertId: a.id, rule: a.rule } },
    h('strong', { class: 'alert-what' }, what(a)),
    h('span', { class: 'alert-figure' }, figure(a)),
    h('span', { class: 'alert-scope' }, a.scope === 'instance' ? WORDS.instance : WORDS.organisation),
    h('span', { class: 'alert-when' }, relativeMoment(a.raised_at)));

  const historyRow = (a) => h('tr', { class: `alert-row alert-row-${a.state}`, dataset: { alertId: a.id } },
    h('td', {}, relativeMoment(a.raised_at)),
    h('td', {}, what(a)),
    h('td', {}, figure(a)),
    h('td', { class: 'alert-cleared' }, a.cleared_at ? relativeMoment(a.cleared_at) : WORDS.stillOpen));

  function renderOpen() {
    const shown = [...open.values()].sort((a, b) => (a.raised_at < b.raised_at ? 1 : -1));
    openList.replaceChildren(...shown.map(openItem));
    openList.hidden = !shown.length;
    openStatus.textContent = shown.length ? '' : WORDS.noneOpen;
  }

  function changed(alert) {
    if (stopped) return;
    if (alert.state === 'raised') open.set(alert.id, alert);
    else open.delete(alert.id);
    renderOpen();
    const row = body.querySelector(`tr[data-alert-id="${CSS.escape(alert.id)}"]`);
    if (row) row.replaceWith(historyRow(alert));
    else if (alert.state === 'raised') body.prepend(historyRow(alert));
    table.hidden = !body.children.length;
    historyStatus.textContent = body.children.length ? '' : WORDS.noHistory;
  }

  async function load(fresh) {
    historyStatus.replaceChildren(spinner(WORDS.loading));
    try {
      const page = await alertsPage(fresh ? null : cursor);
      if (stopped) return;
      if (fresh) {
        open.clear();
        for (const a of page.open) open.set(a.id, a);
        renderOpen();
        body.replaceChildren();
      }
      const have = new Set([...body.children].map((tr) => tr.dataset.alertId));
      body.append(...page.items.filter((a) => !have.has(a.id)).map(historyRow));
      cursor = page.next_cursor;
      more.hidden = !cursor;
      table.hidden = !body.children.length;
      historyStatus.textContent = body.children.length ? '' : WORDS.noHistory;
    } catch {
      historyStatus.textContent = WORDS.failed;
    }
  }

  const stop = onAlertChanged(changed);
  load(true);
  return () => { stopped = true; stop(); };
}
