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
INVITATION_TOKEN_MAX_CHARS = 200  # careline's own are 43; anything longer is not one
PASSWORD_MIN_CHARS = 10
PASSWORD_MAX_CHARS = 1_000
# Team conversations.
TEAM_MAX_MEMBERS = 200
# Unread escalation (docs/notifications.md, "Escalation"): the thresholds, in working
# hours (the columns' CHECKs).
ESCALATION_HOURS_MAX = 168
ESCALATION_ADMIN_HOURS_MAX = 336
# One page of any list.
PAGE_DEFAULT = 50
PAGE_MAX = 200
# One WebSocket frame from a client, in bytes.
WS_FRAME_MAX_BYTES = 64 * 1024
# Conversations in one `resume` request, and events replayed per conversation before
# the client is told to refetch instead.
RESUME_MAX_CONVERSATIONS = 1_000
RESUME_MAX_EVENTS = 1_000
# One catch-up read (a resume's, or a gap's): events in all, and of one conversation.
CATCH_UP_READ_EVENTS = 500
CATCH_UP_READ_EVENTS_PER_CONVERSATION = 200
# Request bodies over HTTP, in bytes.
HTTP_BODY_MAX_BYTES = 256 * 1024
# Files (careline/attachments). The per-file size and the per-tenant quota are settings
# (CARELINE_FILE_MAX_MB, CARELINE_TENANT_FILE_QUOTA_MB); these are fixed.
# Files are encrypted in chunks of this many plaintext bytes (the last may be shorter).
FILE_CHUNK_BYTES = 1024 * 1024
# A file name, in characters after cleaning.
FILE_NAME_MAX_CHARS = 200
# Files on one message.
MESSAGE_MAX_ATTACHMENTS = 10
# Images: refused above this many pixels or this many pixels on a side, before decoding.
IMAGE_MAX_PIXELS = 64_000_000
IMAGE_MAX_SIDE = 20_000
# Previews: the thumbnail and the display copy / PDF first page, longest side in pixels.
THUMBNAIL_MAX_SIDE = 320
PREVIEW_MAX_SIDE = 2048
# Office documents are zip archives: at most this many members, this much in all once
# unpacked, and (above 16 MiB unpacked) at most this ratio of unpacked to packed bytes.
ARCHIVE_MAX_MEMBERS = 5_000
ARCHIVE_MAX_UNPACKED_BYTES = 256 * 1024 * 1024
ARCHIVE_MAX_RATIO = 100
# PNG: chunks (and their bytes) before the image data; real files have a few dozen.
PNG_MAX_CHUNKS_BEFORE_IMAGE = 1_000
PNG_MAX_HEADER_BYTES = 8 * 1024 * 1024
# The child process that checks an upload's structure (zip directory, image header):
# its address space beyond the file (which it holds in memory) and its CPU time. Its
# wall time and how many run at once are settings.
FILE_CHECK_MEMORY_BYTES = 512 * 1024 * 1024
FILE_CHECK_CPU_SECONDS = 5
# An image's clean copy (its metadata out, turned upright: encoded again) may be at most
# this many times the file limit.
CLEAN_IMAGE_MAX_FACTOR = 2
# Unattached uploads are removed this long after they were made.
UNATTACHED_UPLOAD_HOURS = 24
# Web push (careline/push): a subscription's endpoint URL and its keys as base64url text
# (a real p256dh is 87 characters, an auth secret 22), and browsers per person per
# organisation.
PUSH_ENDPOINT_MAX_CHARS = 2_048
PUSH_KEY_MAX_CHARS = 128
PUSH_SUBSCRIPTIONS_MAX = 10
# One subscription's tries of one push (429, 5xx, out of reach), the longest Retry-After
# honoured, and the cap of the doubling backoff when none is given.
PUSH_RETRY_MAX = 8
PUSH_RETRY_AFTER_MAX_SECONDS = 3_600
PUSH_RETRY_BACKOFF_MAX_SECONDS = 900
# The notification centre (careline/notifications): ids in one "mark read", and the
# newest records a `resume` ack carries.
NOTIFICATIONS_READ_MAX_IDS = 200
NOTIFICATIONS_RESUME_ITEMS = 20
# Break-glass (careline/breakglass): the longest read-only access an admin may open to a
# conversation they are not part of, in hours (`breakglass_hours` is the default).
BREAKGLASS_HOURS_MAX = 24
