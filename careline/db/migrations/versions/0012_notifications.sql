-- Notifications (careline/notifications, docs/notifications.md).
-- Statements are separated by a line holding only "--;".
--
-- A notification is one record per recipient per thing that happened, kept open while
-- unread: more messages in the same conversation add to its count instead of making new
-- records (coalescing). Its delivery outside the app (web push, e-mail) is state on the
-- same row: a job finds rows that are due, so a crash between commit and delivery loses
-- nothing (the sweep re-finds them) and a retry sends nothing twice (the state says
-- what was sent, and each round of a channel is its own dedupe window).
CREATE TABLE notifications (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  account_id uuid NOT NULL REFERENCES accounts(id),
  -- Kinds are data (careline/notifications/kinds.py): "message", "escalation", ...
  kind text NOT NULL CHECK (kind ~ '^[a-z][a-z_.]{1,39}$'),
  conversation_id uuid REFERENCES conversations(id),
  -- What the record is about, for coalescing: the conversation for messages.
  object_id uuid NOT NULL,
  count int NOT NULL DEFAULT 1 CHECK (count > 0),
  -- The conversation seqs it covers: a click opens the conversation at first_seq.
  first_seq bigint,
  last_seq bigint,
  priority text NOT NULL CHECK (priority IN ('high', 'normal')),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  read_at timestamptz,
  -- Delivery outside the app, per channel: due (at *_due_at), sent, off (the person's
  -- preference), suppressed (a device had it open), cancelled (read in time), failed.
  -- A round is one dedupe window: a push already sent and then more messages make the
  -- next round, which replaces the shown notification (same tag) rather than stacking.
  push_state text NOT NULL DEFAULT 'due'
    CHECK (push_state IN ('due', 'sent', 'off', 'suppressed', 'cancelled', 'failed')),
  push_due_at timestamptz,
  push_round int NOT NULL DEFAULT 1,
  push_count int,  -- the count the last sent push showed
  email_state text NOT NULL DEFAULT 'due'
    CHECK (email_state IN ('due', 'sent', 'off', 'suppressed', 'cancelled', 'failed')),
  email_due_at timestamptz,
  email_round int NOT NULL DEFAULT 1,
  CHECK (conversation_id IS NULL OR object_id = conversation_id OR kind <> 'message')
)
--;
-- At most one open (unread) record per recipient, kind and object: the coalescing key.
CREATE UNIQUE INDEX notifications_open ON notifications (account_id, tenant_id, kind, object_id)
  WHERE read_at IS NULL
--;
CREATE INDEX notifications_recent ON notifications (account_id, tenant_id, updated_at DESC, id)
--;
-- Open records of other kinds about a conversation (escalation notices, which a staff
-- read closes). Message records are found by notifications_open, so they stay out of it:
-- every send writes one, and each index is a write more.
CREATE INDEX notifications_conversation ON notifications (conversation_id)
  WHERE read_at IS NULL AND kind <> 'message'
--;
CREATE INDEX notifications_push_due ON notifications (push_due_at) WHERE push_state = 'due' AND read_at IS NULL
--;
CREATE INDEX notifications_email_due ON notifications (email_due_at) WHERE email_state = 'due' AND read_at IS NULL
--;
ALTER TABLE notifications ENABLE ROW LEVEL SECURITY
--;
ALTER TABLE notifications FORCE ROW LEVEL SECURITY
--;
-- A person sees and marks read only their own, in the organisation they act in; they
-- are written by careline (system) in the transaction that causes them.
CREATE POLICY notifications_own ON notifications FOR SELECT TO careline_app
  USING (cl_system_for(tenant_id) OR (account_id = cl_account_id() AND cl_in_tenant(tenant_id)))
--;
CREATE POLICY notifications_mark ON notifications FOR UPDATE TO careline_app
  USING (cl_system_for(tenant_id) OR (account_id = cl_account_id() AND cl_in_tenant(tenant_id)))
  WITH CHECK (cl_system_for(tenant_id) OR (account_id = cl_account_id() AND cl_in_tenant(tenant_id)))
--;
CREATE POLICY notifications_write ON notifications FOR INSERT TO careline_app
  WITH CHECK (cl_system_for(tenant_id))
--;
CREATE POLICY notifications_remove ON notifications FOR DELETE TO careline_app
  USING (cl_system_for(tenant_id))
--;
GRANT SELECT, INSERT, UPDATE, DELETE ON notifications TO careline_app
--;
-- Every attempt a channel made, without content: the admins' view of what was refused
-- or failed. Reasons are codes (e.g. push_410, smtp_550), never an address or text.
CREATE TABLE notification_attempts (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  account_id uuid NOT NULL REFERENCES accounts(id),
  notification_id uuid REFERENCES notifications(id) ON DELETE SET NULL,
  channel text NOT NULL CHECK (channel IN ('push', 'email', 'digest')),
  kind text NOT NULL CHECK (kind ~ '^[a-z][a-z_.]{1,39}$'),
  outcome text NOT NULL CHECK (outcome IN ('sent', 'retrying', 'refused', 'failed', 'removed')),
  reason text CHECK (reason ~ '^[a-z0-9_]{1,40}$'),
  status int,
  at timestamptz NOT NULL DEFAULT now()
)
--;
CREATE INDEX notification_attempts_recent ON notification_attempts (tenant_id, at DESC)
--;
ALTER TABLE notification_attempts ENABLE ROW LEVEL SECURITY
--;
ALTER TABLE notification_attempts FORCE ROW LEVEL SECURITY
--;
CREATE POLICY notification_attempts_read ON notification_attempts FOR SELECT TO careline_app
  USING (cl_system_for(tenant_id) OR cl_is_admin_in(tenant_id))
--;
CREATE POLICY notification_attempts_write ON notification_attempts FOR INSERT TO careline_app
  WITH CHECK (cl_system_for(tenant_id))
--;
CREATE POLICY notification_attempts_prune ON notification_attempts FOR DELETE TO careline_app
  USING (cl_system_for(tenant_id))
--;
GRANT SELECT, INSERT, DELETE ON notification_attempts TO careline_app
--;
-- A browser's web push subscription (RFC 8030), made by a person signed in to one
-- organisation, on one session: signing out or a revoked session removes it, so a shared
-- device stops getting that person's notifications.
CREATE TABLE push_subscriptions (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  account_id uuid NOT NULL REFERENCES accounts(id),
  session_id uuid,
  endpoint text NOT NULL CHECK (length(endpoint) BETWEEN 9 AND 2048),
  p256dh bytea NOT NULL CHECK (length(p256dh) = 65),
  auth bytea NOT NULL CHECK (length(auth) = 16),
  created_at timestamptz NOT NULL DEFAULT now(),
  last_sent_at timestamptz,
  UNIQUE (tenant_id, endpoint)
)
--;
CREATE INDEX push_subscriptions_account ON push_subscriptions (account_id, tenant_id)
--;
ALTER TABLE push_subscriptions ENABLE ROW LEVEL SECURITY
--;
ALTER TABLE push_subscriptions FORCE ROW LEVEL SECURITY
--;
CREATE POLICY push_subscriptions_own ON push_subscriptions FOR ALL TO careline_app
  USING (cl_system_for(tenant_id) OR (account_id = cl_account_id() AND cl_in_tenant(tenant_id)))
  WITH CHECK (cl_system_for(tenant_id) OR (account_id = cl_account_id() AND cl_in_tenant(tenant_id)))
--;
GRANT SELECT, INSERT, UPDATE, DELETE ON push_subscriptions TO careline_app
--;
-- A person's own choices in one organisation. NULL means "the organisation's default"
-- (notification_defaults, else the built-in default for the person's role).
CREATE TABLE notification_preferences (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  account_id uuid NOT NULL REFERENCES accounts(id),
  push boolean,
  email boolean,
  digest text CHECK (digest IN ('off', 'daily', 'weekly')),
  quiet_hours boolean,
  quiet_start time,
  quiet_end time,
  time_zone text CHECK (length(time_zone) BETWEEN 1 AND 64),
  digest_sent_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, account_id)
)
--;
ALTER TABLE notification_preferences ENABLE ROW LEVEL SECURITY
--;
ALTER TABLE notification_preferences FORCE ROW LEVEL SECURITY
--;
CREATE POLICY notification_preferences_own ON notification_preferences FOR ALL TO careline_app
  USING (cl_system_for(tenant_id) OR (account_id = cl_account_id() AND cl_in_tenant(tenant_id)))
  WITH CHECK (cl_system_for(tenant_id) OR (account_id = cl_account_id() AND cl_in_tenant(tenant_id)))
--;
GRANT SELECT, INSERT, UPDATE, DELETE ON notification_preferences TO careline_app
--;
-- An organisation's defaults, set by its admins, for staff (admin, staff) and for
-- clients (client, guardian). No row: the built-in defaults.
CREATE TABLE notification_defaults (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  audience text NOT NULL CHECK (audience IN ('staff', 'clients')),
  push boolean NOT NULL,
  email boolean NOT NULL,
  digest text NOT NULL CHECK (digest IN ('off', 'daily', 'weekly')),
  quiet_hours boolean NOT NULL,
  quiet_start time NOT NULL,
  quiet_end time NOT NULL,
  time_zone text NOT NULL CHECK (length(time_zone) BETWEEN 1 AND 64),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, audience)
)
--;
ALTER TABLE notification_defaults ENABLE ROW LEVEL SECURITY
--;
ALTER TABLE notification_defaults FORCE ROW LEVEL SECURITY
--;
CREATE POLICY notification_defaults_read ON notification_defaults FOR SELECT TO careline_app
  USING (cl_system_for(tenant_id) OR cl_in_tenant(tenant_id))
--;
CREATE POLICY notification_defaults_write ON notification_defaults FOR ALL TO careline_app
  USING (cl_system_for(tenant_id) OR cl_is_admin_in(tenant_id))
  WITH CHECK (cl_system_for(tenant_id) OR cl_is_admin_in(tenant_id))
--;
GRANT SELECT, INSERT, UPDATE, DELETE ON notification_defaults TO careline_app
--;
-- Per conversation: "all messages" or "only replies to me" (for team conversations).
ALTER TABLE participants ADD COLUMN notify text NOT NULL DEFAULT 'all'
  CHECK (notify IN ('all', 'replies'))
--;
-- What is unread when this migration runs gets its open record, so the bell agrees with
-- the inbox from the first start; nothing is sent for it (push and e-mail `off`): it is
-- old news to tell nobody about at 3 a.m. after an upgrade. Row-level security is
-- forced on these tables for their owner too, so it is lifted for the backfill alone
-- (as in 0007); tests/db/test_notifications_backfill.py runs these statements.
ALTER TABLE notifications NO FORCE ROW LEVEL SECURITY
--;
ALTER TABLE conversations NO FORCE ROW LEVEL SECURITY
--;
ALTER TABLE participants NO FORCE ROW LEVEL SECURITY
--;
INSERT INTO notifications (id, tenant_id, account_id, kind, conversation_id, object_id,
  count, first_seq, last_seq, priority, push_state, email_state)
SELECT gen_random_uuid(), p.tenant_id, p.account_id, 'message', c.id, c.id,
  c.message_count - p.read_messages - p.own_after_read - p.redacted_after_read,
  p.read_seq + 1, c.last_message_seq,
  CASE WHEN c.kind IN ('care', 'support') THEN 'high' ELSE 'normal' END, 'off', 'off'
FROM participants p JOIN conversations c ON c.id = p.conversation_id
WHERE NOT p.muted
  AND c.message_count - p.read_messages - p.own_after_read - p.redacted_after_read > 0
ON CONFLICT (account_id, tenant_id, kind, object_id) WHERE read_at IS NULL DO NOTHING
--;
ALTER TABLE notifications FORCE ROW LEVEL SECURITY
--;
ALTER TABLE conversations FORCE ROW LEVEL SECURITY
--;
ALTER TABLE participants FORCE ROW LEVEL SECURITY
--;
-- Unread escalation, per organisation: off (NULL) until an admin sets the thresholds,
-- counted in working hours of the organisation's own time zone.
ALTER TABLE tenants ADD COLUMN escalation_hours numeric CHECK (escalation_hours > 0 AND escalation_hours <= 168)
--;
ALTER TABLE tenants ADD COLUMN escalation_admin_hours numeric CHECK (escalation_admin_hours > 0 AND escalation_admin_hours <= 336)
--;
ALTER TABLE tenants ADD COLUMN time_zone text NOT NULL DEFAULT 'Europe/London' CHECK (length(time_zone) BETWEEN 1 AND 64)
--;
ALTER TABLE tenants ADD COLUMN work_start time NOT NULL DEFAULT '09:00'
--;
ALTER TABLE tenants ADD COLUMN work_end time NOT NULL DEFAULT '17:00'
--;
ALTER TABLE tenants ADD COLUMN work_days smallint[] NOT NULL DEFAULT '{1,2,3,4,5}'
--;
-- A new message at `at_seq` from the acting person, in one statement and without
-- switching to the system role (two round trips more on every send): the sender's own
-- open record of the conversation is read (sending is reading), and every other
-- participant who has not muted it is told (in team conversations, those who chose
-- "only replies to me" only of replies to them). Runs as careline_rls, for the acting
-- person in their own organisation only, and only if they take part in the
-- conversation. Names are schema-qualified (see 0003's note on cl_in_conversation).
GRANT SELECT, INSERT, UPDATE ON notifications TO careline_rls
--;
CREATE POLICY rls_helper ON notifications FOR ALL TO careline_rls USING (true) WITH CHECK (true)
--;
CREATE FUNCTION cl_tell_participants(conv uuid, at_seq bigint, replied_to uuid,
                                     push_delay double precision, email_delay double precision)
RETURNS TABLE (told boolean, id uuid, tenant_id uuid, account_id uuid, kind text,
               conversation_id uuid, object_id uuid, count int, first_seq bigint,
               last_seq bigint, priority text, created_at timestamptz, updated_at timestamptz,
               read_at timestamptz, push_state text, push_due_at timestamptz, push_round int,
               email_state text, email_due_at timestamptz, email_round int)
LANGUAGE sql VOLATILE SECURITY DEFINER AS
$$
  WITH me AS (
    SELECT public.cl_account_id() AS account_id, public.cl_tenant_id() AS tenant_id
    WHERE public.cl_in_conversation(conv)
  ), seen AS (
    UPDATE public.notifications n SET read_at = now(),
      push_state = CASE WHEN n.push_state = 'due' THEN 'cancelled' ELSE n.push_state END,
      email_state = CASE WHEN n.email_state = 'due' THEN 'cancelled' ELSE n.email_state END
    FROM me
    WHERE n.account_id = me.account_id AND n.tenant_id = me.tenant_id AND n.kind = 'message'
      AND n.object_id = conv AND n.read_at IS NULL
    RETURNING n.*
  ), told AS (
    INSERT INTO public.notifications AS n (id, tenant_id, account_id, kind, conversation_id,
      object_id, count, first_seq, last_seq, priority, push_due_at, email_due_at)
    SELECT gen_random_uuid(), p.tenant_id, p.account_id, 'message', p.conversation_id,
      p.conversation_id, 1, at_seq, at_seq,
      CASE WHEN c.kind IN ('care', 'support') OR p.account_id = replied_to THEN 'high'
           ELSE 'normal' END,
      now() + make_interval(secs => push_delay), now() + make_interval(secs => email_delay)
    FROM me
    JOIN public.participants p ON p.conversation_id = conv AND p.tenant_id = me.tenant_id
    JOIN public.conversations c ON c.id = p.conversation_id
    WHERE p.account_id <> me.account_id AND NOT p.muted
      AND (p.notify = 'all' OR c.kind <> 'team' OR p.account_id = replied_to)
    ON CONFLICT (account_id, tenant_id, kind, object_id) WHERE read_at IS NULL
    DO UPDATE SET
      count = n.count + 1,
      last_seq = greatest(n.last_seq, EXCLUDED.last_seq),
      updated_at = now(),
      priority = CASE WHEN EXCLUDED.priority = 'high' THEN 'high' ELSE n.priority END,
      push_due_at = CASE WHEN n.push_state IN ('due', 'off') THEN n.push_due_at
                         ELSE EXCLUDED.push_due_at END,
      push_round = CASE WHEN n.push_state IN ('due', 'off') THEN n.push_round
                        ELSE n.push_round + 1 END,
      push_state = CASE WHEN n.push_state = 'off' THEN 'off' ELSE 'due' END
    RETURNING n.*
  )
  SELECT true, t.id, t.tenant_id, t.account_id, t.kind, t.conversation_id, t.object_id,
    t.count, t.first_seq, t.last_seq, t.priority, t.created_at, t.updated_at, t.read_at,
    t.push_state, t.push_due_at, t.push_round, t.email_state, t.email_due_at, t.email_round
  FROM told t
  UNION ALL
  SELECT false, s.id, s.tenant_id, s.account_id, s.kind, s.conversation_id, s.object_id,
    s.count, s.first_seq, s.last_seq, s.priority, s.created_at, s.updated_at, s.read_at,
    s.push_state, s.push_due_at, s.push_round, s.email_state, s.email_due_at, s.email_round
  FROM seen s
$$
--;
ALTER FUNCTION cl_tell_participants(uuid, bigint, uuid, double precision, double precision) OWNER TO careline_rls
--;
REVOKE ALL ON FUNCTION cl_tell_participants(uuid, bigint, uuid, double precision, double precision) FROM PUBLIC
--;
GRANT EXECUTE ON FUNCTION cl_tell_participants(uuid, bigint, uuid, double precision, double precision) TO careline_app
