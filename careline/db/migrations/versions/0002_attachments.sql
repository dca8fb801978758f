-- Attachments: files in conversations. Statements are separated by a line holding only "--;".
-- The bytes live in the file store, encrypted; a row holds ids, sizes and the file's
-- name (encrypted like message text), never content.
CREATE TABLE attachments (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  conversation_id uuid NOT NULL REFERENCES conversations(id),
  uploader_id uuid NOT NULL REFERENCES accounts(id),
  message_id uuid REFERENCES messages(id),
  state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'available', 'quarantined')),
  name bytea NOT NULL,
  media_type text NOT NULL CHECK (length(media_type) BETWEEN 3 AND 100),
  kind text NOT NULL CHECK (kind IN ('image', 'pdf', 'document', 'text', 'audio', 'video')),
  size bigint NOT NULL CHECK (size > 0),
  sha256 bytea NOT NULL CHECK (length(sha256) = 32),
  width int CHECK (width > 0),
  height int CHECK (height > 0),
  chunk_bytes int NOT NULL CHECK (chunk_bytes > 0),
  key_version int NOT NULL,
  variants jsonb NOT NULL DEFAULT '{}',
  scan_attempts int NOT NULL DEFAULT 0,
  scan_error text,
  scan_result text,
  scanned_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  -- Only a file scanned clean is ever attached to a message.
  CHECK (message_id IS NULL OR state = 'available')
)
--;
CREATE INDEX attachments_message ON attachments (message_id) WHERE message_id IS NOT NULL
--;
CREATE INDEX attachments_pending ON attachments (created_at) WHERE state = 'pending'
--;
CREATE INDEX attachments_unattached ON attachments (created_at) WHERE message_id IS NULL
--;
CREATE INDEX attachments_tenant ON attachments (tenant_id, state)
--;
ALTER TABLE attachments ENABLE ROW LEVEL SECURITY
--;
ALTER TABLE attachments FORCE ROW LEVEL SECURITY
--;
-- Before it is scanned clean and attached to a message, a file is its uploader's alone.
-- Admins see quarantined files' rows (to act on the alert), never their bytes or names.
CREATE POLICY attachments_read ON attachments FOR SELECT TO careline_app
  USING (cl_system_for(tenant_id)
         OR (cl_in_tenant(tenant_id) AND conversation_id IN (SELECT cl_my_conversations())
             AND (uploader_id = cl_account_id() OR (state = 'available' AND message_id IS NOT NULL)))
         OR (cl_is_admin_in(tenant_id) AND state = 'quarantined'))
--;
CREATE POLICY attachments_insert ON attachments FOR INSERT TO careline_app
  WITH CHECK (cl_system_for(tenant_id)
              OR (cl_in_tenant(tenant_id) AND uploader_id = cl_account_id() AND state = 'pending'
                  AND message_id IS NULL AND conversation_id IN (SELECT cl_my_conversations())))
--;
CREATE POLICY attachments_update ON attachments FOR UPDATE TO careline_app
  USING (cl_system_for(tenant_id)
         OR (cl_in_tenant(tenant_id) AND uploader_id = cl_account_id()
             AND conversation_id IN (SELECT cl_my_conversations())))
  WITH CHECK (cl_system_for(tenant_id)
              OR (cl_in_tenant(tenant_id) AND uploader_id = cl_account_id() AND state = 'available'
                  AND conversation_id IN (SELECT cl_my_conversations())))
--;
CREATE POLICY attachments_delete ON attachments FOR DELETE TO careline_app
  USING (cl_system_for(tenant_id)
         OR (cl_in_tenant(tenant_id) AND uploader_id = cl_account_id() AND message_id IS NULL
             AND conversation_id IN (SELECT cl_my_conversations())))
--;
-- A person changes an attachment in one way only: attaching it to a message, once.
-- Scan results, state and everything else are the system's (the scan job) to write.
CREATE FUNCTION cl_attachments_guard() RETURNS trigger LANGUAGE plpgsql AS
$$
BEGIN
  IF cl_role() = 'system' THEN
    RETURN NEW;
  END IF;
  IF OLD.message_id IS NOT NULL OR NEW.message_id IS NULL
     OR to_jsonb(NEW) - 'message_id' IS DISTINCT FROM to_jsonb(OLD) - 'message_id' THEN
    RAISE EXCEPTION 'an attachment changes only by being attached to a message'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END
$$
--;
CREATE TRIGGER attachments_guard BEFORE UPDATE ON attachments
  FOR EACH ROW EXECUTE FUNCTION cl_attachments_guard()
--;
-- The tenant's stored bytes, for the quota: the uploader cannot see the rows of others,
-- so a definer function (owned by careline_rls, like the participant helpers) sums them.
GRANT SELECT ON attachments TO careline_rls
--;
CREATE POLICY rls_helper ON attachments FOR SELECT TO careline_rls USING (true)
--;
CREATE FUNCTION cl_tenant_file_bytes() RETURNS bigint LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public AS
$$ SELECT coalesce(sum(size), 0)::bigint FROM attachments
   WHERE tenant_id = cl_tenant_id() AND state <> 'quarantined' $$
--;
ALTER FUNCTION cl_tenant_file_bytes() OWNER TO careline_rls
--;
REVOKE ALL ON FUNCTION cl_tenant_file_bytes() FROM PUBLIC
--;
GRANT EXECUTE ON FUNCTION cl_tenant_file_bytes() TO careline_app
--;
GRANT SELECT, INSERT, UPDATE, DELETE ON attachments TO careline_app
--;
-- The job queue (procrastinate) lives in its own schema: its tables hold job ids and
-- arguments (ids only), no tenant data. 0002_attachments.py loads procrastinate's
-- schema into it and grants careline_app what the worker needs.
CREATE SCHEMA procrastinate
