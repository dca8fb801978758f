"""careline's settings: environment variables (prefix CARELINE_) and an optional file
named by CARELINE_CONFIG, validated once at start. docs/config.md is generated from this
class (`careline config-docs`) and a test keeps the two in step."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Literal
from urllib.parse import urlparse

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from careline.kit import budgets


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CARELINE_",
        env_file=os.environ.get("CARELINE_CONFIG"),
        extra="forbid",
        validate_default=True,
    )

    data_dir: Path = Field(
        Path(".careline"),
        description="Where careline keeps its embedded database, master key and files.",
    )
    database_url: str | None = Field(
        None,
        validation_alias=AliasChoices("CARELINE_DATABASE_URL", "DATABASE_URL"),
        description="PostgreSQL (>= 14) for migrations, as the schema owner. Unset: careline "
        "runs the embedded server in data_dir.",
    )
    database_app_url: str | None = Field(
        None,
        validation_alias=AliasChoices("CARELINE_DATABASE_APP_URL", "DATABASE_APP_URL"),
        description="How the running app connects: a login for the role `careline_app` "
        "(created by `careline migrate`, no superuser, no BYPASSRLS). Required with "
        "database_url.",
    )
    database_durable: bool = Field(
        True,
        description="Embedded server only: fsync and synchronous commit. Turn off only for "
        "throwaway test databases.",
    )
    db_pool_size: int = Field(20, ge=2, le=200, description="Connections in the app's pool.")
    host: str = Field("127.0.0.1", description="Address the HTTP server listens on.")
    port: int = Field(8080, ge=0, le=65535, description="Port the HTTP server listens on.")
    public_url: str | None = Field(
        None,
        description="The URL users reach careline at; default http://host:port. Decides "
        "Secure cookies and the allowed WebSocket Origin.",
    )
    extra_origins: list[str] = Field(
        default_factory=list,
        description="Further Origins allowed to open the WebSocket (JSON list).",
    )
    extra_hosts: list[str] = Field(
        default_factory=list,
        description="Further names careline answers to in the `Host` header (JSON list; "
        "`name` for any port, `name:port` for one). public_url's host always is; /health "
        "answers any. Other Hosts get 400 invalid_host.",
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Reverse proxies (JSON list of IPs or CIDRs) whose X-Forwarded-For and "
        "X-Forwarded-Proto are believed; the client is the rightmost address not among "
        "them. Empty: those headers are ignored and the peer is the client.",
    )
    session_idle_minutes: int = Field(
        720, ge=1, le=60 * 24 * 30, description="A session unused this long ends."
    )
    session_absolute_hours: int = Field(
        168, ge=1, le=24 * 90, description="A session ends this long after sign-in, used or not."
    )
    password_time_cost: int = Field(3, ge=1, le=20, description="argon2id passes.")
    password_memory_kib: int = Field(
        65536, ge=1024, le=4 * 1024 * 1024, description="argon2id memory per hash, KiB."
    )
    login_free_failures: int = Field(
        5, ge=1, le=100, description="Failed sign-ins per account or address before slowing."
    )
    login_max_delay_seconds: int = Field(
        900, ge=1, le=86400, description="The longest wait imposed after repeated failures."
    )
    ws_heartbeat_seconds: float = Field(
        20.0, gt=0, le=300, description="Server ping interval; a peer silent for two is dead."
    )
    ws_session_recheck_seconds: float = Field(
        60.0,
        gt=0,
        le=3600,
        description="How often an open socket re-checks (and touches) its session, so a "
        "session that expires or is revoked while the socket is idle ends there too.",
    )
    ws_send_queue_max: int = Field(
        1000,
        ge=10,
        le=100_000,
        description="Frames waiting for one socket before it counts as too slow and is "
        "closed with 4008 (the client resumes).",
    )
    # Sockets under abuse (issue 16): a peer that stops reading, one person's socket count.
    ws_write_timeout_seconds: float = Field(
        10.0,
        gt=0,
        le=300,
        description="A socket whose pending output makes no room this long (a frame, or its "
        "close frame, cannot be written because the peer stopped reading) is aborted: its "
        "connection is dropped without a closing handshake and everything it held is freed. "
        "Also how long a closed socket waits for the peer's answer to its close frame.",
    )
    ws_send_buffer_bytes: int = Field(
        262_144,
        ge=16_384,
        le=16_777_216,
        description="The kernel's send buffer for each socket (the kernel would grow it "
        "to 4 MiB): what a peer that stops reading can pin in kernel memory, beyond the "
        "server's own 64 KiB buffer per socket.",
    )
    ws_max_sockets_per_person: int = Field(
        30,
        ge=1,
        le=10_000,
        description="Open sockets one person may have on this node (every device and tab is "
        "one). Over it, their oldest socket is closed with 4029.",
    )
    shutdown_grace_seconds: float = Field(
        5.0,
        gt=0,
        le=300,
        description="On SIGTERM: how long requests and socket ops already running may take "
        "to finish (their replies are sent) before the server closes what is left.",
    )
    typing_ttl_seconds: float = Field(
        6.0, gt=0, le=60, description="A typing indicator expires unless renewed this often."
    )
    away_after_seconds: int = Field(
        300, ge=10, le=86400, description="Clients report 'away' after this long idle."
    )
    key_cache_seconds: float = Field(
        30.0,
        ge=0,
        le=3600,
        description="How long a running server trusts its idea of each organisation's "
        "newest data key: the longest it keeps writing under the old one after "
        "`careline keys rotate`.",
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        "info", description="Log verbosity. Logs never contain message text or names."
    )
    file_max_mb: int = Field(
        25,
        ge=1,
        le=2048,
        description="The largest file one upload may be, MiB. clamd's StreamMaxLength must "
        "be at least this, or such files stay pending.",
    )
    tenant_file_quota_mb: int = Field(
        10240,
        ge=1,
        description="Files one organisation may keep in all, MiB (as uploaded; previews "
        "are not counted).",
    )
    clamd_address: str | None = Field(
        None,
        description="Where an external clamd listens: `unix:/path/to/socket` or "
        "`tcp:host:port` (Debian's own service: `unix:/var/run/clamav/clamd.ctl`). Unset: "
        "`careline serve` runs and supervises its own clamd in data_dir, when ClamAV is "
        "installed and clamd_database_dir holds signatures.",
    )
    clamd_database_dir: Path = Field(
        Path("/var/lib/clamav"),
        description="The signature database careline's own clamd loads (freshclam keeps "
        "Debian's current). With none there, file sharing is paused and /health/ready "
        "says `degraded`.",
    )
    scanner_check_seconds: float = Field(
        5.0,
        gt=0,
        le=300,
        description="How often careline looks at its virus scanner: restarts its own clamd, "
        "and updates what /health/ready and the clients are told.",
    )
    scan_timeout_seconds: float = Field(
        60.0,
        gt=0,
        le=3600,
        description="A scan taking longer counts as not done: the file stays pending.",
    )
    scan_retry_seconds: float = Field(
        30.0,
        gt=0,
        le=86400,
        description="Wait before scanning again when clamd was down, slow or over its "
        "limits. Files are never served unscanned.",
    )
    preview_timeout_seconds: float = Field(
        30.0, gt=0, le=600, description="Making one file's previews may take this long."
    )
    file_check_timeout_seconds: float = Field(
        30.0,
        gt=0,
        le=600,
        description="Checking an upload's structure (an office document's parts, an "
        "image's header) in its limited child process may take this long, and an upload "
        "waits at most this long for a free checker; over it: 422 `file_too_complex`, "
        "503 `checks_busy`.",
    )
    file_checks_concurrency: int = Field(
        2,
        ge=1,
        le=64,
        description="Upload checking child processes run at once on this node; further "
        "uploads wait for one to finish.",
    )
    storage_backend: Literal["local", "s3"] = Field(
        "local", description="Where encrypted files are kept: a local directory or S3."
    )
    storage_dir: Path | None = Field(
        None, description="Local store directory; default `files` inside data_dir."
    )
    s3_endpoint_url: str | None = Field(
        None, description="S3 store: the endpoint of an S3-compatible service (unset: AWS)."
    )
    s3_bucket: str | None = Field(None, description="S3 store: the bucket (required for s3).")
    s3_region: str = Field("us-east-1", description="S3 store: the region.")
    s3_access_key_id: str | None = Field(
        None, description="S3 store: access key id (unset: the usual AWS credential chain)."
    )
    s3_secret_access_key: SecretStr | None = Field(None, description="S3 store: secret key.")
    file_link_ttl_seconds: int = Field(
        300,
        ge=10,
        le=86400,
        description="Download links expire after this long and work only for the person "
        "they were made for.",
    )
    invitation_days: int = Field(
        7,
        ge=1,
        le=30,
        description="An invitation's link works once, for this many days; a new invitation "
        "to the same e-mail replaces it.",
    )
    smtp_host: str | None = Field(
        None,
        description="SMTP relay for outbound e-mail (invitations). Unset: no e-mail is sent "
        "and an admin is shown each invitation's link once, to pass on.",
    )
    smtp_port: int = Field(587, ge=1, le=65535, description="SMTP relay port.")
    smtp_username: str | None = Field(
        None, description="SMTP login (unset: send without authenticating)."
    )
    smtp_password: SecretStr | None = Field(None, description="SMTP password.")
    smtp_from: str = Field(
        "careline@localhost",
        description="The From address of careline's e-mail.",
    )
    smtp_starttls: bool = Field(
        True,
        description="Require STARTTLS before sending (turn off only for a relay on the same "
        "machine or in tests).",
    )
    smtp_timeout_seconds: float = Field(
        30.0, gt=0, le=300, description="One SMTP exchange may take this long."
    )
    # --- E-mail notifications (issue 11 item 4; docs/notifications.md#email) ---
    smtp_tls: bool = Field(
        False,
        description="Implicit TLS (SMTPS, usually port 465): TLS from the first byte. "
        "When on, CARELINE_SMTP_STARTTLS does not apply.",
    )
    smtp_ca_file: Path | None = Field(
        None,
        description="PEM file of the certificate authorities trusted for the relay's "
        "certificate (TLS or STARTTLS), instead of the system's: for a relay with a "
        "private CA. Unset: the system's trust store.",
    )
    notify_unsubscribe_days: int = Field(
        90,
        ge=1,
        le=365,
        description="The one-click unsubscribe link in a notification e-mail or digest "
        "works for this many days (it needs no sign-in and turns off only that e-mail).",
    )
    notify_digest_hour: int = Field(
        8,
        ge=0,
        le=23,
        description="Digests go out from this hour of each person's morning, in their own "
        "time zone (daily: every day; weekly: on Mondays), once per period.",
    )
    # --- Notifications (issue 11; docs/notifications.md) ---
    notifications_enabled: bool = Field(
        True,
        description="Tell people of new messages (in the app, by push and e-mail). Off: "
        "nobody is told of anything; for measuring what notifications cost "
        "(`careline bench`), not for production.",
    )
    # --- Emergency intervention (issue 12 item 2; docs/operations.md) ---
    breakglass_hours: int = Field(
        4,
        ge=1,
        le=24,
        description="How long an admin's read-only access to a conversation they are not "
        "part of lasts unless they ask for less (at most 24 hours, BREAKGLASS_HOURS_MAX).",
    )
    audit_enabled: bool = Field(
        True,
        description="Record every access to clinical data and every admin change in the "
        "audit (docs/audit.md). Off: nothing is recorded; for measuring what the audit "
        "costs (`careline bench`), not for production.",
    )
    # --- The audit chain (issue 12, audit-core; docs/audit.md) ---
    audit_seal_seconds: float = Field(
        5.0,
        ge=0.5,
        le=3600,
        description="How often new audit events are sealed into each organisation's hash "
        "chain and a signed checkpoint is made (also once at start).",
    )
    audit_keep_days: int = Field(
        2190,
        ge=365,
        le=36500,
        description="Audit events are kept this many days (default six years), then "
        "removed by the nightly retention job (`careline audit prune`), which keeps the "
        "chain verifiable from its new start.",
    )
    notifications_keep_days: int = Field(
        90,
        ge=1,
        le=3650,
        description="Read notification records, and the record of delivery attempts, are "
        "removed after this many days (the messages themselves are kept).",
    )
    notify_push_delay_seconds: float = Field(
        30.0,
        ge=0,
        le=3600,
        description="A web push waits this long after the first unread message, so a "
        "message read at once sends nothing; more messages meanwhile join it.",
    )
    notify_email_delay_seconds: float = Field(
        900.0,
        ge=0,
        le=7 * 86400,
        description="An e-mail is sent only if the messages are still unread this long "
        "after the first of them; at most one per unread stretch of a conversation.",
    )
    jobs_concurrency: int = Field(
        2, ge=1, le=64, description="Background jobs (virus scans, previews) run at once here."
    )
    # --- Web push (issue 11 item 3; careline/push, docs/notifications.md#push) ---
    push_contact: str | None = Field(
        None,
        description="The VAPID `sub` push services may contact about careline's pushes "
        "(`mailto:ops@example.org` or an https URL); default public_url when it is https.",
        pattern=r"^(mailto:[^@\s]+@[^@\s]+|https://\S+)$",
    )
    push_timeout_seconds: float = Field(
        10.0, gt=0, le=120, description="One POST to a push service may take this long."
    )
    push_retry_base_seconds: float = Field(
        5.0,
        ge=0,
        le=600,
        description="A push a push service put off (429, 5xx) without Retry-After is tried "
        "again after this, doubling per try; Retry-After, when given, wins.",
    )

    # --- Sign-in under load (issue 16: password hashing and sign-in budgets) ---
    password_hash_workers: int = Field(
        0,
        ge=0,
        le=64,
        description="Threads per node that hash and verify passwords. 0: (CPU cores - 1) "
        "// 2, at least 1, so the two argon2id lanes of each hash leave a core to the "
        "event loop.",
    )
    password_hash_max_waiting: int = Field(
        64,
        ge=0,
        le=10_000,
        description="Sign-ins (and password changes) that may wait for a free password "
        "thread; further ones are answered 503 sign_in_busy with Retry-After.",
    )
    login_account_burst: int = Field(
        20,
        ge=1,
        le=100_000,
        description="Successful sign-ins (each a new session or token) per account at once "
        "before 429 sign_in_budget; the budget then refills at login_account_per_hour.",
    )
    login_account_per_hour: int = Field(
        20, ge=1, le=1_000_000, description="How fast an account's sign-in budget refills."
    )
    login_address_burst: int = Field(
        600,
        ge=1,
        le=1_000_000,
        description="Successful sign-ins per address at once (a clinic's shared computer "
        "or NAT) before 429 sign_in_budget; then it refills at login_address_per_hour.",
    )
    login_address_per_hour: int = Field(
        600, ge=1, le=10_000_000, description="How fast an address's sign-in budget refills."
    )

    # HTTP: what one connection may take of the server (careline/web/protocol.py).
    # 16 KiB: the longest URL careline's own API asks for is presence of PAGE_MAX (200)
    # people, ~9.6 KB of account_id=... (tests/web/test_http_abuse.py checks it fits).
    http_url_max_bytes: int = Field(
        16384,
        ge=1024,
        le=65536,
        description="Request line URL (path and query), bytes; over it 414.",
    )
    http_headers_max_bytes: int = Field(
        32768,
        ge=4096,
        le=1024 * 1024,
        description="All request headers together (name, value, 4 bytes each); over it 431.",
    )
    http_headers_max_count: int = Field(
        100, ge=16, le=1000, description="Request headers in one request; over it 431."
    )
    http_headers_timeout_seconds: float = Field(
        10.0,
        gt=0,
        le=300,
        description="A request's line and headers must arrive within this time of its first "
        "byte; else 408.",
    )
    http_body_timeout_seconds: float = Field(
        10.0,
        gt=0,
        le=300,
        description="Each such stretch of a request body must bring http_body_min_bytes_per_second "
        "on average (while careline is reading); else 408 (or close, once a response began).",
    )
    http_body_min_bytes_per_second: int = Field(
        1024, ge=1, le=1024 * 1024, description="The slowest request body careline waits for."
    )
    http_keepalive_timeout_seconds: int = Field(
        5,
        ge=1,
        le=300,
        description="A connection with no request in progress (also one that never sent a "
        "byte) is closed after this long.",
    )
    http_connections_per_address: int = Field(
        512,
        ge=1,
        le=100_000,
        description="Open connections (HTTP and WebSocket) from one client address; more get "
        "503. Not applied to trusted_proxies.",
    )
    http_connections_max: int = Field(
        10_000,
        ge=1,
        le=1_000_000,
        description="Open connections in all, at most the open-file limit less a reserve; "
        "more get 503.",
    )

    # --- per-person budgets (careline/kit/budgets.py, docs/limits.md#per-person-budgets) ---
    # Rates in the `limits` notation, several joined by ";": a burst and a sustained rate.
    # Over one: 429 / socket error `rate_limited` naming the budget, with retry-after.
    budget_sends_per_conversation: str = Field(
        "20/second;600/minute",
        description="Messages one person may send into one conversation (REST and socket).",
    )
    budget_sends: str = Field(
        "100/second;1200/minute",
        description="Messages one person may send in all, across conversations.",
    )
    budget_reactions: str = Field(
        "10/second;120/minute",
        description="Reactions one person may add or remove.",
    )
    budget_receipts: str = Field(
        "50/second;1200/minute",
        description="Receipt updates (delivered / read) one person may send.",
    )
    budget_typing: str = Field(
        "10/second;120/minute",
        description="typing.start / typing.stop frames one person may send; over it they "
        "are acknowledged and dropped.",
    )
    budget_uploads: str = Field(
        "30/minute",
        description="Files one person may upload (each upload attempt counts).",
    )
    budget_invitations: str = Field(
        "20/minute;300/hour",
        description="Invitations one admin may make or renew (each may send an e-mail).",
    )
    # --- Metrics and health (issue 12 item 4; docs/operations.md#metrics) ---
    metrics_token: SecretStr | None = Field(
        None,
        description="The bearer token /metrics and /health/detailed answer to on the main "
        "port (`Authorization: Bearer <token>`). Unset: both answer 404 there.",
    )
    metrics_port: int = Field(
        0,
        ge=0,
        le=65535,
        description="A second port, on 127.0.0.1 only, serving /metrics and "
        "/health/detailed without a token (for a scraper on the same machine). 0: off.",
    )
    health_check_timeout_seconds: float = Field(
        2.0,
        gt=0,
        le=30,
        description="Each part /health/detailed and the dashboard check (PostgreSQL, clamd, "
        "SMTP, push...) counts as down when it has not answered within this.",
    )
    health_disk_low_percent: float = Field(
        10.0,
        ge=0,
        le=100,
        description="The disk that holds the files counts as degraded (`disk_low`) with "
        "less than this percent free.",
    )
    health_push_url: str | None = Field(
        None,
        description="A push service URL whose reachability the health checks test (e.g. "
        "https://fcm.googleapis.com). Unset: push is reported `off`.",
    )

    # --- Alerts (issue 12 item 5; careline/monitoring/alerts.py, docs/operations.md#alerts) ---
    alerts_interval_seconds: float = Field(
        30,
        ge=0,
        le=3600,
        description="How often the alert rules are evaluated (one node at a time). 0: never "
        "(nothing is raised or cleared).",
    )
    alerts_raise_after: int = Field(
        3,
        ge=1,
        le=100,
        description="An alert is raised once its condition has held for this many evaluations "
        "in a row.",
    )
    alerts_clear_after: int = Field(
        3,
        ge=1,
        le=100,
        description="A raised alert clears once its value has been past the clear threshold "
        "(half the raise threshold; for disk, 5 points above it) for this many evaluations "
        "in a row.",
    )
    alerts_keep_days: int = Field(
        90, ge=1, le=3650, description="Cleared alerts are kept as history this many days."
    )
    alert_delivery_p99_ms: float = Field(
        2000,
        gt=0,
        description="Raise `delivery_p99` when the delivery latency p99 (commit to socket "
        "write, the last 5 minutes) reaches this many milliseconds.",
    )
    alert_http_5xx_percent: float = Field(
        5,
        gt=0,
        le=100,
        description="Raise `http_5xx` when this percentage of HTTP requests in the last 5 "
        "minutes answered 5xx.",
    )
    alert_queue_age_seconds: float = Field(
        300,
        gt=0,
        description="Raise `queue_age` when the oldest waiting job of any kind has waited "
        "this many seconds.",
    )
    alert_disk_free_percent: float = Field(
        10,
        gt=0,
        lt=95,
        description="Raise `disk_low` when the disk holding the files has less than this "
        "percentage free.",
    )
    alert_sign_in_failures: int = Field(
        50,
        ge=1,
        description="Raise `sign_in_failures` for an organisation when this many sign-ins to "
        "it failed in the last 5 minutes.",
    )
    # --- Monitoring dashboard (issue 12 item 3; careline/monitoring, docs/operations.md) ---
    monitor_interval_seconds: float = Field(
        2.0,
        ge=0.1,
        le=60.0,
        description="How often a socket watching the dashboard (`monitor.subscribe`) gets "
        "a new snapshot; each watched scope's is built once per interval however many "
        "watch it.",
    )

    @field_validator(
        "budget_sends_per_conversation",
        "budget_sends",
        "budget_reactions",
        "budget_receipts",
        "budget_typing",
        "budget_uploads",
        "budget_invitations",
    )
    @classmethod
    def _check_budget(cls, value: str) -> str:
        try:
            budgets.parse_rates(value)
        except ValueError as exc:
            raise ValueError(f"must be rates such as 20/second;600/minute: {exc}") from None
        return value

    @field_validator("public_url")
    @classmethod
    def _check_public_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parsed = urlparse(value)
        if parsed.scheme not in {"http", "https"} or not parsed.netloc:
            raise ValueError("must be an http(s) URL such as https://careline.example.org")
        return value.rstrip("/")

    @field_validator("trusted_proxies")
    @classmethod
    def _check_trusted_proxies(cls, value: list[str]) -> list[str]:
        try:
            return [str(ipaddress.ip_network(v.strip(), strict=False)) for v in value]
        except ValueError as exc:
            raise ValueError(f"must be IP addresses or CIDRs such as 10.0.0.0/8: {exc}") from None

    @field_validator("extra_hosts")
    @classmethod
    def _check_extra_hosts(cls, value: list[str]) -> list[str]:
        return [v.strip().lower() for v in value if v.strip()]

    @field_validator("smtp_from")
    @classmethod
    def _check_smtp_from(cls, value: str) -> str:
        local, at, domain = value.partition("@")
        if not (local and at and domain) or any(c in value for c in " \r\n<>,"):
            raise ValueError("must be one plain e-mail address such as careline@example.org")
        return value

    @field_validator("clamd_address")
    @classmethod
    def _check_clamd_address(cls, value: str | None) -> str | None:
        if value is None:
            return None
        scheme, _, rest = value.partition(":")
        host, _, port = rest.rpartition(":")
        if scheme == "unix" and rest.startswith("/"):
            return value
        if scheme == "tcp" and host and port.isdigit() and 0 < int(port) < 65536:
            return value
        raise ValueError("must be unix:/path/to/clamd.sock or tcp:host:port")

    @model_validator(mode="after")
    def _check_storage(self) -> Settings:
        if self.storage_backend == "s3" and not self.s3_bucket:
            raise ValueError("storage_backend is s3 but s3_bucket is not set")
        return self

    @model_validator(mode="after")
    def _check_database(self) -> Settings:
        if self.database_url and not self.database_app_url:
            raise ValueError(
                "DATABASE_URL is set but DATABASE_APP_URL is not: careline needs a login for "
                "role careline_app (see docs/deploy.md)"
            )
        return self

    @property
    def base_url(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}"

    @property
    def cookie_secure(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def allowed_origins(self) -> frozenset[str]:
        parsed = urlparse(self.base_url)
        return frozenset([f"{parsed.scheme}://{parsed.netloc}", *self.extra_origins])

    @property
    def allowed_hosts(self) -> frozenset[str]:
        """`Host` header values careline answers (lower case; see http.check_host)."""
        parsed = urlparse(self.base_url)
        default_port = 443 if parsed.scheme == "https" else 80
        name, port = (parsed.hostname or "").lower(), parsed.port or default_port
        hosts = {f"{name}:{port}", *self.extra_hosts}
        if port == default_port:
            hosts.add(name)
        if ":" in name:  # an IPv6 literal is written in brackets in a Host header
            hosts = {h.replace(name, f"[{name}]", 1) for h in hosts}
        return frozenset(hosts)

    @property
    def embedded(self) -> bool:
        return self.database_url is None

    @property
    def master_key_path(self) -> Path:
        return self.data_dir / "master.key"

    @property
    def file_max_bytes(self) -> int:
        return self.file_max_mb * 1024 * 1024

    @property
    def files_dir(self) -> Path:
        return self.storage_dir or self.data_dir / "files"


def config_markdown() -> str:
    """docs/config.md, generated from the Settings class."""
    lines = [
        "# Configuration",
        "",
        "<!-- generated by `careline config-docs`; tests/test_conventions.py keeps it in step -->",
        "",
        "Every setting is an environment variable with the prefix `CARELINE_` (the two",
        "database URLs also read `DATABASE_URL` and `DATABASE_APP_URL`). `CARELINE_CONFIG`",
        "may name a file of `NAME=value` lines read the same way. Bad values stop careline",
        "at start with a message naming the setting.",
        "",
        "| variable | default | meaning |",
        "|---|---|---|",
    ]
    for name, field in Settings.model_fields.items():
        default = field.get_default(call_default_factory=True)
        shown = "unset" if default is None else f"`{default}`"
        lines.append(f"| `CARELINE_{name.upper()}` | {shown} | {field.description} |")
    return "\n".join(lines) + "\n"


class _Current:
    settings: Settings | None = None


_current = _Current()


def use(settings: Settings) -> None:
    """Make `settings` the ones the running process uses (set once at start)."""
    _current.settings = settings


def current() -> Settings:
    if _current.settings is None:
        _current.settings = Settings()
    return _current.settings
