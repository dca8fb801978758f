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
--;
-- The sealer finds each organisation's events written since its last seal by txid.
CREATE INDEX audit_events_tenant_txid ON audit_events (tenant_id, txid)
--;
-- The chain (careline/audit/chain.py): each organisation's events in the order they were
-- sealed, each hash = SHA-256 over the previous hash and the event's canonical encoding.
-- Written only by the sealer, never changed: INSERT-only for the app role.
CREATE TABLE audit_chain (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  position bigint NOT NULL CHECK (position > 0),
  event_id uuid NOT NULL UNIQUE,
  prev_hash bytea NOT NULL CHECK (length(prev_hash) = 32),
  hash bytea NOT NULL CHECK (length(hash) = 32),
  PRIMARY KEY (tenant_id, position)
)
--;
-- A signed statement, made at each seal: "this organisation's chain at `position` ends
-- in `hash`, and every event of a transaction below `horizon` is in it". Signed with
-- Ed25519 by a key the database never sees (data_dir/audit-signing.key); `key_id`
-- names that key. A chain rewritten by someone who can write the database no longer
-- matches its signatures.
CREATE TABLE audit_checkpoints (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  position bigint NOT NULL CHECK (position > 0),
  hash bytea NOT NULL CHECK (length(hash) = 32),
  horizon xid8 NOT NULL,
  at timestamptz NOT NULL,
  key_id text NOT NULL,
  signature bytea NOT NULL CHECK (length(signature) = 64),
  PRIMARY KEY (tenant_id, position)
)
--;
ALTER TABLE audit_chain ENABLE ROW LEVEL SECURITY
--;
ALTER TABLE audit_chain FORCE ROW LEVEL SECURITY
--;
ALTER TABLE audit_checkpoints ENABLE ROW LEVEL SECURITY
--;
ALTER TABLE audit_checkpoints FORCE ROW LEVEL SECURITY
--;
CREATE POLICY audit_chain_read ON audit_chain FOR SELECT TO careline_app
  USING (cl_system_for(tenant_id) OR cl_is_admin_in(tenant_id))
--;
CREATE POLICY audit_chain_write ON audit_chain FOR INSERT TO careline_app
  WITH CHECK (cl_system_for(tenant_id))
--;
CREATE POLICY audit_checkpoints_read ON audit_checkpoints FOR SELECT TO careline_app
  USING (cl_system_for(tenant_id) OR cl_is_admin_in(tenant_id))
--;
CREATE POLICY audit_checkpoints_write ON audit_checkpoints FOR INSERT TO careline_app
  WITH CHECK (cl_system_for(tenant_id))
--;
GRANT SELECT, INSERT ON audit_chain, audit_checkpoints TO careline_app
--;
-- Retention (docs/audit.md#retention): the one way audit rows leave. Removes an
-- organisation's sealed events up to the newest checkpoint older than `keep_days`
-- (never fewer than 365 days), with their chain entries and older checkpoints; that
-- checkpoint stays as the chain's signed anchor, so what remains still verifies. Only
-- careline itself (the system actor of that organisation) may call it; it answers how
-- many events went and the anchor's position (0, 0 when nothing was old enough). The
-- caller records `audit.retention_removed` in the same transaction.
CREATE POLICY audit_retention ON audit_events FOR ALL TO careline_rls USING (true) WITH CHECK (false)
--;
CREATE POLICY audit_retention ON audit_chain FOR ALL TO careline_rls USING (true) WITH CHECK (false)
--;
CREATE POLICY audit_retention ON audit_checkpoints FOR ALL TO careline_rls USING (true) WITH CHECK (false)
--;
GRANT SELECT, DELETE ON audit_events, audit_chain, audit_checkpoints TO careline_rls
--;
CREATE FUNCTION cl_audit_prune(tenant uuid, keep_days int, OUT removed bigint, OUT anchor bigint)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS
$$
BEGIN
  removed := 0;
  anchor := 0;
  IF NOT cl_system_for(tenant) OR cl_tenant_id() IS DISTINCT FROM tenant THEN
    RAISE EXCEPTION 'audit retention is careline''s own step, for one organisation'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF keep_days IS NULL OR keep_days < 365 THEN
    RAISE EXCEPTION 'the audit is kept at least 365 days' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  SELECT c.position INTO anchor FROM audit_checkpoints c
   WHERE c.tenant_id = tenant AND c.at < now() - make_interval(days => keep_days)
   ORDER BY c.position DESC LIMIT 1;
  IF anchor IS NULL THEN
    anchor := 0;
    RETURN;
  END IF;
  WITH gone AS (
    DELETE FROM audit_chain WHERE tenant_id = tenant AND position <= anchor RETURNING event_id
  ), events AS (
    DELETE FROM audit_events e USING gone WHERE e.tenant_id = tenant AND e.id = gone.event_id
    RETURNING 1
  )
  SELECT count(*) INTO removed FROM events;
  DELETE FROM audit_checkpoints WHERE tenant_id = tenant AND position < anchor;
END
$$
--;
ALTER FUNCTION cl_audit_prune(uuid, int) OWNER TO careline_rls
--;
REVOKE ALL ON FUNCTION cl_audit_prune(uuid, int) FROM PUBLIC
--;
GRANT EXECUTE ON FUNCTION cl_audit_prune(uuid, int) TO careline_app
