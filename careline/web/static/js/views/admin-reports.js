// Usage and engagement reports (lane reports): a month picker, the month's figures as
// tiles, inline SVG charts per day, tables per week, by staff member and by care team,
// and the CSV forms to download. Counts only: a report never shows what anyone wrote.

import { h, announce, svg } from '../dom.js';
import { csvHref, loadEngagement, loadUsage } from '../reports-data.js';
import { spinner } from './common.js';
import { legend, stackedBars } from './report-charts.js';

const WORDS = {
  title: 'Reports',
  help: 'Counts for one month in the organisation’s time zone. Active: sent a message or read a conversation that day. Calls are not counted yet.',
  month: 'Month',
  usage: 'Usage',
  engagement: 'Engagement',
  downloadUsage: 'Usage as CSV',
  downloadEngagement: 'Engagement as CSV',
  activePeople: 'People active',
  messages: 'Messages',
  files: 'Files shared',
  waiting: 'Client messages waiting',
  answered: 'Answered',
  medianReply: 'Median first reply',
  unanswered: 'Waited over a day',
  activeChart: (month) => `People active each day of ${month}`,
  messagesChart: (month) => `Messages each day of ${month}`,
  weeks: 'People active per week',
  weekOf: 'Week of',
  byStaff: 'By staff member',
  byTeam: 'By care team',
  staffMember: 'Staff member',
  careTeam: 'Care team of',
  supportDesk: 'Support desk',
  nothing: 'No client messages waited for staff this month.',
  fromStaff: 'From staff',
  fromClients: 'From clients and guardians',
  roles: { admin: 'Admins', staff: 'Staff', client: 'Clients', guardian: 'Guardians' },
  total: 'Total',
  none: '—',
};

const DOWNLOAD = ['M21 15v4a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2v-4', 'M7 10l5 5 5-5', 'M12 15V3'];
const ROLES = ['admin', 'staff', 'client', 'guardian'];
const ROLE_SERIES = ROLES.map((r) => ({ name: WORDS.roles[r], cls: `report-${r}` }));
const MESSAGE_SERIES = [
  { name: WORDS.fromStaff, cls: 'report-staff' },
  { name: WORDS.fromClients, cls: 'report-client' },
];

function thisMonth() {
  const now = new Date();
  return `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, '0')}`;
}

function monthName(month) {
  const [y, m] = month.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, 1)).toLocaleDateString(undefined, { month: 'long', year: 'numeric', timeZone: 'UTC' });
}

function dayName(iso) {
  const [y, m, d] = iso.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d)).toLocaleDateString(undefined, { day: 'numeric', month: 'short', timeZone: 'UTC' });
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined) return WORDS.none;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.round(seconds / 360) / 10;
  if (hours < 48) return `${hours} h`;
  return `${Math.round(hours / 2.4) / 10} days`;
}

const tile = (label, value, key) =>
  h('div', { class: 'report-tile', 'data-figure': key }, h('span', { class: 'report-tile-value' }, String(value)), h('span', { class: 'report-tile-label' }, label));

export function reportsSection(main) {
  let current = new URLSearchParams(location.search).get('month') || thisMonth();
  let asked = 0;
  const picker = h('input', {
    type: 'month', id: 'report-month', class: 'input', value: current, max: thisMonth(), min: '2000-01',
    onchange: () => { if (picker.value) { current = picker.value; history.replaceState({}, '', `/admin/reports?month=${current}`); load(); } },
  });
  const usageLink = h('a', { class: 'btn btn-small', download: '', 'data-report': 'usage' }, svg(DOWNLOAD, { size: 16 }), h('span', {}, WORDS.downloadUsage));
  const engagementLink = h('a', { class: 'btn btn-small', download: '', 'data-report': 'engagement' }, svg(DOWNLOAD, { size: 16 }), h('span', {}, WORDS.downloadEngagement));
  const usage = h('section', { class: 'report-block', 'aria-labelledby': 'report-usage-title' });
  const engagement = h('section', { class: 'report-block', 'aria-labelledby': 'report-engagement-title' });
  main.replaceChildren(
    h('div', { class: 'admin-section-head' }, h('h2', {}, WORDS.title)),
    h('p', { class: 'admin-help' }, WORDS.help),
    h('div', { class: 'admin-toolbar report-toolbar' },
      h('div', { class: 'field field-inline' }, h('label', { for: 'report-month' }, WORDS.month), picker),
      usageLink, engagementLink),
    usage,
    engagement,
  );

  async function load() {
    const mine = ++asked;
    usageLink.href = csvHref('usage', current);
    engagementLink.href = csvHref('engagement', current);
    usage.replaceChildren(spinner('Loading usage'));
    engagement.replaceChildren();
    try {
      const [u, e] = await Promise.all([loadUsage(current), loadEngagement(current)]);
      if (mine !== asked) return;
      drawUsage(usage, u);
      drawEngagement(engagement, e);
    } catch (err) {
      if (mine !== asked) return;
      usage.replaceChildren(h('p', { class: 'form-error', role: 'alert' }, err.message));
      announce(err.message, { tone: 'error' });
    }
  }

  load();
  return () => { asked += 1; };
}

function drawUsage(box, report) {
  const name = monthName(report.month);
  const t = report.total;
  box.replaceChildren(
    h('h3', { id: 'report-usage-title' }, `${WORDS.usage} · ${name}`),
    h('div', { class: 'report-tiles' },
      tile(WORDS.activePeople, t.active.total, 'active'),
      ...ROLES.map((r) => tile(WORDS.roles[r], t.active[r], `active-${r}`)),
      tile(WORDS.messages, t.messages, 'messages'),
      tile(WORDS.files, t.files, 'files')),
    h('figure', { class: 'report-figure' },
      h('figcaption', {}, WORDS.activeChart(name)),
      stackedBars({
        label: WORDS.activeChart(name),
        series: ROLE_SERIES,
        items: report.days.map((d) => ({ key: d.day, label: dayName(d.day), parts: ROLES.map((r) => d.active[r]) })),
      }),
      legend(ROLE_SERIES)),
    h('figure', { class: 'report-figure' },
      h('figcaption', {}, WORDS.messagesChart(name)),
      stackedBars({
        label: WORDS.messagesChart(name),
        series: MESSAGE_SERIES,
        items: report.days.map((d) => ({ key: d.day, label: dayName(d.day), parts: [d.messages_from_staff, d.messages_from_clients] })),
      }),
      legend(MESSAGE_SERIES)),
    h('h4', {}, WORDS.weeks),
    h('div', { class: 'table-wrap' },
      h('table', { class: 'table report-table', 'data-table': 'weeks' },
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, WORDS.weekOf), ...ROLES.map((r) => h('th', { scope: 'col' }, WORDS.roles[r])),
          h('th', { scope: 'col' }, WORDS.total), h('th', { scope: 'col' }, WORDS.messages), h('th', { scope: 'col' }, WORDS.files))),
        h('tbody', {}, report.weeks.map((w) => h('tr', {},
          h('th', { scope: 'row' }, dayName(w.week_start)),
          ...ROLES.map((r) => h('td', { 'data-label': WORDS.roles[r] }, String(w.active[r]))),
          h('td', { 'data-label': WORDS.total }, String(w.active.total)),
          h('td', { 'data-label': WORDS.messages }, String(w.messages)),
          h('td', { 'data-label': WORDS.files }, String(w.files))))))),
  );
}

function engagementTable(kind, rows) {
  const head = kind === 'staff' ? WORDS.staffMember : WORDS.careTeam;
  return h('div', { class: 'table-wrap' },
    h('table', { class: 'table report-table', 'data-table': kind },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, head), h('th', { scope: 'col' }, WORDS.waiting),
        h('th', { scope: 'col' }, WORDS.answered), h('th', { scope: 'col' }, WORDS.medianReply), h('th', { scope: 'col' }, WORDS.unanswered))),
      h('tbody', {}, rows.map((r) => h('tr', {},
        h('th', { scope: 'row', dir: 'auto' }, r.account_id ? r.name : WORDS.supportDesk),
        h('td', { 'data-label': WORDS.waiting }, String(r.waiting)),
        h('td', { 'data-label': WORDS.answered }, String(r.answered)),
        h('td', { 'data-label': WORDS.medianReply }, duration(r.median_reply_seconds)),
        h('td', { 'data-label': WORDS.unanswered, class: r.unanswered_over_a_day ? 'report-late' : null }, String(r.unanswered_over_a_day)))))));
}

function drawEngagement(box, report) {
  const t = report.total;
  box.replaceChildren(
    h('h3', { id: 'report-engagement-title' }, `${WORDS.engagement} · ${monthName(report.month)}`),
    h('div', { class: 'report-tiles' },
      tile(WORDS.waiting, t.waiting, 'waiting'),
      tile(WORDS.answered, t.answered, 'answered'),
      tile(WORDS.medianReply, duration(t.median_reply_seconds), 'median'),
      tile(WORDS.unanswered, t.unanswered_over_a_day, 'unanswered')),
    ...(t.waiting
      ? [h('h4', {}, WORDS.byStaff), engagementTable('staff', report.by_staff),
        h('h4', {}, WORDS.byTeam), engagementTable('team', report.by_team)]
      : [h('p', { class: 'muted' }, WORDS.nothing)]),
  );
}
