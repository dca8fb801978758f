-- careline core schema. Statements are separated by a line holding only "--;".
-- Every table has row-level security enabled AND forced; policies read who is acting
-- from per-transaction settings made by careline/db/tx.py.

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'careline_app') THEN
    CREATE ROLE careline_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'careline_rls') THEN
    CREATE ROLE careline_rls NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
  END IF;
END
$$
--;
GRANT USAGE ON SCHEMA public TO careline_app, careline_rls
--;
-- Who is acting. '' (set earlier in the session, then reset) counts as unset.
CREATE FUNCTION cl_account_id() RETURNS uuid LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT nullif(current_setting('careline.account_id', true), '')::uuid $$
--;
CREATE FUNCTION cl_tenant_id() RETURNS uuid LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT nullif(current_setting('careline.tenant_id', true), '')::uuid $$
--;
CREATE FUNCTION cl_role() RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT coalesce(current_setting('careline.role', true), '') $$
--;
-- System actions (sign-in look-ups, CLI, jobs) may be scoped to one tenant or to none.
CREATE FUNCTION cl_system_for(tenant uuid) RETURNS boolean LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT cl_role() = 'system' AND (cl_tenant_id() IS NULL OR cl_tenant_id() = tenant) $$
--;
CREATE FUNCTION cl_in_tenant(tenant uuid) RETURNS boolean LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT cl_account_id() IS NOT NULL AND tenant = cl_tenant_id() AND cl_role() IN ('admin', 'staff', 'client', 'guardian') $$
--;
CREATE FUNCTION cl_is_staff_in(tenant uuid) RETURNS boolean LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT cl_in_tenant(tenant) AND cl_role() IN ('admin', 'staff') $$
--;
CREATE FUNCTION cl_is_admin_in(tenant uuid) RETURNS boolean LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT cl_in_tenant(tenant) AND cl_role() = 'admin' $$
--;
CREATE TABLE tenants (
  id uuid PRIMARY KEY,
  slug text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  created_at timestamptz NOT NULL DEFAULT now()
)
--;
CREATE TABLE tenant_keys (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  version int NOT NULL CHECK (version > 0),
  master_key_id text NOT NULL,
  wrapped bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, version)
)
--;
CREATE TABLE accounts (
  id uuid PRIMARY KEY,
  email text NOT NULL,
  display_name text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 100),
  password_hash text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz,
  disabled_at timestamptz
)
--;
CREATE UNIQUE INDEX accounts_email_key ON accounts (lower(email))
--;
CREATE TABLE memberships (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  account_id uuid NOT NULL REFERENCES accounts(id),
  role text NOT NULL CHECK (role IN ('admin', 'staff', 'client', 'guardian')),
  created_at timestamptz NOT NULL DEFAULT now(),
  disabled_at timestamptz,
  PRIMARY KEY (tenant_id, account_id)
)
--;
CREATE INDEX memberships_account ON memberships (account_id)
--;
CREATE TABLE guardian_links (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  guardian_id uuid NOT NULL REFERENCES accounts(id),
  client_id uuid NOT NULL REFERENCES accounts(id),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, guardian_id, client_id),
  CHECK (guardian_id <> client_id)
)
--;
CREATE INDEX guardian_links_client ON guardian_links (tenant_id, client_id)
--;
CREATE TABLE care_relationships (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  client_id uuid NOT NULL REFERENCES accounts(id),
  staff_id uuid NOT NULL REFERENCES accounts(id),
  is_primary boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, client_id, staff_id),
  CHECK (client_id <> staff_id)
)
--;
CREATE UNIQUE INDEX care_relationships_one_primary ON care_relationships (tenant_id, client_id) WHERE is_primary
--;
CREATE INDEX care_relationships_staff ON care_relationships (tenant_id, staff_id)
--;
CREATE TABLE sessions (
  id uuid PRIMARY KEY,
  token_hash bytea NOT NULL UNIQUE,
  account_id uuid NOT NULL REFERENCES accounts(id),
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz,
  user_agent text NOT NULL DEFAULT ''
)
--;
CREATE INDEX sessions_account ON sessions (account_id) WHERE revoked_at IS NULL
--;
-- Failed sign-ins, per account and per address ("acct:<uuid>", "addr:<ip>").
CREATE TABLE login_throttle (
  key text PRIMARY KEY,
  failures int NOT NULL,
  last_failure_at timestamptz NOT NULL
)
--;
CREATE TABLE conversations (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  kind text NOT NULL CHECK (kind IN ('care', 'team', 'support')),
  title text CHECK (title IS NULL OR length(title) BETWEEN 1 AND 200),
  client_id uuid REFERENCES accounts(id),
  staff_id uuid REFERENCES accounts(id),
  created_by uuid NOT NULL REFERENCES accounts(id),
  created_at timestamptz NOT NULL DEFAULT now(),
  last_seq bigint NOT NULL DEFAULT 0,
  last_message_seq bigint NOT NULL DEFAULT 0,
  last_activity_at timestamptz NOT NULL DEFAULT now(),
  CHECK (kind <> 'care' OR (client_id IS NOT NULL AND staff_id IS NOT NULL)),
  CHECK (kind <> 'support' OR client_id IS NOT NULL)
)
--;
CREATE UNIQUE INDEX conversations_one_care ON conversations (tenant_id, client_id, staff_id) WHERE kind = 'care'
--;
CREATE UNIQUE INDEX conversations_one_support ON conversations (tenant_id, client_id) WHERE kind = 'support'
--;
CREATE TABLE participants (
  conversation_id uuid NOT NULL REFERENCES conversations(id),
  account_id uuid NOT NULL REFERENCES accounts(id),
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  role text NOT NULL CHECK (role IN ('admin', 'staff', 'client', 'guardian')),
  joined_at timestamptz NOT NULL DEFAULT now(),
  joined_seq bigint NOT NULL DEFAULT 0,
  archived boolean NOT NULL DEFAULT false,
  muted boolean NOT NULL DEFAULT false,
  delivered_seq bigint NOT NULL DEFAULT 0,
  read_seq bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (conversation_id, account_id)
)
--;
CREATE INDEX participants_account ON participants (account_id, tenant_id)
--;
-- The timeline: every durable change in a conversation, gapless by seq. Text lives in
-- messages/message_revisions (encrypted); `data` holds ids and small values only.
CREATE TABLE events (
  conversation_id uuid NOT NULL REFERENCES conversations(id),
  seq bigint NOT NULL CHECK (seq > 0),
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  type text NOT NULL,
  actor_id uuid NOT NULL REFERENCES accounts(id),
  message_id uuid,
  subject_id uuid,
  data jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (conversation_id, seq)
)
--;
CREATE TABLE messages (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  conversation_id uuid NOT NULL REFERENCES conversations(id),
  seq bigint NOT NULL,
  sender_id uuid NOT NULL REFERENCES accounts(id),
  client_msg_id text NOT NULL,
  reply_to_id uuid REFERENCES messages(id),
  body bytea NOT NULL,
  key_version int NOT NULL,
  revision int NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  edited_at timestamptz,
  redacted_at timestamptz,
  redacted_by uuid REFERENCES accounts(id),
  UNIQUE (conversation_id, seq),
  UNIQUE (conversation_id, sender_id, client_msg_id)
)
--;
CREATE TABLE message_revisions (
  message_id uuid NOT NULL REFERENCES messages(id),
  revision int NOT NULL,
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  conversation_id uuid NOT NULL REFERENCES conversations(id),
  body bytea NOT NULL,
  key_version int NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (message_id, revision)
)
--;
CREATE TABLE reactions (
  message_id uuid NOT NULL REFERENCES messages(id),
  account_id uuid NOT NULL REFERENCES accounts(id),
  emoji text NOT NULL CHECK (length(emoji) BETWEEN 1 AND 16),
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  conversation_id uuid NOT NULL REFERENCES conversations(id),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (message_id, account_id, emoji)
)
--;
CREATE INDEX reactions_conversation ON reactions (conversation_id, message_id)
--;
-- Definer helpers, owned by careline_rls (which alone may read these rows in full), so a
-- policy can ask "is the actor a participant?" without recursing into its own policy.
GRANT SELECT ON participants, conversations, guardian_links, accounts TO careline_rls
--;
CREATE POLICY rls_helper ON accounts FOR SELECT TO careline_rls USING (true)
--;
-- An admin adding a member needs to know whether the e-mail already has an account (in
-- any organisation); this answers with the id alone and only to admins and system.
CREATE FUNCTION cl_account_id_by_email(addr text) RETURNS uuid LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public AS
$$ SELECT id FROM accounts WHERE lower(email) = lower(addr)
     AND (cl_role() = 'system' OR (cl_role() = 'admin' AND cl_account_id() IS NOT NULL)) $$
--;
CREATE POLICY rls_helper ON participants FOR SELECT TO careline_rls USING (true)
--;
CREATE POLICY rls_helper ON conversations FOR SELECT TO careline_rls USING (true)
--;
CREATE POLICY rls_helper ON guardian_links FOR SELECT TO careline_rls USING (true)
--;
CREATE FUNCTION cl_my_conversations() RETURNS SETOF uuid LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public AS
$$ SELECT conversation_id FROM participants WHERE account_id = cl_account_id() AND tenant_id = cl_tenant_id() $$
--;
CREATE FUNCTION cl_created_conversation(conv uuid) RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public AS
$$ SELECT EXISTS (SELECT 1 FROM conversations WHERE id = conv AND created_by = cl_account_id() AND tenant_id = cl_tenant_id()) $$
--;
-- Everyone the actor shares a conversation with, and the clients a guardian speaks for.
CREATE FUNCTION cl_my_peers() RETURNS SETOF uuid LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public AS
$$ SELECT p.account_id FROM participants p
   WHERE p.tenant_id = cl_tenant_id()
     AND p.conversation_id IN (SELECT conversation_id FROM participants WHERE account_id = cl_account_id() AND tenant_id = cl_tenant_id())
   UNION
   SELECT client_id FROM guardian_links WHERE guardian_id = cl_account_id() AND tenant_id = cl_tenant_id()
   UNION
   SELECT guardian_id FROM guardian_links WHERE client_id = cl_account_id() AND tenant_id = cl_tenant_id() $$
--;
ALTER FUNCTION cl_my_conversations() OWNER TO careline_rls
--;
ALTER FUNCTION cl_created_conversation(uuid) OWNER TO careline_rls
--;
ALTER FUNCTION cl_my_peers() OWNER TO careline_rls
--;
ALTER FUNCTION cl_account_id_by_email(text) OWNER TO careline_rls
--;
REVOKE ALL ON FUNCTION cl_my_conversations(), cl_created_conversation(uuid), cl_my_peers(), cl_account_id_by_email(text) FROM PUBLIC
--;
GRANT EXECUTE ON FUNCTION cl_my_conversations(), cl_created_conversation(uuid), cl_my_peers(), cl_account_id_by_email(text) TO careline_app
--;
ALTER TABLE tenants ENABLE ROW LEVEL SECURITY
--;
ALTER TABLE tenants FORCE ROW LEVEL SECURITY
--;
CREATE POLICY tenants_read ON tenants FOR SELECT TO careline_app
  USING (cl_system_for(id) OR cl_in_tenant(id))
--;
CREATE POLICY tenants_write ON tenants FOR ALL TO careline_app
  USING (cl_system_for(id)) WITH CHECK (cl_system_for(id))
--;
ALTER TABLE tenant_keys ENABLE ROW LEVEL SECURITY
--;
ALTER TABLE tenant_keys FORCE ROW LEVEL SECURITY
--;
CREATE POLICY tenant_keys_read ON tenant_keys FOR SELECT TO careline_app
  USING (cl_system_for(tenant_id) OR cl_in_tenant(tenant_id))
--;
CREATE POLICY tenant_keys_write ON tenant_keys FOR INSERT TO careline_app
  WITH CHECK (cl_system_for(tenant_id))
--;
ALTER TABLE accounts ENABLE ROW LEVEL SECURITY
--;
ALTER TABLE accounts FORCE ROW LEVEL SECURITY
--;
-- An account is visible to itself, to system actions, and to those who may see its
-- membership in the acting tenant (see memberships_read).
CREATE POLICY accounts_read ON accounts FOR SELECT TO careline_app
  USING (cl_role() = 'system' OR id = cl_account_id()
         OR EXISTS (SELECT 1 FROM memberships m WHERE m.account_id = accounts.id))
--;
CREATE POLICY accounts_insert ON accounts FOR INSERT TO careline_app
  WITH CHECK (cl_role() = 'system' OR cl_is_admin_in(cl_tenant_id()))
--;
CREATE POLICY accounts_update ON accounts FOR UPDATE TO careline_app
  USING (cl_role() = 'system' OR id = cl_account_id()) WITH CHECK (cl_role() = 'system' OR id = cl_account_id())
--;
ALTER TABLE memberships ENABLE ROW LEVEL SECURITY
--;
ALTER TABLE memberships FORCE ROW LEVEL SECURITY
--;
-- Staff and admins see the whole organisation; clients and guardians see themselves,
-- the staff, and the people they share a conversation or a guardian link with.
CREATE POLICY memberships_read ON memberships FOR SELECT TO careline_app
  USING (cl_system_for(tenant_id)
         OR cl_is_staff_in(tenant_id)
         OR (cl_in_tenant(tenant_id) AND (account_id = cl_account_id()
                                          OR role IN ('admin', 'staff')
                                          OR account_id IN (SELECT cl_my_peers()))))
--;
CREATE POLICY memberships_write ON memberships FOR ALL TO careline_app
  USING (cl_system_for(tenant_id) OR cl_is_admin_in(tenant_id))
  WITH CHECK (cl_system_for(tenant_id) OR cl_is_admin_in(tenant_id))
--;
ALTER TABLE guardian_links ENABLE ROW LEVEL SECURITY
--;
ALTER TABLE guardian_links FORCE ROW LEVEL SECURITY
--;
CREATE POLICY guardian_links_read ON guardian_links FOR SELECT TO careline_app
  USING (cl_system_for(tenant_id) OR cl_is_staff_in(tenant_id)
         OR (cl_in_tenant(tenant_id) AND cl_account_id() IN (guardian_id, client_id)))
--;
CREATE POLICY guardian_links_write ON guardian_links FOR ALL TO careline_app
  USING (cl_system_for(tenant_id) OR cl_is_admin_in(tenant_id))
  WITH CHECK (cl_system_for(tenant_id) OR cl_is_admin_in(tenant_id))
--;
ALTER TABLE care_relationships ENABLE ROW LEVEL SECURITY
--;
ALTER TABLE care_relationships FORCE ROW LEVEL SECURITY
--;
CREATE POLICY care_relationships_read ON care_relationships FOR SELECT TO careline_app
  USING (cl_system_for(tenant_id) OR cl_is_staff_in(tenant_id)
         OR (cl_in_tenant(tenant_id) AND (client_id = cl_account_id()
             OR client_id IN (SELECT g.client_id FROM guardian_links g WHERE g.guardian_id = cl_account_id()))))
--;
CREATE POLICY care_relationships_write ON care_relationships FOR ALL TO careline_app
  USING (cl_system_for(tenant_id) OR cl_is_admin_in(tenant_id))
  WITH CHECK (cl_system_for(tenant_id) OR cl_is_admin_in(tenant_id))
--;
ALTER TABLE sessions ENABLE ROW LEVEL SECURITY
--;
ALTER TABLE sessions FORCE ROW LEVEL SECURITY
--;
CREATE POLICY sessions_read ON sessions FOR SELECT TO careline_app
  USING (cl_system_for(tenant_id) OR (cl_in_tenant(tenant_id) AND account_id = cl_account_id())
         OR cl_is_admin_in(tenant_id))
--;
CREATE POLICY sessions_insert ON sessions FOR INSERT TO careline_app
  WITH CHECK (cl_system_for(tenant_id))
--;
CREATE POLICY sessions_update ON sessions FOR UPDATE TO careline_app
  USING (cl_system_for(tenant_id) OR (cl_in_tenant(tenant_id) AND account_id = cl_account_id())
         OR cl_is_admin_in(tenant_id))
  WITH CHECK (cl_system_for(tenant_id) OR (cl_in_tenant(tenant_id) AND account_id = cl_account_id())
         OR cl_is_admin_in(tenant_id))
--;
ALTER TABLE login_throttle ENABLE ROW LEVEL SECURITY
--;
ALTER TABLE login_throttle FORCE ROW LEVEL SECURITY
--;
CREATE POLICY login_throttle_system ON login_throttle FOR ALL TO careline_app
  USING (cl_role() = 'system') WITH CHECK (cl_role() = 'system')
--;
ALTER TABLE conversations ENABLE ROW LEVEL SECURITY
--;
ALTER TABLE conversations FORCE ROW LEVEL SECURITY
--;
CREATE POLICY conversations_read ON conversations FOR SELECT TO careline_app
  USING (cl_system_for(tenant_id) OR (cl_in_tenant(tenant_id) AND id IN (SELECT cl_my_conversations())))
--;
CREATE POLICY conversations_insert ON conversations FOR INSERT TO careline_app
  WITH CHECK (cl_system_for(tenant_id) OR (cl_in_tenant(tenant_id) AND created_by = cl_account_id()))
--;
CREATE POLICY conversations_update ON conversations FOR UPDATE TO careline_app
  USING (cl_system_for(tenant_id) OR (cl_in_tenant(tenant_id) AND id IN (SELECT cl_my_conversations())))
  WITH CHECK (cl_system_for(tenant_id) OR (cl_in_tenant(tenant_id) AND id IN (SELECT cl_my_conversations())))
--;
ALTER TABLE participants ENABLE ROW LEVEL SECURITY
--;
ALTER TABLE participants FORCE ROW LEVEL SECURITY
--;
CREATE POLICY participants_read ON participants FOR SELECT TO careline_app
  USING (cl_system_for(tenant_id) OR (cl_in_tenant(tenant_id) AND conversation_id IN (SELECT cl_my_conversations())))
--;
CREATE POLICY participants_insert ON participants FOR INSERT TO careline_app
  WITH CHECK (cl_system_for(tenant_id) OR (cl_in_tenant(tenant_id)
              AND (conversation_id IN (SELECT cl_my_conversations()) OR cl_created_conversation(conversation_id))))
--;
-- Archive, mute and read watermarks are each participant's own.
CREATE POLICY participants_update ON participants FOR UPDATE TO careline_app
  USING (cl_system_for(tenant_id) OR (cl_in_tenant(tenant_id) AND account_id = cl_account_id()))
  WITH CHECK (cl_system_for(tenant_id) OR (cl_in_tenant(tenant_id) AND account_id = cl_account_id()))
--;
CREATE POLICY participants_delete ON participants FOR DELETE TO careline_app
  USING (cl_system_for(tenant_id) OR (cl_in_tenant(tenant_id) AND conversation_id IN (SELECT cl_my_conversations())))
--;
ALTER TABLE events ENABLE ROW LEVEL SECURITY
--;
ALTER TABLE events FORCE ROW LEVEL SECURITY
--;
CREATE POLICY events_read ON events FOR SELECT TO careline_app
  USING (cl_system_for(tenant_id) OR (cl_in_tenant(tenant_id) AND conversation_id IN (SELECT cl_my_conversations())))
--;
CREATE POLICY events_insert ON events FOR INSERT TO careline_app
  WITH CHECK (cl_system_for(tenant_id) OR (cl_in_tenant(tenant_id) AND actor_id = cl_account_id()
              AND conversation_id IN (SELECT cl_my_conversations())))
--;
ALTER TABLE messages ENABLE ROW LEVEL SECURITY
--;
ALTER TABLE messages FORCE ROW LEVEL SECURITY
--;
CREATE POLICY messages_read ON messages FOR SELECT TO careline_app
  USING (cl_system_for(tenant_id) OR (cl_in_tenant(tenant_id) AND conversation_id IN (SELECT cl_my_conversations())))
--;
CREATE POLICY messages_insert ON messages FOR INSERT TO careline_app
  WITH CHECK (cl_system_for(tenant_id) OR (cl_in_tenant(tenant_id) AND sender_id = cl_account_id()
              AND conversation_id IN (SELECT cl_my_conversations())))
--;
-- Only the sender edits or redacts (never deletes) their message.
CREATE POLICY messages_update ON messages FOR UPDATE TO careline_app
  USING (cl_system_for(tenant_id) OR (cl_in_tenant(tenant_id) AND sender_id = cl_account_id()
         AND conversation_id IN (SELECT cl_my_conversations())))
  WITH CHECK (cl_system_for(tenant_id) OR (cl_in_tenant(tenant_id) AND sender_id = cl_account_id()))
--;
ALTER TABLE message_revisions ENABLE ROW LEVEL SECURITY
--;
ALTER TABLE message_revisions FORCE ROW LEVEL SECURITY
--;
CREATE POLICY message_revisions_read ON message_revisions FOR SELECT TO careline_app
  USING (cl_system_for(tenant_id) OR (cl_in_tenant(tenant_id) AND conversation_id IN (SELECT cl_my_conversations())))
--;
CREATE POLICY message_revisions_insert ON message_revisions FOR INSERT TO careline_app
  WITH CHECK (cl_system_for(tenant_id) OR (cl_in_tenant(tenant_id) AND conversation_id IN (SELECT cl_my_conversations())))
--;
ALTER TABLE reactions ENABLE ROW LEVEL SECURITY
--;
ALTER TABLE reactions FORCE ROW LEVEL SECURITY
--;
CREATE POLICY reactions_read ON reactions FOR SELECT TO careline_app
  USING (cl_system_for(tenant_id) OR (cl_in_tenant(tenant_id) AND conversation_id IN (SELECT cl_my_conversations())))
--;
CREATE POLICY reactions_write ON reactions FOR ALL TO careline_app
  USING (cl_system_for(tenant_id) OR (cl_in_tenant(tenant_id) AND account_id = cl_account_id()
         AND conversation_id IN (SELECT cl_my_conversations())))
  WITH CHECK (cl_system_for(tenant_id) OR (cl_in_tenant(tenant_id) AND account_id = cl_account_id()
         AND conversation_id IN (SELECT cl_my_conversations())))
--;
GRANT SELECT, INSERT, UPDATE ON tenants, tenant_keys, accounts, sessions, conversations, messages TO careline_app
--;
GRANT SELECT, INSERT, UPDATE, DELETE ON memberships, guardian_links, care_relationships, login_throttle, participants, reactions TO careline_app
--;
GRANT SELECT, INSERT ON events, message_revisions TO careline_app
--;
GRANT SELECT ON alembic_version TO careline_app
