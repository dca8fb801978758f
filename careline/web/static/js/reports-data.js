// The network side of the reports page (views never call the network): a month's usage
// and engagement figures, and where their CSV forms are downloaded from.

import { api } from './api.js';

const query = (month, format) => {
  const q = new URLSearchParams();
  if (month) q.set('month', month);
  if (format) q.set('format', format);
  const text = q.toString();
  return text ? `?${text}` : '';
};

export const loadUsage = (month) => api('GET', `/admin/reports/usage${query(month)}`);
export const loadEngagement = (month) => api('GET', `/admin/reports/engagement${query(month)}`);

/** The CSV's address: a plain link downloads it with the session's cookie. */
export const csvHref = (kind, month) => `/api/v1/admin/reports/${kind}${query(month, 'csv')}`;
