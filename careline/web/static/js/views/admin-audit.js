// The audit: who read or changed what (lane audit-page). Filters by person, client's
// record, category, action, conversation and time; a table of events newest first; an
// export as CSV or JSON made by the server with a progress bar, then a download link.

import { h } from '../dom.js';
import { fullDate, plural } from '../format.js';
import { auditPage, exportDownloadUrl, exportState, people, startExport } from '../audit-data.js';
import { spinner } from './common.js';

const WORDS = {
  title: 'Audit',
  intro: 'Who opened or changed what in the organisation, newest first. Reading this page is recorded too.',
  person: 'Person', anyone: 'Anyone',
  client: "Who has opened this client's record", anyClient: 'Any client',
  category: 'Kind', anyCategory: 'Any kind',
  categories: { access: 'Opened a record', admin: 'Admin change', intervention: 'Emergency intervention', system: 'careline itself' },
  action: 'Action', anyAction: 'Any action',
  conversation: 'Conversation id',
  since: 'From', until: 'Until',
  show: 'Show', clear: 'Clear filters',
  when: 'When', who: 'Who', role: 'Role', what: 'What', about: 'About', from: 'From', reason: 'Reason',
  careline: 'careline', someone: 'Someone no longer here',
  conversationShort: (id) => `Conversation ${id.slice(0, 8)}`,
  none: 'No events match these filters.',
  more: 'Show more',
  failedToLoad: 'Could not load the audit.',
  badFilter: (detail) => `Check the filters: ${detail}`,
  exportTitle: 'Export',
  exportCsv: 'Export CSV', exportJson: 'Export JSON',
  exporting: (done, total) => `Exporting ${done} of ${plural(total, 'event')}`,
  exported: (total) => `Export ready: ${plural(total, 'event')}.`,
  download: 'Download',
  exportFailed: 'Could not export the audit.',
  kept: 'The file is kept encrypted on the server for a day.',
};

// Words for the actions careline records; an action not listed shows its name.
const ACTIONS = {
  'conversation.history_read': 'Read a conversation',
  'conversation.caught_up': 'Caught up on a conversation',
  'message.revisions_read': "Read a message's edits",
  'attachment.downloaded': 'Downloaded a file',
  'attachment.previewed': 'Previewed a file',
  'search.performed': 'Searched',
  'export.created': 'Asked for an export',
  'export.downloaded': 'Downloaded an export',
  'audit.read': 'Read the audit',
  'report.read': 'Read a report',
  'member.invited': 'Invited someone',
  'member.role_changed': 'Changed a role',
  'member.disabled': 'Disabled someone',
  'member.enabled': 'Enabled someone',
  'session.revoked': 'Signed someone out',
  'care.assigned': 'Assigned care',
  'care.unassigned': 'Removed care',
  'guardian.linked': 'Linked a guardian',
  'guardian.unlinked': 'Unlinked a guardian',
  'participant.added': 'Added someone to a conversation',
  'tenant.settings_changed': 'Changed a setting',
  'notifications.defaults_changed': 'Changed notification defaults',
  'conversation.frozen': 'Paused a conversation',
  'conversation.unfrozen': 'Resumed a conversation',
  'participant.removed': 'Removed someone from a conversation',
  'access.granted': 'Opened a conversation read-only',
  'access.ended': 'Ended read-only access',
  'access.expired': 'Read-only access expired',
  'keys.rotated': 'Rotated the keys',
  'audit.retention_removed': 'Removed old audit events',
};

const POLL_MS = 500;

function labelled(id, label, control) {
  control.id = id;
  return h('div', { class: 'field audit-field' }, h('label', { for: id }, label), control);
}

function select(name, any, options) {
  return h('select', { name }, h('option', { value: '' }, any),
    ...options.map(([value, label]) => h('option', { value }, label)));
}

export function auditSection(main) {
  let stopped = false;
  let cursor = null;
  let names = new Map();
  let pollTimer = null;

  const person = select('actor_id', WORDS.anyone, []);
  const client = select('client', WORDS.anyClient, []);
  const category = select('category', WORDS.anyCategory, Object.entries(WORDS.categories));
  const action = select('action', WORDS.anyAction, Object.entries(ACTIONS));
  const conversation = h('input', { type: 'text', name: 'conversation_id', autocomplete: 'off', spellcheck: 'false' });
  const since = h('input', { type: 'datetime-local', name: 'since' });
  const until = h('input', { type: 'datetime-local', name: 'until' });
  const form = h('form', { class: 'audit-filters', 'aria-label': 'Audit filters', onsubmit: (e) => { e.preventDefault(); load(true); } },
    labelled('audit-person', WORDS.person, person),
    labelled('audit-client', WORDS.client, client),
    labelled('audit-category', WORDS.category, category),
    labelled('audit-action', WORDS.action, action),
    labelled('audit-conversation', WORDS.conversation, conversation),
    labelled('audit-since', WORDS.since, since),
    labelled('audit-until', WORDS.until, until),
    h('div', { class: 'audit-buttons' },
      h('button', { type: 'submit', class: 'btn btn-primary' }, WORDS.show),
      h('button', { type: 'reset', class: 'btn btn-quiet', onclick: () => setTimeout(() => load(true)) }, WORDS.clear)));
  client.addEventListener('change', () => load(true));

  const body = h('tbody');
  const table = h('table', { class: 'audit-table' },
    h('thead', {}, h('tr', {},
      ...[WORDS.when, WORDS.who, WORDS.role, WORDS.what, WORDS.about, WORDS.from, WORDS.reason].map((t) => h('th', { scope: 'col' }, t)))),
    body);
  const status = h('p', { class: 'audit-status', role: 'status' });
  const more = h('button', { type: 'button', class: 'btn btn-small', hidden: true, onclick: () => load(false) }, WORDS.more);

  const bar = h('progress', { class: 'audit-progress', max: '1', value: '0', hidden: true, 'aria-label': WORDS.exportTitle });
  const exportStatus = h('p', { class: 'audit-export-status', role: 'status' });
  const link = h('a', { class: 'btn btn-small', hidden: true, download: '' }, WORDS.download);
  const exportButtons = [
    h('button', { type: 'button', class: 'btn btn-small', onclick: () => exportAs('csv') }, WORDS.exportCsv),
    h('button', { type: 'button', class: 'btn btn-small', onclick: () => exportAs('json') }, WORDS.exportJson),
  ];

  main.append(h('section', { class: 'admin-section audit', 'aria-labelledby': 'audit-title' },
    h('h3', { id: 'audit-title' }, WORDS.title),
    h('p', { class: 'audit-intro' }, WORDS.intro),
    form,
    h('div', { class: 'audit-export', 'aria-label': WORDS.exportTitle, role: 'group' },
      ...exportButtons, bar, exportStatus, link, h('p', { class: 'audit-kept' }, WORDS.kept)),
    h('div', { class: 'audit-scroll' }, table), status, more));

  function filters() {
    const at = (input) => (input.value ? new Date(input.value).toISOString() : '');
    return {
      actor_id: person.value, client: client.value, category: category.value, action: action.value,
      conversation_id: conversation.value.trim(), since: at(since), until: at(until),
    };
  }

  const nameOf = (id) => (id ? names.get(id) || WORDS.someone : WORDS.careline);

  function about(e) {
    const parts = [];
    if (e.subject_account_id) parts.push(e.subject_name || WORDS.someone);
    if (e.conversation_id) parts.push(WORDS.conversationShort(e.conversation_id));
    return parts.join(' · ');
  }

  const row = (e) => h('tr', { class: `audit-event audit-${e.category}`, dataset: { action: e.action } },
    h('td', {}, h('time', { datetime: e.at }, fullDate(e.at))),
    h('td', {}, e.actor_name || nameOf(e.actor_account_id)),
    h('td', {}, e.actor_role),
    h('td', {}, ACTIONS[e.action] || e.action),
    h('td', { class: 'audit-about' }, about(e)),
    h('td', { title: e.user_agent || '' }, e.source || ''),
    h('td', { class: 'audit-reason' }, e.reason || ''));

  async function load(fresh) {
    if (fresh) { cursor = null; body.replaceChildren(); }
    status.replaceChildren(spinner('Loading the audit'));
    try {
      const page = await auditPage(filters(), cursor);
      if (stopped) return;
      body.append(...page.items.map(row));
      cursor = page.next_cursor;
      more.hidden = !cursor;
      table.hidden = !body.children.length;
      status.textContent = body.children.length ? '' : WORDS.none;
    } catch (err) {
      status.textContent = err.status === 422 ? WORDS.badFilter(err.message) : WORDS.failedToLoad;
    }
  }

  function showProgress(state) {
    bar.hidden = false;
    bar.max = Math.max(state.total, 1);
    bar.value = state.state === 'done' ? bar.max : state.done;
    if (state.state === 'done') {
      exportStatus.textContent = WORDS.exported(state.total);
      link.href = exportDownloadUrl(state.id);
      link.hidden = false;
      exportButtons.forEach((b) => { b.disabled = false; });
    } else {
      exportStatus.textContent = WORDS.exporting(state.done, state.total);
      pollTimer = setTimeout(() => follow(state.id), POLL_MS);
    }
  }

  async function follow(id) {
    if (stopped) return;
    try {
      showProgress(await exportState(id));
    } catch {
      exportStatus.textContent = WORDS.exportFailed;
      exportButtons.forEach((b) => { b.disabled = false; });
    }
  }

  async function exportAs(format) {
    clearTimeout(pollTimer);
    link.hidden = true;
    exportButtons.forEach((b) => { b.disabled = true; });
    try {
      showProgress(await startExport(format, filters()));
    } catch (err) {
      exportStatus.textContent = err.status === 422 || err.status === 409 ? err.message : WORDS.exportFailed;
      exportButtons.forEach((b) => { b.disabled = false; });
    }
  }

  (async () => {
    try {
      const everyone = await people();
      if (stopped) return;
      names = new Map(everyone.map((p) => [p.account_id, p.display_name]));
      const sorted = [...everyone].sort((a, b) => a.display_name.localeCompare(b.display_name));
      person.append(...sorted.map((p) => h('option', { value: p.account_id }, p.display_name)));
      client.append(...sorted.filter((p) => p.role === 'client')
        .map((p) => h('option', { value: p.account_id }, p.display_name)));
    } catch {
      // The pickers stay with "Anyone": the table still works.
    }
  })();
  load(true);

  return () => { stopped = true; clearTimeout(pollTimer); };
}
