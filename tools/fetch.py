"""SSRF-safe downloading: http(s) only, public addresses only, bounded size, time and redirects.

Every hop resolves the host itself, refuses non-public addresses (unless the host, IP or a
network containing it is in `settings.fetch_allow_hosts`) and then connects to exactly the IP
it checked, sending the real Host header and TLS SNI, so a DNS answer cannot change between
check and connect. Proxy environment variables are ignored.
"""

from __future__ import annotations

import asyncio
import email.message
import ipaddress
import re
import socket
import ssl
import unicodedata
from dataclasses import dataclass
from urllib.parse import unquote, urljoin, urlsplit

import httpx

from storage.errors import BadInput, Retryable
from storage.settings import Settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_REDIRECTS = 5
USER_AGENT = "Librarian/0.1 (document importer)"
_METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254"),
             ipaddress.ip_address("100.100.100.200")}
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_V4_COMPAT = ipaddress.ip_network("::/96")
_PERMANENT = {401: "unauthorised", 403: "forbidden", 404: "not found", 410: "gone"}


@dataclass
class Fetched:
    """A downloaded resource."""

    url: str  # final URL, after redirects
    content: bytes
    content_type: str | None  # media type only, lower-case, no parameters
    filename: str | None


def blocked_reason(ip: IPAddress) -> str | None:
    """Why an address must not be fetched from ('private address', ...), or None if public.

    IPv4-mapped, IPv4-compatible, 6to4 and NAT64 IPv6 addresses are judged by the IPv4
    address they carry.
    """
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is None and ip in _V4_COMPAT and int(ip) > 1:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return blocked_reason(embedded)
    if ip in _METADATA:
        return "cloud metadata address"
    checks = (
        (ip.is_unspecified, "unspecified address"),
        (ip.is_loopback, "loopback address"),
        (ip.is_link_local, "link-local address"),
        (ip.is_multicast, "multicast address"),
        (isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT, "shared (CGNAT) address"),
        (ip.is_reserved, "reserved address"),
        (ip.is_private, "private address"),
        (not ip.is_global, "non-public address"),
    )
    for hit, reason in checks:
        if hit:
            return reason
    return None


def _allowed(host: str, ip: IPAddress | None, allow: list[str]) -> bool:
    for entry in allow:
        entry = entry.strip().lower().rstrip(".").strip("[]")
        if not entry:
            continue
        if entry == host:
            return True
        if ip is not None:
            try:
                if ip in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                continue
    return False


async def resolve(host: str, port: int) -> list[IPAddress]:
    """All addresses a host name resolves to (an IP literal resolves to itself)."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        if exc.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", -5)):
            raise BadInput(f"cannot resolve host {host!r}: no such name") from None
        raise Retryable(f"cannot resolve host {host!r}: {exc.strerror or exc}") from None
    ips: list[IPAddress] = []
    for info in infos:
        ip = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if ip not in ips:
            ips.append(ip)
    if not ips:
        raise BadInput(f"cannot resolve host {host!r}")
    return ips


async def check_url(url: str, settings: Settings) -> tuple[httpx.URL, str, IPAddress]:
    """Validate one hop: (parsed URL, host name, the vetted IP to connect to)."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise BadInput(f"invalid URL {url!r}: {exc}") from None
    if parsed.scheme not in ("http", "https"):
        scheme = parsed.scheme or url.split(":", 1)[0]
        raise BadInput(f"only http and https URLs can be fetched, not {scheme or 'this'}: URLs")
    host = parsed.host.lower().rstrip(".")
    if not host:
        raise BadInput(f"URL has no host: {url!r}")
    if parsed.userinfo:
        raise BadInput("URLs with a user name or password are not fetched")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    allow = settings.fetch_allow_hosts
    ips = await resolve(host, port)
    if not _allowed(host, None, allow):
        for ip in ips:
            reason = blocked_reason(ip)
            if reason and not _allowed(host, ip, allow):
                shown = host if host == str(ip) else f"{host} ({ip})"
                raise BadInput(f"refusing to fetch {shown}: {reason}; add the host to "
                               "LIBRARIAN_FETCH_ALLOW_HOSTS to allow it")
    return parsed, host, ips[0]


_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"|?*\\/]')


def safe_filename(name: str, default: str = "file") -> str:
    """A file name safe to store: no directories, '..', control or shell-hostile characters."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = _UNSAFE.sub("_", name)
    name = re.sub(r"\.{2,}", ".", name).strip(" .")
    name = re.sub(r"\s+", " ", name)
    if len(name) > 200:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 200 - len(ext) - 1] + "." + ext) if dot and len(ext) <= 10 else name[:200]
    return name or default


def _filename(disposition: str | None, url: str) -> str | None:
    if disposition:
        msg = email.message.Message()
        msg["content-disposition"] = disposition
        try:
            name = msg.get_filename()
        except (ValueError, LookupError):
            name = None
        if name:
            return safe_filename(name)
    last = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    return safe_filename(last) if last.strip(" ./\\") else None


def _host_header(url: httpx.URL, host: str) -> str:
    shown = f"[{host}]" if ":" in host else host
    default = 443 if url.scheme == "https" else 80
    return shown if url.port in (None, default) else f"{shown}:{url.port}"


def _media_type(value: str | None) -> str | None:
    if not value:
        return None
    return value.split(";", 1)[0].strip().lower() or None


async def _download(url: str, settings: Settings) -> Fetched:
    limit = settings.max_download_bytes
    timeout = httpx.Timeout(settings.fetch_timeout_s)
    async with httpx.AsyncClient(timeout=timeout, follow_redirects=False, trust_env=False,
                                 headers={"User-Agent": USER_AGENT}) as client:
        for _hop in range(MAX_REDIRECTS + 1):
            parsed, host, ip = await check_url(url, settings)
            target = parsed.copy_with(host=str(ip))
            request = client.build_request(
                "GET", target, headers={"Host": _host_header(parsed, host), "Accept": "*/*"},
                extensions={"sni_hostname": host} if parsed.scheme == "https" else {},
            )
            response = await client.send(request, stream=True)
            try:
                status = response.status_code
                if status in (301, 302, 303, 307, 308):
                    location = response.headers.get("location")
                    if not location:
                        raise BadInput(f"HTTP {status} redirect without a Location from {url}")
                    url = urljoin(str(parsed), location.strip())
                    continue
                if status in _PERMANENT:
                    raise BadInput(f"HTTP {status} ({_PERMANENT[status]}) for {url}")
                if status == 429 or status >= 500:
                    raise Retryable(f"HTTP {status} from {url}; try again later")
                if status >= 300:
                    raise BadInput(f"HTTP {status} for {url}")
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > limit:
                    raise BadInput(_too_large(limit))
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > limit:
                        raise BadInput(_too_large(limit))
                    chunks.append(chunk)
                return Fetched(
                    url=str(parsed),
                    content=b"".join(chunks),
                    content_type=_media_type(response.headers.get("content-type")),
                    filename=_filename(response.headers.get("content-disposition"), str(parsed)),
                )
            finally:
                await response.aclose()
    raise BadInput(f"too many redirects (more than {MAX_REDIRECTS}) fetching {url}")


def _too_large(limit: int) -> str:
    return f"download is larger than {limit / (1024 * 1024):g} MB (LIBRARIAN_MAX_DOWNLOAD_BYTES)"


async def fetch_url(url: str, settings: Settings) -> Fetched:
    """Download `url` safely; BadInput for refused/missing/oversized, Retryable for transient.

    `settings.fetch_timeout_s` bounds every network operation and the whole download.
    """
    try:
        async with asyncio.timeout(settings.fetch_timeout_s):
            return await _download(url.strip(), settings)
    except TimeoutError:
        raise Retryable(f"timed out after {settings.fetch_timeout_s:g} s fetching {url}") from None
    except httpx.TimeoutException:
        raise Retryable(f"timed out fetching {url}") from None
    except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
        raise BadInput(f"invalid URL {url!r}: {exc}") from None
    except httpx.TransportError as exc:
        if _cert_error(exc):
            raise BadInput(f"TLS certificate check failed for {url}: {exc}") from None
        raise Retryable(f"network error fetching {url}: {exc or type(exc).__name__}") from None


def _cert_error(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return False
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return "CERTIFICATE_VERIFY_FAILED" in str(exc)
