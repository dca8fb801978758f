-- Unread counts kept as messages are written, instead of counted over the unread rows
-- (docs/architecture.md, "Receipts and unread counts"). Statements are separated by a
-- line holding only "--;".
--
-- unread = conversations.message_count - participants.read_messages
--          - participants.own_after_read - participants.redacted_after_read
--
-- conversations.message_count: messages ever sent in the conversation, deleted ones
-- included (a deletion is a redaction: the row stays).
ALTER TABLE conversations ADD COLUMN message_count bigint NOT NULL DEFAULT 0
--;
-- messages.ordinal: the message's position among its conversation's messages, from 1;
-- set at the insert and never changed. A fast-path insert may leave 0: the store's
-- recount_unread puts it right.
ALTER TABLE messages ADD COLUMN ordinal bigint NOT NULL DEFAULT 0
--;
-- read_messages: the messages at or below read_seq (the ordinal of the last of them).
-- own_after_read: the participant's own messages above read_seq.
-- redacted_after_read: other people's deleted messages above read_seq.
ALTER TABLE participants ADD COLUMN read_messages bigint NOT NULL DEFAULT 0,
  ADD COLUMN own_after_read bigint NOT NULL DEFAULT 0,
  ADD COLUMN redacted_after_read bigint NOT NULL DEFAULT 0
--;
-- A read watermark that moves past some of a person's own messages counts only those:
-- (conversation, sender, seq) holds nothing else in that range.
CREATE INDEX messages_sender_seq ON messages (conversation_id, sender_id, seq)
--;
-- Likewise for deleted messages, which are few.
CREATE INDEX messages_redacted_seq ON messages (conversation_id, seq) WHERE redacted_at IS NOT NULL
--;
-- The backfill reads and writes every row, so it runs as the owner with the policies
-- set aside for this transaction only: an owner that is not a superuser would otherwise
-- see no rows (the policies name careline_app alone). FORCE comes back below, in the
-- same transaction, before anyone else can see the tables.
ALTER TABLE messages NO FORCE ROW LEVEL SECURITY
--;
ALTER TABLE conversations NO FORCE ROW LEVEL SECURITY
--;
ALTER TABLE participants NO FORCE ROW LEVEL SECURITY
--;
UPDATE messages m SET ordinal = o.n
FROM (SELECT id, row_number() OVER (PARTITION BY conversation_id ORDER BY seq) AS n FROM messages) o
WHERE m.id = o.id
--;
UPDATE conversations c SET message_count =
  (SELECT count(*) FROM messages m WHERE m.conversation_id = c.id)
--;
UPDATE participants p SET
  read_messages = (SELECT count(*) FROM messages m
                   WHERE m.conversation_id = p.conversation_id AND m.seq <= p.read_seq),
  own_after_read = (SELECT count(*) FROM messages m
                    WHERE m.conversation_id = p.conversation_id AND m.sender_id = p.account_id
                      AND m.seq > p.read_seq),
  redacted_after_read = (SELECT count(*) FROM messages m
                         WHERE m.conversation_id = p.conversation_id AND m.sender_id <> p.account_id
                           AND m.redacted_at IS NOT NULL AND m.seq > p.read_seq)
--;
ALTER TABLE messages FORCE ROW LEVEL SECURITY
--;
ALTER TABLE conversations FORCE ROW LEVEL SECURITY
--;
ALTER TABLE participants FORCE ROW LEVEL SECURITY
