"""Web push (RFC 8030, RFC 8291 encryption, RFC 8292 VAPID): careline's server key, the
browsers' subscriptions, and the push channel of notifications (docs/notifications.md,
"push")."""
