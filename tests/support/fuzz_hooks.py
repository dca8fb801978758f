"""schemathesis hooks for tests/test_fuzz_api.py (loaded through SCHEMATHESIS_HOOKS):
besides what the schema describes, send what a real attacker sends and the schema cannot
say - strings PostgreSQL cannot hold (NUL, lone surrogates) in bodies, queries and paths,
and list cursors careline never gave out. Each must get a documented 4xx, never a 5xx."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import orjson
import schemathesis
from hypothesis import strategies as st

# Lone surrogates only in JSON bodies: they have no UTF-8 form, so a URL cannot carry one
# (the client encodes the query as UTF-8), while JSON escapes them as \ud800.
_NUL = st.sampled_from(["\x00", "a\x00", "\x00b"])
_UNSTORABLE = st.one_of(_NUL, st.sampled_from(["\ud800", "x\udfff", "\udbff!"]))


def _cursor(value: object) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(value)).rstrip(b"=").decode()


_FORGED_CURSORS = st.sampled_from(
    [
        "!!!",
        base64.urlsafe_b64encode(b"{nope").decode(),
        _cursor({"a": 1}),
        _cursor(["only one"]),
        _cursor([1, 2]),
        _cursor(["2026-01-01T00:00:00+00:00", "not-a-uuid"]),
        _cursor(["2026-01-01T00:00:00", str(uuid.UUID(int=1))]),
        _cursor(["yesterday", str(uuid.UUID(int=1))]),
        _cursor(["sam\x00", str(uuid.UUID(int=1))]),
        base64.urlsafe_b64encode(b'["\\ud800", "x"]').decode(),
    ]
)


def _spoil(values: dict[str, Any], bad: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    """The same mapping; or one of its strings, or every one, with an unstorable piece
    added (every one: so a field checked late, such as a sign-in e-mail that only reaches
    the database after the throttle and the schema, is reached too)."""
    strings = sorted(k for k, v in values.items() if isinstance(v, str))
    if not strings:
        return st.just(values)
    one = st.tuples(st.sampled_from(strings), bad).map(
        lambda pick: {**values, pick[0]: values[pick[0]] + pick[1]}
    )
    every = bad.map(lambda piece: {k: v + piece if k in strings else v for k, v in values.items()})
    return st.one_of(st.just(values), one, every)


@schemathesis.hook
def flatmap_body(ctx: schemathesis.HookContext, body: Any) -> st.SearchStrategy[Any]:
    if isinstance(body, dict):
        return _spoil(body, _UNSTORABLE)
    return st.just(body)


@schemathesis.hook
def flatmap_query(ctx: schemathesis.HookContext, query: Any) -> st.SearchStrategy[Any]:
    if not isinstance(query, dict):
        query = {} if query is None else query
    if not isinstance(query, dict):
        return st.just(query)
    takes_cursor = ctx.operation is not None and any(
        p.name == "cursor" for p in ctx.operation.query
    )
    spoiled = _spoil(query, _NUL)
    if not takes_cursor:
        return spoiled
    forged = _FORGED_CURSORS.map(lambda cursor: {**query, "cursor": cursor})
    return st.one_of(spoiled, forged)


@schemathesis.hook
def flatmap_path_parameters(ctx: schemathesis.HookContext, path: Any) -> st.SearchStrategy[Any]:
    return _spoil(path, _NUL) if isinstance(path, dict) else st.just(path)
