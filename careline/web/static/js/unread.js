// What is waiting, counted the same way wherever it shows (the Archived tab's badge, the
// welcome pane, the tab title): conversations with unread messages, in the inbox and in
// Archived. Muted ones count too: muting quietens a conversation, it never hides it.

import { visibleConversations } from './store.js';

export function unreadSummary() {
  const count = (archived) => visibleConversations({ archived }).filter((c) => c.unread > 0).length;
  const inbox = count(false);
  const archived = count(true);
  return { inbox, archived, total: inbox + archived };
}
