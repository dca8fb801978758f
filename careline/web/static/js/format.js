// Names, initials, avatar colours and dates as people expect to read them.

const TITLES = new Set(['dr', 'dr.', 'mr', 'mr.', 'mrs', 'mrs.', 'ms', 'ms.', 'prof', 'prof.']);

export function initials(name) {
  const words = String(name || '?')
    .trim()
    .split(/\s+/)
    .filter((w) => !TITLES.has(w.toLowerCase()));
  const letters = words.length > 1 ? [words[0], words[words.length - 1]] : words.slice(0, 1);
  return letters.map((w) => Array.from(w)[0] || '').join('').toUpperCase() || '?';
}

export function firstName(name) {
  const words = String(name || '').trim().split(/\s+/).filter((w) => !TITLES.has(w.toLowerCase()));
  return words[0] || name || '';
}

// Every colour keeps white initials above 4.5:1 contrast (WCAG AA for small text).
const AVATAR_COLOURS = ['#0b6e69', '#1d4ed8', '#7c3aed', '#b42318', '#9a3412', '#0f766e', '#be185d', '#0369a1', '#155e75', '#6d28d9'];

export function avatarColour(id) {
  // FNV-1a: ids that share a prefix (time-ordered UUIDs do) still spread over the palette.
  let hash = 0x811c9dc5;
  for (const ch of String(id)) {
    hash ^= ch.charCodeAt(0);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return AVATAR_COLOURS[hash % AVATAR_COLOURS.length];
}

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
const weekdayFmt = new Intl.DateTimeFormat(undefined, { weekday: 'short' });
const shortDateFmt = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' });
const longDayFmt = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long' });
const longDayYearFmt = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'long', year: 'numeric' });
const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

function startOfDay(d) {
  return new Date(d.getFullYear(), d.getMonth(), d.getDate());
}

function daysAgo(d, now = new Date()) {
  return Math.round((startOfDay(now) - startOfDay(d)) / 86_400_000);
}

export function time(value) {
  return timeFmt.format(new Date(value));
}

export function fullDate(value) {
  return fullFmt.format(new Date(value));
}

/** For the conversation list: a time today, then "Yesterday", a weekday, a date. */
export function listTime(value) {
  const d = new Date(value);
  const ago = daysAgo(d);
  if (ago <= 0) return time(d);
  if (ago === 1) return 'Yesterday';
  if (ago < 7) return weekdayFmt.format(d);
  return shortDateFmt.format(d);
}

/** For day separators in a thread. */
export function dayLabel(value) {
  const d = new Date(value);
  const ago = daysAgo(d);
  if (ago <= 0) return 'Today';
  if (ago === 1) return 'Yesterday';
  if (d.getFullYear() === new Date().getFullYear()) return longDayFmt.format(d);
  return longDayYearFmt.format(d);
}

export function dayKey(value) {
  const d = new Date(value);
  return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
}

/** "today at 9:41", "yesterday at 18:02", "on 3 Mar at 11:00". */
export function relativeMoment(value) {
  const d = new Date(value);
  const ago = daysAgo(d);
  if (ago <= 0) return `today at ${time(d)}`;
  if (ago === 1) return `yesterday at ${time(d)}`;
  return `on ${shortDateFmt.format(d)} at ${time(d)}`;
}

export function joinNames(names) {
  if (names.length <= 1) return names.join('');
  if (names.length === 2) return `${names[0]} and ${names[1]}`;
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

export function plural(n, one, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}
