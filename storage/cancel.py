"""Cooperative cancellation: a token per job run, checked between units of long work.

The runner opens `scope(token)` around a job; any layer below (nodes, tools, code running in
`asyncio.to_thread`, which copies context variables) calls `check()` between units of work
(pages, batches, lines, scenes) and stops with `Cancelled` within one unit of the request.
Outside a job run `check()` does nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from storage.errors import Cancelled


class Token:
    """Set once by whoever watches for the request (the runner's heartbeat, Ctrl-C)."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.reason = "cancelled by request"

    def cancel(self, reason: str = "cancelled by request") -> None:
        self.reason = reason
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()


_current: ContextVar[Token | None] = ContextVar("librarian_cancel_token", default=None)


@contextmanager
def scope(token: Token) -> Iterator[Token]:
    """Make `token` the one `check()` sees in this context (and in threads started from it)."""
    reset = _current.set(token)
    try:
        yield token
    finally:
        _current.reset(reset)


def check() -> None:
    """Raise `Cancelled` if the current job was asked to stop."""
    token = _current.get()
    if token is not None and token.cancelled:
        raise Cancelled(token.reason)
