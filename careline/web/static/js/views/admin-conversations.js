// The organisation's conversations and emergency intervention (lane breakglass): a list
// with freeze / unfreeze, remove someone, and read-only access, each asking for a reason;
// and the read-only view of a conversation for as long as the access lasts.

import { h, clear, focus, announce } from '../dom.js';
import { openDialog } from './common.js';
import {
  listConversations, listParticipants, freeze, unfreeze, removeParticipant, openAccess, endAccess, readMessages,
} from '../breakglass-data.js';

const WORDS = {
  heading: 'Conversations',
  intro: 'Every conversation of the organisation. Step in only when you must: each step asks why, is recorded in the audit, shown to the conversation’s staff and told to the other admins.',
  empty: 'There are no conversations yet.',
  kinds: { care: 'Care', team: 'Team', support: 'Support' },
  people: (n) => (n === 1 ? '1 person' : `${n} people`),
  paused: 'Paused',
  yours: 'You take part',
  freeze: 'Freeze',
  unfreeze: 'Unfreeze',
  read: 'Read (read-only)',
  openRead: 'Open read-only',
  remove: 'Remove someone',
  reasonLabel: 'Reason (required)',
  reasonMissing: 'Say why: a reason is required.',
  hoursLabel: 'For how many hours (1 to 24)',
  cancel: 'Cancel',
  titles: {
    freeze: 'Freeze this conversation?',
    unfreeze: 'Unfreeze this conversation?',
    access: 'Open this conversation read-only?',
    remove: (name) => `Remove ${name}?`,
  },
  explain: {
    freeze: 'No one can send, edit, delete or react until it is unfrozen. The participants see that it is paused and your reason.',
    unfreeze: 'The participants can write again.',
    access: 'You will read it without taking part, and cannot write. The access ends by itself.',
    remove: 'They will no longer read or receive anything of this conversation.',
  },
  done: {
    freeze: 'Conversation frozen', unfreeze: 'Conversation unfrozen', access: 'Read-only access opened', remove: 'Removed',
  },
  readonlyUntil: (time) => `Read-only until ${time}`,
  endAccess: 'End access now',
  back: 'Back to the list',
  noMessages: 'No messages.',
  deleted: 'This message was deleted',
  ended: 'Your read-only access has ended.',
  more: 'Show more',
};

const when = (iso) => new Date(iso).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' });
const time = (iso) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

/** Ask for the reason (and hours); resolves {reason, hours} or null when cancelled. */
function reasonDialog({ title, text, confirm, hours = false }) {
  return new Promise((resolve) => {
    let answer = null;
    const reason = h('textarea', { id: 'bg-reason', class: 'bg-reason', rows: 3, maxlength: 500, required: true });
    const error = h('p', { class: 'bg-error', role: 'alert', hidden: true }, WORDS.reasonMissing);
    const hoursInput = hours ? h('input', { id: 'bg-hours', type: 'number', min: 1, max: 24, value: 4, class: 'bg-hours' }) : null;
    const yes = h('button', {
      type: 'button',
      class: 'btn btn-primary',
      onclick: () => {
        if (!reason.value.trim()) {
          error.hidden = false;
          focus(reason);
          return;
        }
        answer = { reason: reason.value.trim(), hours: hoursInput ? Number(hoursInput.value) : undefined };
        dlg.close();
      },
    }, confirm);
    const no = h('button', { type: 'button', class: 'btn btn-quiet', onclick: () => dlg.close() }, WORDS.cancel);
    const dlg = openDialog({
      title,
      content: h('div', { class: 'bg-dialog' },
        h('p', { id: 'bg-explain', class: 'dialog-text' }, text),
        h('label', { for: 'bg-reason', class: 'field-label' }, WORDS.reasonLabel), reason, error,
        hoursInput ? h('label', { for: 'bg-hours', class: 'field-label' }, WORDS.hoursLabel) : null, hoursInput),
      actions: [no, yes],
      cls: 'dialog-small',
      describedBy: 'bg-explain',
      onClose: () => resolve(answer),
    });
    focus(reason);
  });
}

async function step(kind, run) {
  try {
    await run();
    announce(WORDS.done[kind]);
    return true;
  } catch (err) {
    announce(err.message, { tone: 'error' });
    return false;
  }
}

export function conversationsSection(main) {
  let alive = true;
  let timer = null;
  const section = h('section', { class: 'admin-section bg-section', 'aria-labelledby': 'bg-heading' });
  main.append(section);

  function showList() {
    clearTimeout(timer);
    const list = h('ul', { class: 'bg-list', 'aria-label': WORDS.heading });
    const more = h('button', { type: 'button', class: 'btn btn-quiet', hidden: true }, WORDS.more);
    clear(section);
    section.append(
      h('h2', { id: 'bg-heading' }, WORDS.heading),
      h('p', { class: 'muted' }, WORDS.intro),
      list, more,
    );
    let cursor = null;
    async function load() {
      const page = await listConversations(cursor);
      if (!alive) return;
      if (!cursor && !page.items.length) list.append(h('li', { class: 'muted' }, WORDS.empty));
      page.items.forEach((c) => list.append(row(c)));
      cursor = page.next_cursor;
      more.hidden = !cursor;
    }
    more.onclick = () => load().catch((err) => announce(err.message, { tone: 'error' }));
    load().catch((err) => announce(err.message, { tone: 'error' }));
  }

  function row(c) {
    const actions = h('div', { class: 'bg-actions' });
    const item = h('li', { class: 'bg-item', 'data-conversation': c.id },
      h('div', { class: 'bg-about' },
        h('strong', {}, WORDS.kinds[c.kind]),
        h('span', { class: 'muted' }, ` · ${WORDS.people(c.participant_count)} · ${when(c.last_activity_at)}`),
        c.frozen_at ? h('span', { class: 'bg-badge' }, WORDS.paused) : null,
        c.participant ? h('span', { class: 'bg-badge bg-badge-quiet' }, WORDS.yours) : null),
      actions);
    const button = (label, onclick) => h('button', { type: 'button', class: 'btn btn-quiet btn-small', onclick }, label);
    if (c.frozen_at) {
      actions.append(button(WORDS.unfreeze, async () => {
        const got = await reasonDialog({ title: WORDS.titles.unfreeze, text: WORDS.explain.unfreeze, confirm: WORDS.unfreeze });
        if (got && await step('unfreeze', () => unfreeze(c.id, got.reason))) showList();
      }));
    } else {
      actions.append(button(WORDS.freeze, async () => {
        const got = await reasonDialog({ title: WORDS.titles.freeze, text: WORDS.explain.freeze, confirm: WORDS.freeze });
        if (got && await step('freeze', () => freeze(c.id, got.reason))) showList();
      }));
    }
    if (c.access_expires_at) {
      actions.append(button(WORDS.read, () => showReadonly(c.id, c.access_expires_at)));
    } else if (!c.participant) {
      actions.append(button(WORDS.openRead, async () => {
        const got = await reasonDialog({ title: WORDS.titles.access, text: WORDS.explain.access, confirm: WORDS.openRead, hours: true });
        if (!got) return;
        let grant = null;
        if (await step('access', async () => { grant = await openAccess(c.id, got.reason, got.hours); })) {
          showReadonly(c.id, grant.expires_at);
        }
      }));
    }
    actions.append(button(WORDS.remove, () => pickToRemove(c)));
    return item;
  }

  async function pickToRemove(c) {
    let people;
    try {
      people = await listParticipants(c.id);
    } catch (err) {
      announce(err.message, { tone: 'error' });
      return;
    }
    const menu = h('ul', { class: 'bg-people' });
    const dlg = openDialog({ title: WORDS.remove, content: menu, cls: 'dialog-small' });
    people.forEach((p) => menu.append(h('li', {},
      h('button', {
        type: 'button',
        class: 'btn btn-quiet',
        onclick: async () => {
          dlg.close();
          const name = p.display_name || p.role;
          const got = await reasonDialog({ title: WORDS.titles.remove(name), text: WORDS.explain.remove, confirm: WORDS.remove });
          if (got && await step('remove', () => removeParticipant(c.id, p.account_id, got.reason))) showList();
        },
      }, `${p.display_name || ''} (${p.role})`))));
  }

  async function showReadonly(id, expiresAt) {
    clear(section);
    const list = h('ol', { class: 'messages bg-readonly-messages', 'aria-label': 'Messages' });
    const end = h('button', {
      type: 'button',
      class: 'btn btn-quiet',
      onclick: async () => { if (await step('access', () => endAccess(id))) showList(); },
    }, WORDS.endAccess);
    section.append(
      h('div', { class: 'bg-readonly-head' },
        h('button', { type: 'button', class: 'btn btn-quiet', onclick: showList }, WORDS.back),
        h('p', { class: 'bg-readonly-until', role: 'status' }, WORDS.readonlyUntil(time(expiresAt))),
        end),
      list,
    );
    try {
      const page = await readMessages(id);
      if (!alive) return;
      if (!page.items.length) list.append(h('li', { class: 'muted' }, WORDS.noMessages));
      page.items.forEach((m) => list.append(h('li', { class: 'bg-message' },
        h('span', { class: 'muted bg-when' }, when(m.created_at)),
        h('p', { class: 'bg-text', dir: 'auto' }, m.text ?? WORDS.deleted))));
    } catch (err) {
      announce(err.status === 404 ? WORDS.ended : err.message, { tone: 'error' });
      showList();
      return;
    }
    // The access ends by itself: leave the view when it does.
    timer = setTimeout(() => { if (alive) { announce(WORDS.ended); showList(); } },
      Math.max(0, new Date(expiresAt) - Date.now()));
  }

  showList();
  return () => { alive = false; clearTimeout(timer); };
}
