"""HTTP calls to publishing platforms: bearer auth refreshed once on 401, errors by kind.

A 5xx, a 429 or a dropped connection is `Retryable` (the job's retry policy tries again); a
quota error is `Forbidden` (retrying the same day fails the same way); any other 4xx is
`BadInput` with the platform's own message.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from storage.errors import BadInput, Forbidden, Retryable

QUOTA_REASONS = {"quotaExceeded", "dailyLimitExceeded", "uploadLimitExceeded",
                 "spam_risk_too_many_posts", "spam_risk_user_banned_from_posting"}
TIMEOUT = httpx.Timeout(60.0, connect=15.0)


@dataclass
class Auth:
    """An access token and how to get a new one when the platform answers 401."""

    token: str
    refresh: Callable[[], Awaitable[str]]


def client() -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False)


def reason_of(resp: httpx.Response) -> tuple[str, str]:
    """(reason code, message) from a Google or TikTok error body."""
    try:
        body = resp.json()
    except (ValueError, json.JSONDecodeError):
        return "", resp.text[:200]
    err = body.get("error") if isinstance(body, dict) else None
    if isinstance(err, dict):
        items = err.get("errors") or [{}]
        reason = str(items[0].get("reason") or err.get("code") or err.get("status") or "")
        return reason, str(err.get("message") or reason)
    if isinstance(err, str):  # OAuth token endpoints: {"error": ..., "error_description": ...}
        return err, str(body.get("error_description") or err)
    return "", resp.text[:200]


def check(resp: httpx.Response, platform: str, what: str) -> httpx.Response:
    """The response when it is a success (2xx or 308), else the error it stands for."""
    if resp.status_code < 400 or resp.status_code == 308:
        return resp
    reason, msg = reason_of(resp)
    where = f"{platform} {what}: {resp.status_code} {reason}".rstrip() + f": {msg}"
    if reason in QUOTA_REASONS:
        raise Forbidden(f"{where} (the platform's quota is used up; try again after it resets)")
    if resp.status_code >= 500 or resp.status_code in (408, 429):
        raise Retryable(where)
    if resp.status_code in (401, 403):
        raise Forbidden(where)
    raise BadInput(where)


async def send(http: httpx.AsyncClient, method: str, url: str, auth: Auth | None, *,
               platform: str, what: str, passthrough: tuple[int, ...] = (),
               **kwargs: Any) -> httpx.Response:
    """One request with the bearer token; on 401 the token is refreshed and the request sent
    once more. Transport failures become `Retryable`; statuses in `passthrough` are returned
    for the caller to read."""
    for attempt in (0, 1):
        headers = dict(kwargs.pop("headers", None) or {})
        if auth is not None:
            headers["Authorization"] = f"Bearer {auth.token}"
        try:
            resp = await http.request(method, url, headers=headers, **kwargs)
        except httpx.TransportError as exc:
            raise Retryable(f"{platform} {what}: {type(exc).__name__}: {exc}") from None
        kwargs["headers"] = {k: v for k, v in headers.items() if k != "Authorization"}
        if resp.status_code == 401 and auth is not None and attempt == 0:
            auth.token = await auth.refresh()
            continue
        return resp if resp.status_code in passthrough else check(resp, platform, what)
    raise AssertionError("unreachable")
