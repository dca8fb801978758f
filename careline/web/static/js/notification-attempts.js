// The network side of the admin's "Notification delivery" section (views never call
// the network): attempts careline made to tell people outside the app, newest first.

import { api, listAll } from './api.js';

const PAGE = 20;

/** One page of attempts: all of them, or (`failed`) only those that did not send. */
export function attemptsPage({ failed = true, cursor = null } = {}) {
  const query = new URLSearchParams({ limit: String(PAGE), failed: String(failed) });
  if (cursor) query.set('cursor', cursor);
  return api('GET', `/admin/notifications/attempts?${query}`);
}

/** Names of the organisation's people by account id (shown to the admin only). */
export async function peopleNames() {
  const people = await listAll('/members');
  return new Map(people.map((p) => [p.account_id, p.display_name]));
}
