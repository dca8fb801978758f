// How a conversation presents itself to the person looking at it: its name, its
// avatar, who "the other side" is, and a one-line status.

import { state, nameOf, typingIn } from './store.js';
import { firstName, joinNames, relativeMoment } from './format.js';
import { filesLabel } from './attachments.js';

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
  const who = counterpart(conv);
  if (conv.kind === 'care' && who) {
    const extra = others(conv).filter((p) => p.account_id !== who.account_id);
    const suffix = extra.length
      ? ` · with ${joinNames(extra.map((p) => `${firstName(p.display_name)} (${p.role})`))}`
      : '';
    return { text: presenceText(who) + suffix, online: who.presence === 'online' };
  }
  const names = others(conv).map((p) => firstName(p.display_name));
  const online = others(conv).filter((p) => p.presence === 'online').length;
  const base = names.length > 4 ? `${names.length + 1} people` : joinNames(names.concat('you'));
  return { text: online ? `${base} · ${online} online` : base, online: online > 0 };
}

export function presenceText(p) {
  if (p.presence === 'online') return 'Online';
  if (p.presence === 'away') return 'Away';
  if (p.last_seen_at) return `Last seen ${relativeMoment(p.last_seen_at)}`;
  return 'Offline';
}

export function preview(conv) {
  const m = conv.last_message;
  if (!m) return conv.kind === 'team' ? 'Team conversation created' : 'No messages yet';
  const body = m.redacted ? 'Message deleted' : (m.text || filesLabel(m)).replace(/\s+/g, ' ');
  if (m.sender_id === state.me.account_id) return `You: ${body}`;
  if (isGroup(conv)) return `${firstName(nameOf(m.sender_id))}: ${body}`;
  return body;
}
