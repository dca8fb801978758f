-- The audit (careline/audit/, docs/audit.md). Statements are separated by a line holding
-- only "--;".
--
-- One row per access to clinical data or change by an admin or by careline, written in
-- the transaction it records. Ids, counts and closed words only; a break-glass reason is
-- encrypted under the organisation's data key (AAD: "audit-reason:<id>").
--
-- Append-only for the app role: it may INSERT (its own tenant, as itself) and SELECT
-- (admins of the tenant, and careline itself), never UPDATE or DELETE. Retention removal
-- is a separate, audited operation (a definer function, below).
CREATE TABLE audit_events (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  at timestamptz NOT NULL,
  actor_account_id uuid,
  actor_role text NOT NULL CHECK (actor_role IN ('admin', 'staff', 'client', 'guardian', 'system')),
  session_id uuid,
  action text NOT NULL CHECK (action ~ '^[a-z][a-z_]*\.[a-z_]+$'),
  conversation_id uuid,
  object_id uuid,
  subject_account_id uuid,
  detail jsonb NOT NULL DEFAULT '{}',
  reason_ct bytea,
  key_version int,
  source inet,
  user_agent text CHECK (length(user_agent) <= 256),
  -- Which transaction wrote it: the chain is sealed only past every transaction still
  -- running, so a slow transaction's events can never be slipped in behind the seal.
  txid xid8 NOT NULL DEFAULT pg_current_xact_id()
)
--;
CREATE INDEX audit_events_tenant_at ON audit_events (tenant_id, at DESC, id DESC)
--;
CREATE INDEX audit_events_conversation ON audit_events (conversation_id, at DESC)
  WHERE conversation_id IS NOT NULL
--;
CREATE INDEX audit_events_actor ON audit_events (actor_account_id, at DESC)
  WHERE actor_account_id IS NOT NULL
--;
ALTER TABLE audit_events ENABLE ROW LEVEL SECURITY
--;
ALTER TABLE audit_events FORCE ROW LEVEL SECURITY
--;
CREATE POLICY audit_events_read ON audit_events FOR SELECT TO careline_app
  USING (cl_system_for(tenant_id) OR cl_is_admin_in(tenant_id))
--;
-- Anyone acting in a tenant records their own accesses, as themselves.
CREATE POLICY audit_events_write ON audit_events FOR INSERT TO careline_app
  WITH CHECK (
    cl_system_for(tenant_id)
    OR (cl_in_tenant(tenant_id) AND actor_account_id = cl_account_id() AND actor_role = cl_role())
  )
--;
GRANT SELECT, INSERT ON audit_events TO careline_app
