// The organisation's settings every member's client applies (GET /organisation/settings):
// who may start a conversation with whom, and whether the device keeps recent
// conversations. Fetched after sign-in (store.startLive) and again where a choice
// depends on it, so a change an admin made meanwhile is honoured.

import { api, listAll } from './api.js';

export const DEFAULT_SETTINGS = Object.freeze({ conversation_start: 'any_client', device_storage: true });

let current = { ...DEFAULT_SETTINGS };

/** The settings last fetched (the defaults until then). */
export function organisationSettings() {
  return current;
}

export async function loadOrganisationSettings() {
  current = { ...DEFAULT_SETTINGS, ...(await api('GET', '/organisation/settings')) };
  return current;
}

export function forgetOrganisationSettings() {
  current = { ...DEFAULT_SETTINGS };
}

/** For the new-message directory: null when `me` may start with any client, else the set
 * of client ids they may start with (those whose care team holds them). The server
 * enforces the same rule (403 care_team_only); admins are never restricted. */
export async function startableClients(me) {
  const settings = await loadOrganisationSettings();
  if (me.role !== 'staff' || settings.conversation_start !== 'care_team') return null;
  const mine = await listAll(`/care-relationships?staff_id=${me.account_id}`);
  return new Set(mine.map((r) => r.client_id));
}
