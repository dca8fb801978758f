// The live monitoring dashboard (lane dashboard): tiles for who is connected and what is
// happening, per-minute charts over the last hour (inline SVG, js/charts.js), the job
// queues and the health of each part; a scope switch for operators. Live over the
// socket (js/monitoring.js); returns what stops it when the page is left.

import { h } from '../dom.js';
import { plural } from '../format.js';
import { bars, sparklines } from '../charts.js';
import { watchMonitoring } from '../monitoring.js';
import { spinner } from './common.js';

const WORDS = {
  title: 'Monitoring',
  loading: 'Loading the dashboard',
  scope: 'Show',
  tenant: 'This organisation',
  instance: 'Whole instance',
  updated: (t) => `Updated ${t}`,
  people: 'People connected',
  devices: (n) => plural(n, 'device'),
  active: 'Active conversations',
  activeDetail: 'with a message in the last 5 minutes',
  perMinute: 'Messages per minute',
  perMinuteDetail: (now, hour) => `${now} this minute · ${hour} in the last hour`,
  perMinuteChart: (now, hour) => `Messages per minute over the last hour: ${now} this minute, ${hour} in all`,
  delivery: 'Delivery time',
  deliveryDetail: 'p50 / p99, commit to socket, last 5 minutes',
  ms: (v) => (v === null || v === undefined ? '—' : `${v < 10 ? v.toFixed(1) : Math.round(v)} ms`),
  errors: 'Errors per minute',
  errorsDetail: (n) => `${n} in the last hour`,
  errorsChart: (n) => `Errors per minute over the last hour: ${n} in all`,
  errorNames: { http_5xx: 'Server errors (5xx)', socket_error: 'Socket errors', frame_refused: 'Refused frames' },
  signIns: 'Sign-in failures',
  signInsDetail: (n) => `${n} in the last hour`,
  signInsChart: (n) => `Sign-in failures per minute over the last hour: ${n} in all`,
  queues: 'Job queues',
  queueKind: 'Job',
  queueDepth: 'Waiting',
  queueAge: 'Oldest',
  noQueues: 'No job is waiting.',
  age: (s) => (s === null || s === undefined ? '—' : s < 60 ? `${Math.round(s)} s` : `${Math.round(s / 60)} min`),
  parts: 'Parts',
  states: { up: 'Up', degraded: 'Degraded', down: 'Down', off: 'Not configured' },
  partNames: {
    postgres: 'PostgreSQL', pool: 'Connection pool', clamd: 'Virus scanner (clamd)', smtp: 'E-mail (SMTP)',
    push: 'Web push', turn: 'TURN relay', sfu: 'Group calls (SFU)', whatsapp: 'WhatsApp', disk: 'Disk for files',
  },
  failed: 'The dashboard could not be loaded.',
  ended: 'You can no longer watch this dashboard.',
};

const sum = (values) => (values || []).reduce((a, b) => a + b, 0);
const clock = (iso) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });

function tile(name, title, value, detail, chart = null) {
  return h('section', { class: 'mon-tile', 'data-tile': name, 'aria-label': title },
    h('h3', { class: 'mon-tile-title' }, title),
    h('p', { class: 'mon-tile-value', 'data-value': '' }, String(value)),
    h('p', { class: 'mon-tile-detail' }, detail),
    chart);
}

function tiles(s) {
  const per = s.messages_per_minute || [];
  const now = per.length ? per[per.length - 1] : 0;
  const hour = sum(per);
  const errors = s.errors_per_minute || {};
  const errorsHour = Object.values(errors).reduce((a, v) => a + sum(v), 0);
  const signIns = s.sign_in_failures_per_minute || [];
  return h('div', { class: 'mon-tiles' },
    tile('people', WORDS.people, s.people_connected, WORDS.devices(s.devices_connected)),
    tile('active', WORDS.active, s.active_conversations, WORDS.activeDetail),
    tile('messages', WORDS.perMinute, now, WORDS.perMinuteDetail(now, hour),
      bars(per, { label: WORDS.perMinuteChart(now, hour) })),
    tile('delivery', WORDS.delivery, `${WORDS.ms(s.delivery_p50_ms)} / ${WORDS.ms(s.delivery_p99_ms)}`, WORDS.deliveryDetail),
    tile('errors', WORDS.errors, errorsHour, WORDS.errorsDetail(errorsHour),
      h('div', {}, sparklines(errors, { label: WORDS.errorsChart(errorsHour) }),
        h('ul', { class: 'mon-legend' }, Object.keys(errors).map((name) =>
          h('li', { class: `legend-${name}` }, `${WORDS.errorNames[name] || name}: ${sum(errors[name])}`))))),
    tile('sign-ins', WORDS.signIns, sum(signIns), WORDS.signInsDetail(sum(signIns)),
      bars(signIns, { label: WORDS.signInsChart(sum(signIns)), cls: 'chart chart-bars chart-warn' })),
  );
}

function queues(s) {
  const list = s.queues || [];
  return h('section', { class: 'mon-box', 'aria-labelledby': 'mon-queues' },
    h('h3', { id: 'mon-queues' }, WORDS.queues),
    list.length
      ? h('div', { class: 'table-wrap' }, h('table', { class: 'table mon-queues' },
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, WORDS.queueKind),
          h('th', { scope: 'col' }, WORDS.queueDepth), h('th', { scope: 'col' }, WORDS.queueAge))),
        h('tbody', {}, list.map((q) => h('tr', { 'data-queue': q.kind },
          h('td', {}, q.kind), h('td', {}, String(q.depth)), h('td', {}, WORDS.age(q.oldest_age_seconds)))))))
      : h('p', { class: 'muted' }, WORDS.noQueues));
}

function parts(s) {
  return h('section', { class: 'mon-box', 'aria-labelledby': 'mon-parts' },
    h('h3', { id: 'mon-parts' }, WORDS.parts),
    h('ul', { class: 'mon-parts' }, (s.parts || []).map((p) =>
      h('li', { class: ['mon-part', `state-${p.state}`], 'data-part': p.name, 'data-state': p.state },
        h('span', { class: 'mon-dot', 'aria-hidden': 'true' }),
        h('span', { class: 'mon-part-name' }, WORDS.partNames[p.name] || p.name),
        h('span', { class: 'mon-part-state' }, WORDS.states[p.state] || p.state),
        p.reason ? h('span', { class: 'mon-part-reason' }, p.reason) : null))));
}

export function monitoringSection(main) {
  let scope = 'tenant';
  const updated = h('p', { class: 'mon-updated muted' });
  const body = h('div', { class: 'mon-body', 'aria-busy': 'true' }, spinner(WORDS.loading));
  const choice = (value, label) => h('label', { class: 'mon-scope-choice' },
    h('input', { type: 'radio', name: 'mon-scope', value, checked: value === scope,
      onchange: () => { scope = value; watcher.setScope(value); } }), label);
  const switcher = h('fieldset', { class: 'mon-scope', hidden: true },
    h('legend', {}, WORDS.scope), choice('tenant', WORDS.tenant), choice('instance', WORDS.instance));
  main.append(h('section', { class: 'admin-section monitoring' },
    h('div', { class: 'admin-section-head' }, h('h2', {}, WORDS.title), switcher),
    updated, body));

  const watcher = watchMonitoring(scope, {
    onInfo: ({ operator }) => { switcher.hidden = !operator; },
    onSnapshot: (s) => {
      if (s.scope !== scope) return;
      body.removeAttribute('aria-busy');
      body.dataset.scope = s.scope;
      body.replaceChildren(tiles(s), h('div', { class: 'mon-lower' }, parts(s), queues(s)));
      updated.textContent = WORDS.updated(clock(s.at));
    },
    onError: (err) => {
      body.removeAttribute('aria-busy');
      body.replaceChildren(h('p', { class: 'form-error', role: 'alert' }, err.ended ? WORDS.ended : err.message || WORDS.failed));
    },
  });
  return () => watcher.dispose();
}
