// The network side of administration (views never call the network): what needs
// attention, roles, guardian links, a person's signed-in devices, one's own devices, and
// the organisation's settings.

import { api, listAll } from './api.js';
import { loadOrganisationSettings } from './organisation.js';

export const listPeople = () => listAll('/members');

export async function attention(me) {
  const [people, relations, invitations, quarantined] = await Promise.all([
    listAll('/members'),
    listAll('/care-relationships'),
    listAll('/admin/invitations'),
    listAll('/admin/attachments/quarantined'),
  ]);
  const clients = people.filter((p) => p.role === 'client' && !p.disabled);
  const withTeam = new Set(relations.map((r) => r.client_id));
  const withPrimary = new Set(relations.filter((r) => r.is_primary).map((r) => r.client_id));
  return {
    people,
    clients,
    invitationsWaiting: invitations.filter((i) => !i.expired).length,
    invitationsExpired: invitations.filter((i) => i.expired).length,
    withoutTeam: clients.filter((c) => !withTeam.has(c.account_id)),
    withoutPrimary: clients.filter((c) => withTeam.has(c.account_id) && !withPrimary.has(c.account_id)),
    // last_seen_at is set when someone's client connects: never set, never opened careline.
    neverSeen: people.filter((p) => !p.disabled && !p.last_seen_at && p.account_id !== me),
    quarantined: quarantined.length,
  };
}

export const changeRole = (accountId, role) => api('PATCH', `/admin/members/${accountId}`, { role });

export const guardianLinks = (clientId) => listAll(`/guardian-links?client_id=${clientId}`);
export const linkGuardian = (guardianId, clientId) =>
  api('PUT', '/admin/guardian-links', { guardian_id: guardianId, client_id: clientId });
export const unlinkGuardian = (guardianId, clientId) =>
  api('POST', '/admin/guardian-links/delete', { guardian_id: guardianId, client_id: clientId });

export const memberSessions = (accountId) => api('GET', `/admin/members/${accountId}/sessions`);
export const revokeMemberSession = (accountId, sessionId) =>
  api('DELETE', `/admin/members/${accountId}/sessions/${sessionId}`);
export const revokeMemberSessions = (accountId) => api('POST', `/admin/members/${accountId}/revoke-sessions`);

export const ownSessions = () => api('GET', '/auth/sessions');
export const revokeOwnSession = (sessionId) => api('DELETE', `/auth/sessions/${sessionId}`);

export const organisationSettings = () => loadOrganisationSettings();
export async function updateOrganisationSettings(changes) {
  await api('PATCH', '/admin/organisation/settings', changes);
  return loadOrganisationSettings();
}
