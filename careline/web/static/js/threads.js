// A conversation's messages, the messages part of the store: one map per thread that
// every source merges into (pages of history, live events, the acks of my sends), so
// what arrives in any order converges on what the server holds. No I/O here: store.js
// fetches and calls these.
//
// The order this guards against: a page of history is read by the server, then a
// message is sent (or edited, or reacted to) and its event or ack reaches us, and only
// then does the page land. The page is older than what we already know; merged, it adds
// what we lacked and takes nothing away, and the events that came while it was on its
// way are applied again on top of it (events are idempotent: a message event carries
// the message as it is now, reactions are set insert / delete; docs/protocol.md).

/** A thread as the store keeps it. `loading` is the newest page on its way, `loadingOlder`
 * an earlier one; `generation` changes when the thread is dropped and fetched afresh. */
export function newThread() {
  return {
    messages: new Map(), loaded: false, loading: false, loadingOlder: false, hasMore: false,
    error: null, generation: 0, fetches: 0, log: [],
  };
}

export function sorted(t) {
  return [...t.messages.values()].sort((a, b) => a.seq - b.seq);
}

function oldest(t) {
  let first = null;
  for (const m of t.messages.values()) if (!first || m.seq < first.seq) first = m;
  return first;
}

// A message only ever moves forward: edits raise `revision`, a deletion is final. Of two
// copies at the same point the later one to arrive wins (it carries the same text and
// any reaction since is applied again from the log or by the event that follows).
function rank(m) {
  return (m.redacted ? 2 ** 40 : 0) + m.revision;
}

// Whether a message from an event belongs in what we hold: one we have; anything while
// the newest page is on its way (what it would leave a gap under is trimmed when it
// lands); otherwise nothing older than our oldest while earlier history is still unread.
function belongs(t, m) {
  if (t.messages.has(m.id) || t.loading) return true;
  if (!t.loaded) return false;
  const first = oldest(t);
  return !first || !t.hasMore || m.seq > first.seq;
}

function put(t, m) {
  const known = t.messages.get(m.id);
  if (!known || rank(m) >= rank(known)) t.messages.set(m.id, m);
}

function apply(t, event) {
  if (event.message) {
    if (belongs(t, event.message)) put(t, event.message);
    return;
  }
  const message = t.messages.get(event.message_id);
  if (!message) return;
  const reactions = message.reactions.map((r) => ({ ...r, account_ids: [...r.account_ids] }));
  let entry = reactions.find((r) => r.emoji === event.emoji);
  if (event.added) {
    if (!entry) {
      entry = { emoji: event.emoji, account_ids: [] };
      reactions.push(entry);
    }
    if (!entry.account_ids.includes(event.account_id)) entry.account_ids.push(event.account_id);
  } else if (entry) {
    entry.account_ids = entry.account_ids.filter((a) => a !== event.account_id);
  }
  t.messages.set(message.id, { ...message, reactions: reactions.filter((r) => r.account_ids.length > 0) });
}

/** A live event: `{message}` for a message as it is now, `{message_id, emoji,
 * account_id, added}` for a reaction. Kept while a page is on its way, to be applied
 * again when it lands. */
export function applyEvent(t, event) {
  if (t.fetches > 0) t.log.push(event);
  apply(t, event);
}

/** The message in the ack (or REST answer) of my own send, edit or delete. Unlike an
 * event it has no place in the order of events: it may land after a copy that is already
 * newer (the live event, or a page with a reaction since), so it only adds or advances. */
export function applyResult(t, m) {
  const known = t.messages.get(m.id);
  if (belongs(t, m) && (!known || rank(m) > rank(known))) t.messages.set(m.id, m);
}

/** Before asking for a page: what `landPage` and `endFetch` need to know it. */
export function beginFetch(t) {
  t.fetches += 1;
  return { generation: t.generation, from: t.log.length };
}

// Whether a fetch still belongs to the thread (not dropped and fetched afresh since).
function current(t, fetch) {
  return fetch.generation === t.generation;
}

/** Merge a page (`newest`: the thread's newest page, else an earlier one), then the
 * events that came while it was on its way. False if the thread was reset meanwhile. */
export function landPage(t, fetch, page, { newest }) {
  if (!current(t, fetch)) return false;
  for (const m of page.items) put(t, m);
  t.hasMore = page.has_more;
  if (newest) {
    t.loaded = true;
    t.loading = false;
    // Held from live events while loading but older than this page with more beyond it:
    // they would float above a gap; the earlier page brings them back in place.
    const bottom = page.items.length ? page.items[0].seq : Infinity;
    if (t.hasMore) for (const m of [...t.messages.values()]) if (m.seq < bottom) t.messages.delete(m.id);
  }
  for (const event of t.log.slice(fetch.from)) apply(t, event);
  return true;
}

/** After a fetch, landed or not. */
export function endFetch(t, fetch) {
  if (!current(t, fetch)) return;
  t.fetches -= 1;
  if (t.fetches === 0) t.log = [];
}

/** Forget everything and start again (the server said our copy is too far behind). */
export function resetThread(t) {
  Object.assign(t, newThread(), { generation: t.generation + 1 });
}
