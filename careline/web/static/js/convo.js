// How a conversation presents itself to the person looking at it: its name, its
// avatar, who "the other side" is, and a one-line status.

import { state, nameOf, typingIn } from './store.js';
import { firstName, joinNames, relativeMoment } from './format.js';
import { filesLabel } from './attachments.js';

// What the status line says (presence names who; "last seen" for who is not connected).
const STRINGS = {
  isOnline: (name) => `${name} is online`,
  areOnline: (names) => `${names} online`,
  manyOnline: (names, rest) => `${names.join(', ')} and ${rest} others online`,
  isAway: (name) => `${name} is away`,
  lastSeen: (moment) => `Last seen ${moment}`,
  offline: 'Offline',
  with: (names) => `with ${names}`,
  people: (n) => `${n} people`,
  you: 'you',
};

export function others(conv) {
  return conv.participants.filter((p) => p.account_id !== state.me.account_id);
}

function participant(conv, account) {
  return conv.participants.find((p) => p.account_id === account);
}

/** The person the conversation is "with", when there is one. */
export function counterpart(conv) {
  const me = state.me;
  if (conv.kind === 'care') {
    if (me.role === 'client' || me.role === 'guardian') return participant(conv, conv.staff_id);
    return participant(conv, conv.client_id);
  }
  if (conv.kind === 'support' && (me.role === 'staff' || me.role === 'admin')) {
    return participant(conv, conv.client_id);
  }
  return null;
}

export function title(conv) {
  const me = state.me;
  if (conv.kind === 'support') {
    if (me.role === 'client' || me.role === 'guardian') return `${me.tenant_name} support`;
    const client = participant(conv, conv.client_id);
    return `Support · ${client ? client.display_name : 'client'}`;
  }
  if (conv.kind === 'team') {
    if (conv.title) return conv.title;
    return joinNames(others(conv).map((p) => firstName(p.display_name))) || 'Team';
  }
  const who = counterpart(conv);
  return who ? who.display_name : 'Conversation';
}

export function avatarSubject(conv) {
  const who = counterpart(conv);
  if (who) return { id: who.account_id, name: who.display_name, presence: who.presence };
  if (conv.kind === 'team') return { id: conv.id, name: title(conv), icon: 'users' };
  return { id: conv.id, name: title(conv), icon: 'help' };
}

/** Several people on the other side: show who wrote each message. */
export function isGroup(conv) {
  return others(conv).length > 1;
}

export function statusLine(conv) {
  const typers = typingIn(conv.id);
  if (typers.length) {
    const names = typers.map((a) => firstName(nameOf(a)));
    return { text: `${joinNames(names)} ${typers.length > 1 ? 'are' : 'is'} typing…`, typing: true };
  }
  const people = others(conv);
  const online = people.filter((p) => p.presence === 'online');
  const who = counterpart(conv) || (people.length === 1 ? people[0] : null);
  if (online.length) return { text: onlineText(online), online: true };
  if (who) {
    const extra = people.filter((p) => p.account_id !== who.account_id);
    const suffix = extra.length
      ? ` · ${STRINGS.with(joinNames(extra.map((p) => `${firstName(p.display_name)} (${p.role})`)))}`
      : '';
    return { text: presenceText(who) + suffix, online: false };
  }
  const names = people.map((p) => firstName(p.display_name));
  const base = names.length > 4 ? STRINGS.people(names.length + 1) : joinNames(names.concat(STRINGS.you));
  return { text: base, online: false };
}

/** Who is online, by name: "David is online", "David and Sam online". */
function onlineText(online) {
  const names = online.map((p) => firstName(p.display_name));
  if (names.length === 1) return STRINGS.isOnline(names[0]);
  if (names.length > 3) return STRINGS.manyOnline(names.slice(0, 2), names.length - 2);
  return STRINGS.areOnline(joinNames(names));
}

export function presenceText(p) {
  if (p.presence === 'online') return STRINGS.isOnline(firstName(p.display_name));
  if (p.presence === 'away') return STRINGS.isAway(firstName(p.display_name));
  if (p.last_seen_at) return STRINGS.lastSeen(relativeMoment(p.last_seen_at));
  return STRINGS.offline;
}

export function preview(conv) {
  const m = conv.last_message;
  if (!m) return conv.kind === 'team' ? 'Team conversation created' : 'No messages yet';
  const body = m.redacted ? 'Message deleted' : (m.text || filesLabel(m)).replace(/\s+/g, ' ');
  if (m.sender_id === state.me.account_id) return `You: ${body}`;
  if (isGroup(conv)) return `${firstName(nameOf(m.sender_id))}: ${body}`;
  return body;
}
