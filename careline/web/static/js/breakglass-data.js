// The data of emergency intervention (views/admin-conversations.js): the organisation's
// conversations and the admin's steps, through the API.

import { api } from './api.js';

const BASE = '/admin/conversations';

export const listConversations = (cursor) =>
  api('GET', `${BASE}?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
export const listParticipants = (id) => api('GET', `${BASE}/${id}/participants`);
export const freeze = (id, reason) => api('POST', `${BASE}/${id}/freeze`, { reason });
export const unfreeze = (id, reason) => api('POST', `${BASE}/${id}/unfreeze`, { reason });
export const removeParticipant = (id, accountId, reason) =>
  api('POST', `${BASE}/${id}/participants/${accountId}/remove`, { reason });
export const openAccess = (id, reason, hours) => api('POST', `${BASE}/${id}/access`, { reason, hours });
export const endAccess = (id) => api('DELETE', `${BASE}/${id}/access`);
export const readMessages = (id) => api('GET', `${BASE}/${id}/messages?limit=200`);
