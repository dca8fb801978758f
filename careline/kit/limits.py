"""Every size limit careline enforces, in one place. docs/limits.md lists them for users;
tests/test_conventions.py checks that the two agree."""

from __future__ import annotations

# Message text, in Unicode code points after normalisation (NFC) and trimming.
MESSAGE_TEXT_MAX_CHARS = 10_000
# A client-generated message id (idempotency key).
CLIENT_MSG_ID_MAX_CHARS = 64
# A reaction: one emoji, possibly with modifiers and joiners.
REACTION_MAX_CHARS = 16
# Conversation title.
TITLE_MAX_CHARS = 200
# Display names and e-mail addresses.
DISPLAY_NAME_MAX_CHARS = 100
EMAIL_MAX_CHARS = 254
PASSWORD_MIN_CHARS = 10
PASSWORD_MAX_CHARS = 1_000
# Team conversations.
TEAM_MAX_MEMBERS = 200
# One page of any list.
PAGE_DEFAULT = 50
PAGE_MAX = 200
# One WebSocket frame from a client, in bytes.
WS_FRAME_MAX_BYTES = 64 * 1024
# Frames waiting to be written to one socket before it counts as too slow.
WS_SEND_QUEUE_MAX = 1_000
# Conversations in one `resume` request, and events replayed per conversation before
# the client is told to refetch instead.
RESUME_MAX_CONVERSATIONS = 1_000
RESUME_MAX_EVENTS = 1_000
# Request bodies over HTTP, in bytes.
HTTP_BODY_MAX_BYTES = 256 * 1024
