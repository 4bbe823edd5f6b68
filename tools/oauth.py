"""OAuth 2.0 for installed apps: PKCE, a loopback redirect to catch the code, token exchange
and refresh (RFC 6749, RFC 7636, RFC 8252), for Google's and TikTok's endpoints alike."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from storage.errors import BadInput, Forbidden, Retryable
from tools.platform_http import TIMEOUT, check, reason_of

PAGE = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"
        b"Librarian: authorisation received, you can close this tab.\n")


def pkce() -> tuple[str, str]:
    """(code verifier, S256 code challenge)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).decode().rstrip("=")


def authorize_url(base: str, params: dict[str, str]) -> str:
    return base + ("&" if "?" in base else "?") + urlencode(params)


async def loopback_code(make_url: Callable[[str, str], str], show: Callable[[str], Any],
                        timeout_s: float = 300.0) -> tuple[str, str]:
    """Listen on 127.0.0.1, show the consent URL built for that redirect URI, and return
    (code, redirect URI) once the browser comes back with `?code=` and the same state."""
    state = secrets.token_urlsafe(16)
    got: asyncio.Future[dict[str, list[str]]] = asyncio.get_running_loop().create_future()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        line = (await reader.readline()).decode("latin-1").split()
        query = parse_qs(urlsplit(line[1]).query) if len(line) > 1 else {}
        writer.write(PAGE)
        await writer.drain()
        writer.close()
        if ("code" in query or "error" in query) and not got.done():
            got.set_result(query)

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    redirect = f"http://127.0.0.1:{port}/"
    try:
        show(make_url(redirect, state))
        query = await asyncio.wait_for(got, timeout_s)
    except TimeoutError:
        raise BadInput(f"no authorisation arrived within {timeout_s:.0f} s") from None
    finally:
        server.close()
    if "error" in query:
        raise Forbidden(f"authorisation refused: {query['error'][0]}")
    if query.get("state", [""])[0] != state:
        raise Forbidden("authorisation answer has the wrong state (not from this request)")
    return query["code"][0], redirect


async def token_request(url: str, data: dict[str, str], platform: str) -> dict[str, Any]:
    """POST a token request (form-encoded); the tokens with `expires_at` added."""
    async with httpx.AsyncClient(timeout=TIMEOUT) as http:
        try:
            resp = await http.post(url, data=data, headers={
                "Content-Type": "application/x-www-form-urlencoded"})
        except httpx.TransportError as exc:
            raise Retryable(f"{platform} token endpoint: {exc}") from None
    if 400 <= resp.status_code < 500:  # invalid_grant: revoked or expired refresh token
        reason, msg = reason_of(resp)
        raise Forbidden(f"{platform} refused the token request ({reason or resp.status_code}: "
                        f"{msg}); run `librarian publish auth {platform}` again")
    body: dict[str, Any] = check(resp, platform, "token").json()
    if "access_token" not in body:
        raise Forbidden(f"{platform} token endpoint answered without an access token: "
                        f"{body.get('error_description') or body.get('message') or body}")
    body["expires_at"] = time.time() + float(body.get("expires_in") or 3600)
    return body
