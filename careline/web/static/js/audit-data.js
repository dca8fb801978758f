// The network side of the admin's audit page (views never call the network): events by
// filters, newest first; exports asked for, followed and downloaded.

import { api, listAll } from './api.js';

const PAGE = 50;

function query(filters, extra = {}) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries({ ...filters, ...extra })) {
    if (value) params.set(key, value);
  }
  return params;
}

/** One page of audit events. `filters`: actor_id, conversation_id, action, category,
 * since, until (ISO times), client (an account id: who has opened this client's record). */
export function auditPage(filters, cursor = null) {
  return api('GET', `/admin/audit?${query(filters, { limit: String(PAGE), cursor })}`);
}

/** The organisation's people (for the person and client pickers). */
export function people() {
  return listAll('/members');
}

/** Ask for an export of `filters` as `format` ('csv' or 'json'). */
export function startExport(format, filters) {
  const body = { ...filters };
  if (body.client) { body.client_id = body.client; delete body.client; }
  for (const key of Object.keys(body)) if (!body[key]) delete body[key];
  return api('POST', '/admin/audit/exports', { format, filters: body });
}

export function exportState(id) {
  return api('GET', `/admin/audit/exports/${encodeURIComponent(id)}`);
}

/** Where a finished export downloads from (an attachment; the session cookie is enough). */
export function exportDownloadUrl(id) {
  return `/api/v1/admin/audit/exports/${encodeURIComponent(id)}/download`;
}
