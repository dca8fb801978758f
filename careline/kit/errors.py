"""Errors that cross the API boundary, as RFC 9457 problem details with a stable code."""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    """An error a client can act on. `code` is stable and documented in docs/errors.md."""

    status: int = 400
    code: str = "bad_request"
    title: str = "Bad request"

    def __init__(
        self,
        detail: str | None = None,
        *,
        code: str | None = None,
        status: int | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        title: str | None = None,
    ) -> None:
        if title is not None:
            self.title = title
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.detail = detail or self.title
        self.extra = extra or {}
        self.headers = headers or {}
        super().__init__(self.detail)

    def to_problem(self) -> dict[str, Any]:
        problem: dict[str, Any] = {
            "type": f"https://careline.dev/errors/{self.code}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
        }
        problem.update(self.extra)
        return problem


class BadRequest(AppError):
    status, code, title = 400, "bad_request", "Bad request"


class InvalidInput(AppError):
    status, code, title = 422, "invalid_input", "Invalid input"


class Unauthenticated(AppError):
    status, code, title = 401, "unauthenticated", "Authentication required"


class Forbidden(AppError):
    status, code, title = 403, "forbidden", "Not allowed"


class NotFound(AppError):
    """Missing and forbidden look the same, so ids of others' data cannot be probed."""

    status, code, title = 404, "not_found", "Not found"


class Conflict(AppError):
    status, code, title = 409, "conflict", "Conflict"


class Gone(AppError):
    """Something that existed and can no longer be used (an expired or used link)."""

    status, code, title = 410, "gone", "Gone"


class TooLarge(AppError):
    status, code, title = 413, "too_large", "Too large"


class RateLimited(AppError):
    status, code, title = 429, "rate_limited", "Too many attempts"

    def __init__(self, detail: str, *, retry_after: int, code: str | None = None) -> None:
        super().__init__(
            detail,
            code=code,
            extra={"retry_after": retry_after},
            headers={"Retry-After": str(retry_after)},
        )


DATABASE_RETRY_AFTER_SECONDS = 2


class DatabaseUnavailable(AppError):
    """PostgreSQL cannot be reached right now (down, restarting, out of connections):
    nothing was changed, or nothing is known to have been, and the same request may be
    sent again after `retry_after` seconds. Raised by careline/db/tx.py alone, which
    tells a lost connection from a bug (careline/db/outage.py)."""

    status, code, title = 503, "database_unavailable", "Database unavailable"

    def __init__(self, detail: str = "the database is unavailable; try again shortly") -> None:
        retry_after = DATABASE_RETRY_AFTER_SECONDS
        super().__init__(
            detail,
            extra={"retry_after": retry_after},
            headers={"Retry-After": str(retry_after)},
        )


class HashingBusy(AppError):
    """Every password worker is busy and the waiting room is full: nothing was checked
    or changed; the same request may be sent again after `retry_after` seconds."""

    status, code, title = 503, "sign_in_busy", "Sign-in busy"

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            "too many sign-ins at once; try again shortly",
            extra={"retry_after": retry_after},
            headers={"Retry-After": str(retry_after)},
        )
