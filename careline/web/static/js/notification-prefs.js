// The network side of notification preferences (views never call the network): your own
// choices in this organisation, and (admins) the organisation's defaults per audience.

import { api } from './api.js';

export const myPreferences = () => api('GET', '/me/notifications');
export const updateMyPreferences = (changes) => api('PATCH', '/me/notifications', changes);

export const notificationDefaults = () => api('GET', '/admin/notifications/defaults');
// `changes`: { staff?: {...}, clients?: {...} }, only the fields that change.
export const updateNotificationDefaults = (changes) => api('PATCH', '/admin/notifications/defaults', changes);

// The IANA time zones this browser knows, with `extra` (the ones in use) kept in.
export function timeZones(...extra) {
  const known = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  return [...new Set([...known, ...extra.filter(Boolean)])].sort();
}

export function deviceTimeZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || null;
  } catch {
    return null;
  }
}
