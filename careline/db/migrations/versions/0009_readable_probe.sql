-- A member's read check as one opaque call, so the planner does not believe a policy
-- hides ~99 % of a conversation's rows.
--
-- Before: `cl_system_for(t) OR (cl_in_tenant(t) AND cl_in_conversation(c))`. The two
-- SQL helpers are inlined, so the planner estimates the member branch from its parts:
-- `current_setting(..)::uuid IS NOT NULL`, `tenant_id = <setting>`, the role `= ANY` of
-- four names (no column in it: 0.5 % per name, 2 %) and the probe (a function: 1/3).
-- About 1 % of rows pass, it concludes, so `ORDER BY seq DESC LIMIT 50` must walk about
-- 4,300 index entries to find 50; reading the whole conversation through a bitmap and
-- keeping the top 50 looks cheaper. It is not: every row visible to one reader is
-- visible (or none is), and the bitmap runs the probe on every row of the conversation
-- (80,132 buffers, 125 ms for 25,000 messages, against 159 buffers through the index).
-- After: `cl_system_for(t) OR cl_reads(t, c)`, the same test, with the member branch in
-- one SECURITY DEFINER call: estimated as a function (1/3 of rows pass), the ordered
-- index scan is the cheapest plan for a page at any cursor, generic plan or custom.
-- docs/performance.md, "Clinic scale: history pages".
--
-- The tenant check stays inside the call too: outside, `tenant_id = <setting>` would be
-- estimated at 1/(number of organisations) and multiplied in, though within one
-- conversation every row has the same tenant.
--
-- Like cl_in_conversation (0003): no SET search_path (a per-row cost), every name in
-- the body schema-qualified instead. Only the read (SELECT) policies of the tables read
-- by conversation change; write checks are by key and keep their form.
CREATE FUNCTION cl_reads(tenant uuid, conv uuid) RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER AS
$$ SELECT public.cl_in_tenant(tenant)
          AND EXISTS (SELECT 1 FROM public.participants p
                      WHERE p.conversation_id = conv AND p.account_id = public.cl_account_id()
                        AND p.tenant_id = public.cl_tenant_id()) $$
--;
ALTER FUNCTION cl_reads(uuid, uuid) OWNER TO careline_rls
--;
REVOKE ALL ON FUNCTION cl_reads(uuid, uuid) FROM PUBLIC
--;
GRANT EXECUTE ON FUNCTION cl_reads(uuid, uuid) TO careline_app
--;
ALTER POLICY conversations_read ON conversations
  USING (cl_system_for(tenant_id) OR cl_reads(tenant_id, id))
--;
ALTER POLICY participants_read ON participants
  USING (cl_system_for(tenant_id) OR cl_reads(tenant_id, conversation_id))
--;
ALTER POLICY events_read ON events
  USING (cl_system_for(tenant_id) OR cl_reads(tenant_id, conversation_id))
--;
ALTER POLICY messages_read ON messages
  USING (cl_system_for(tenant_id) OR cl_reads(tenant_id, conversation_id))
--;
ALTER POLICY message_revisions_read ON message_revisions
  USING (cl_system_for(tenant_id) OR cl_reads(tenant_id, conversation_id))
--;
ALTER POLICY reactions_read ON reactions
  USING (cl_system_for(tenant_id) OR cl_reads(tenant_id, conversation_id))
