-- Membership in policies: a probe per row checked instead of a set per statement.
--
-- Before: `conversation_id IN (SELECT cl_my_conversations())`. That SECURITY DEFINER set
-- function built the actor's whole list of conversations into a hash, once for each
-- policy a statement meets (about ten per send), with a search_path saved and restored
-- around each call: a clinician with 300 clients paid 300 rows ten times over to send one
-- message. After: `cl_in_conversation(conversation_id)`, one index probe of participants
-- per row checked. Measured with careline's send statements through pgbench (RLS on,
-- 20 senders, alternating runs): about 12 % more sends per second; docs/performance.md.
--
-- No SET search_path on the new helper: a SET clause costs a configuration save and
-- restore on every call, and it is now called per row. Every name in its body is
-- schema-qualified instead, so a temporary table named participants cannot stand in
-- for the real one; careline_app can create nothing else (tests/db/test_rls.py).
CREATE FUNCTION cl_in_conversation(conv uuid) RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER AS
$$ SELECT EXISTS (SELECT 1 FROM public.participants p
                  WHERE p.conversation_id = conv AND p.account_id = public.cl_account_id()
                    AND p.tenant_id = public.cl_tenant_id()) $$
--;
ALTER FUNCTION cl_in_conversation(uuid) OWNER TO careline_rls
--;
REVOKE ALL ON FUNCTION cl_in_conversation(uuid) FROM PUBLIC
--;
GRANT EXECUTE ON FUNCTION cl_in_conversation(uuid) TO careline_app
--;
ALTER POLICY conversations_read ON conversations
  USING (cl_system_for(tenant_id) OR (cl_in_tenant(tenant_id) AND cl_in_conversation(id)))
--;
ALTER POLICY conversations_update ON conversations
  USING (cl_system_for(tenant_id) OR (cl_in_tenant(tenant_id) AND cl_in_conversation(id)))
  WITH CHECK (cl_system_for(tenant_id) OR (cl_in_tenant(tenant_id) AND cl_in_conversation(id)))
--;
ALTER POLICY participants_read ON participants
  USING (cl_system_for(tenant_id) OR (cl_in_tenant(tenant_id) AND cl_in_conversation(conversation_id)))
--;
ALTER POLICY participants_insert ON participants
  WITH CHECK (cl_system_for(tenant_id) OR (cl_in_tenant(tenant_id)
              AND (cl_in_conversation(conversation_id) OR cl_created_conversation(conversation_id))))
--;
ALTER POLICY participants_delete ON participants
  USING (cl_system_for(tenant_id) OR (cl_in_tenant(tenant_id) AND cl_in_conversation(conversation_id)))
--;
ALTER POLICY events_read ON events
  USING (cl_system_for(tenant_id) OR (cl_in_tenant(tenant_id) AND cl_in_conversation(conversation_id)))
--;
ALTER POLICY events_insert ON events
  WITH CHECK (cl_system_for(tenant_id) OR (cl_in_tenant(tenant_id) AND actor_id = cl_account_id()
              AND cl_in_conversation(conversation_id)))
--;
ALTER POLICY messages_read ON messages
  USING (cl_system_for(tenant_id) OR (cl_in_tenant(tenant_id) AND cl_in_conversation(conversation_id)))
--;
ALTER POLICY messages_insert ON messages
  WITH CHECK (cl_system_for(tenant_id) OR (cl_in_tenant(tenant_id) AND sender_id = cl_account_id()
              AND cl_in_conversation(conversation_id)))
--;
ALTER POLICY messages_update ON messages
  USING (cl_system_for(tenant_id) OR (cl_in_tenant(tenant_id) AND sender_id = cl_account_id()
         AND cl_in_conversation(conversation_id)))
  WITH CHECK (cl_system_for(tenant_id) OR (cl_in_tenant(tenant_id) AND sender_id = cl_account_id()))
--;
ALTER POLICY message_revisions_read ON message_revisions
  USING (cl_system_for(tenant_id) OR (cl_in_tenant(tenant_id) AND cl_in_conversation(conversation_id)))
--;
ALTER POLICY message_revisions_insert ON message_revisions
  WITH CHECK (cl_system_for(tenant_id) OR (cl_in_tenant(tenant_id) AND cl_in_conversation(conversation_id)))
--;
ALTER POLICY reactions_read ON reactions
  USING (cl_system_for(tenant_id) OR (cl_in_tenant(tenant_id) AND cl_in_conversation(conversation_id)))
--;
ALTER POLICY reactions_write ON reactions
  USING (cl_system_for(tenant_id) OR (cl_in_tenant(tenant_id) AND account_id = cl_account_id()
         AND cl_in_conversation(conversation_id)))
  WITH CHECK (cl_system_for(tenant_id) OR (cl_in_tenant(tenant_id) AND account_id = cl_account_id()
         AND cl_in_conversation(conversation_id)))
--;
ALTER POLICY attachments_read ON attachments
  USING (cl_system_for(tenant_id)
         OR (cl_in_tenant(tenant_id) AND cl_in_conversation(conversation_id)
             AND (uploader_id = cl_account_id() OR (state = 'available' AND message_id IS NOT NULL)))
         OR (cl_is_admin_in(tenant_id) AND state = 'quarantined'))
--;
ALTER POLICY attachments_insert ON attachments
  WITH CHECK (cl_system_for(tenant_id)
              OR (cl_in_tenant(tenant_id) AND uploader_id = cl_account_id() AND state = 'pending'
                  AND message_id IS NULL AND cl_in_conversation(conversation_id)))
--;
ALTER POLICY attachments_update ON attachments
  USING (cl_system_for(tenant_id)
         OR (cl_in_tenant(tenant_id) AND uploader_id = cl_account_id()
             AND cl_in_conversation(conversation_id)))
  WITH CHECK (cl_system_for(tenant_id)
              OR (cl_in_tenant(tenant_id) AND uploader_id = cl_account_id() AND state = 'available'
                  AND cl_in_conversation(conversation_id)))
--;
ALTER POLICY attachments_delete ON attachments
  USING (cl_system_for(tenant_id)
         OR (cl_in_tenant(tenant_id) AND uploader_id = cl_account_id() AND message_id IS NULL
             AND cl_in_conversation(conversation_id)))
--;
DROP FUNCTION cl_my_conversations()
