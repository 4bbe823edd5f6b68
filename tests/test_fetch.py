"""tools.fetch: SSRF refusals, redirects, limits and error mapping against a local server."""

from __future__ import annotations

import ipaddress
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from storage.errors import BadInput, Retryable
from storage.settings import Settings, load_settings
from tools import fetch
from tools.fetch import blocked_reason, fetch_url, safe_filename

BIG = 64 * 1024


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802
        path = self.path
        if path == "/page.html":
            self._send(200, b"<html><body>hello " + self.headers["Host"].encode() + b"</body>",
                       {"Content-Type": "text/html; charset=utf-8"})
        elif path == "/download":
            self._send(200, b"%PDF-1.4 x", {"Content-Type": "application/pdf",
                       "Content-Disposition": 'attachment; filename="../../etc/pa\x01sswd.pdf"'})
        elif path == "/big":
            self._send(200, b"x" * BIG, {"Content-Type": "text/plain"})
        elif path == "/big-chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for _ in range(BIG // 1024):
                self.wfile.write(b"400\r\n" + b"y" * 1024 + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        elif path.startswith("/status/"):
            self._send(int(path.rsplit("/", 1)[1]), b"nope")
        elif path.startswith("/to?"):
            self._send(302, headers={"Location": path.split("?", 1)[1]})
        elif path.startswith("/chain/"):
            n = int(path.rsplit("/", 1)[1])
            self._send(302, headers={"Location": f"/chain/{n - 1}" if n else "/page.html"})
        elif path == "/slow":
            time.sleep(1.5)
            self._send(200, b"late")
        else:
            self._send(404)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _settings(tmp_path: Path, allow: list[str] | None = None, **kw: object) -> Settings:
    return load_settings(home=tmp_path, fetch_allow_hosts=allow or [], **kw)


async def test_allowed_host_fetches(server: str, tmp_path: Path) -> None:
    got = await fetch_url(server + "/page.html", _settings(tmp_path, ["127.0.0.1"]))
    assert got.content.startswith(b"<html><body>hello 127.0.0.1:")
    assert got.content_type == "text/html"
    assert got.filename == "page.html"
    assert got.url == server + "/page.html"


async def test_loopback_refused_unless_allowed(server: str, tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="loopback address.*LIBRARIAN_FETCH_ALLOW_HOSTS"):
        await fetch_url(server + "/page.html", _settings(tmp_path))


async def test_allow_list_accepts_networks(server: str, tmp_path: Path) -> None:
    got = await fetch_url(server + "/page.html", _settings(tmp_path, ["127.0.0.0/8"]))
    assert got.content.startswith(b"<html>")


async def test_hostname_resolving_to_loopback_refused(server: str, tmp_path: Path) -> None:
    port = server.rsplit(":", 1)[1]
    with pytest.raises(BadInput, match="localhost .*loopback"):
        await fetch_url(f"http://localhost:{port}/page.html", _settings(tmp_path))


async def test_hostname_resolving_to_private_refused(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    async def fake_resolve(host: str, port: int) -> list:
        return [ipaddress.ip_address("93.184.216.34"), ipaddress.ip_address("10.1.2.3")]

    monkeypatch.setattr(fetch, "resolve", fake_resolve)
    with pytest.raises(BadInput, match=r"intranet.example \(10.1.2.3\): private address"):
        await fetch_url("https://intranet.example/x", _settings(tmp_path))


async def test_dns_rebinding_connects_to_checked_ip(server: str, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The connection goes to the vetted IP; the Host header keeps the name."""
    port = int(server.rsplit(":", 1)[1])
    calls: list[str] = []

    async def fake_resolve(host: str, p: int) -> list:
        calls.append(host)
        return [ipaddress.ip_address("127.0.0.1")]

    monkeypatch.setattr(fetch, "resolve", fake_resolve)
    got = await fetch_url(f"http://docs.example:{port}/page.html",
                          _settings(tmp_path, ["docs.example"]))
    assert got.content == f"<html><body>hello docs.example:{port}</body>".encode()
    assert calls == ["docs.example"]


async def test_redirect_to_private_address_blocked(server: str, tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="10.0.0.1: private address"):
        await fetch_url(server + "/to?http://10.0.0.1/admin", _settings(tmp_path, ["127.0.0.1"]))
    with pytest.raises(BadInput, match="169.254.169.254: cloud metadata"):
        await fetch_url(server + "/to?http://169.254.169.254/latest/meta-data/",
                        _settings(tmp_path, ["127.0.0.1"]))


async def test_redirect_to_file_scheme_blocked(server: str, tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="only http and https"):
        await fetch_url(server + "/to?file:///etc/passwd", _settings(tmp_path, ["127.0.0.1"]))


async def test_redirects_followed_and_limited(server: str, tmp_path: Path) -> None:
    settings = _settings(tmp_path, ["127.0.0.1"])
    got = await fetch_url(server + "/chain/4", settings)
    assert got.url == server + "/page.html"
    with pytest.raises(BadInput, match="too many redirects"):
        await fetch_url(server + "/chain/5", settings)


async def test_size_limit(server: str, tmp_path: Path) -> None:
    settings = _settings(tmp_path, ["127.0.0.1"], max_download_bytes=BIG - 1)
    for path in ("/big", "/big-chunked"):
        with pytest.raises(BadInput, match="larger than"):
            await fetch_url(server + path, settings)
    ok = await fetch_url(server + "/big-chunked", _settings(tmp_path, ["127.0.0.1"]))
    assert ok.content == b"y" * BIG


@pytest.mark.parametrize("status,error", [(404, BadInput), (410, BadInput), (401, BadInput),
                                          (403, BadInput), (429, Retryable), (503, Retryable)])
async def test_status_mapping(server: str, tmp_path: Path, status: int, error: type) -> None:
    with pytest.raises(error, match=f"HTTP {status}"):
        await fetch_url(f"{server}/status/{status}", _settings(tmp_path, ["127.0.0.1"]))


async def test_timeout_is_retryable(server: str, tmp_path: Path) -> None:
    with pytest.raises(Retryable, match="timed out"):
        await fetch_url(server + "/slow", _settings(tmp_path, ["127.0.0.1"], fetch_timeout_s=0.3))


async def test_connection_refused_is_retryable(tmp_path: Path) -> None:
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    with pytest.raises(Retryable, match="network error"):
        await fetch_url(f"http://127.0.0.1:{port}/", _settings(tmp_path, ["127.0.0.1"]))


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/x", "data:text/plain,hi",
                                 "gopher://127.0.0.1/", "javascript:alert(1)"])
async def test_other_schemes_refused(url: str, tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="only http and https"):
        await fetch_url(url, _settings(tmp_path, ["127.0.0.1"]))


async def test_content_disposition_filename_sanitised(server: str, tmp_path: Path) -> None:
    got = await fetch_url(server + "/download", _settings(tmp_path, ["127.0.0.1"]))
    assert got.filename == "passwd.pdf"
    assert got.content_type == "application/pdf"


@pytest.mark.parametrize("address,reason", [
    ("127.0.0.1", "loopback"), ("10.0.0.1", "private"), ("172.16.5.4", "private"),
    ("192.168.1.1", "private"), ("169.254.169.254", "cloud metadata"),
    ("169.254.1.1", "link-local"),
    ("100.64.0.1", "CGNAT"), ("0.0.0.0", "unspecified"), ("224.0.0.1", "multicast"),
    ("240.0.0.1", "reserved"), ("255.255.255.255", "reserved"), ("192.0.2.1", "private"),
    ("::1", "loopback"), ("::", "unspecified"), ("fe80::1", "link-local"), ("fc00::1", "private"),
    ("fd00:ec2::254", "cloud metadata"), ("ff02::1", "multicast"),
    ("::ffff:127.0.0.1", "loopback"), ("::ffff:10.0.0.1", "private"),
    ("::ffff:169.254.169.254", "cloud metadata"), ("2002:0a00:0001::1", "private"),
    ("64:ff9b::192.168.0.1", "private"), ("::127.0.0.1", "loopback"),
])
def test_address_classifier_blocks(address: str, reason: str) -> None:
    got = blocked_reason(ipaddress.ip_address(address))
    assert got is not None and reason in got


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700::1111",
                                     "::ffff:8.8.8.8", "2002:5db8:d822::1"])
def test_address_classifier_allows_public(address: str) -> None:
    assert blocked_reason(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize("raw,safe", [
    ("../../etc/passwd", "passwd"), ("C:\\Users\\x\\report.pdf", "report.pdf"),
    ("a\x00b\x1f.txt", "ab.txt"), ("..", "file"), ("", "file"), ("...hidden..md", "hidden.md"),
    ("paper: v2?.pdf", "paper_ v2_.pdf"), ("résumé.docx", "résumé.docx"),
])
def test_safe_filename(raw: str, safe: str) -> None:
    assert safe_filename(raw) == safe


def test_safe_filename_length() -> None:
    name = safe_filename("a" * 300 + ".pdf")
    assert len(name) == 200 and name.endswith(".pdf")


def _self_signed(tmp_path: Path, name: str) -> tuple[Path, Path]:
    crypto = pytest.importorskip("cryptography")
    assert crypto
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


async def test_https_sends_sni_and_rejects_untrusted_cert(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """TLS goes to the vetted IP with the real host name as SNI; a bad certificate is final."""
    import ssl

    cert, key = _self_signed(tmp_path, "docs.example")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    seen: list[str | None] = []
    context.sni_callback = lambda sock, name, ctx: seen.append(name)  # type: ignore[assignment]
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()

    async def fake_resolve(host: str, port: int) -> list:
        return [ipaddress.ip_address("127.0.0.1")]

    monkeypatch.setattr(fetch, "resolve", fake_resolve)
    try:
        with pytest.raises(BadInput, match="TLS certificate check failed"):
            await fetch_url(f"https://docs.example:{httpd.server_address[1]}/page.html",
                            _settings(tmp_path, ["docs.example"]))
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert seen == ["docs.example"]
