"""Block every network connection that does not go to this machine (tests must stay offline)."""

from __future__ import annotations

import ipaddress
import socket

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo


class NetworkBlocked(RuntimeError):
    """A test tried to reach the network."""


def _is_local(host: object) -> bool:
    if not isinstance(host, str):
        return True
    if host in {"localhost", "", "::1"}:
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def _guard(address: object) -> None:
    if isinstance(address, tuple) and address and not _is_local(address[0]):
        raise NetworkBlocked(f"tests may not reach the network (tried {address[0]})")


def _connect(self: socket.socket, address: object) -> None:
    if self.family in (socket.AF_INET, socket.AF_INET6):
        _guard(address)
    return _real_connect(self, address)  # type: ignore[arg-type]


def _connect_ex(self: socket.socket, address: object) -> int:
    if self.family in (socket.AF_INET, socket.AF_INET6):
        _guard(address)
    return _real_connect_ex(self, address)  # type: ignore[arg-type]


def _getaddrinfo(host: object, *args: object, **kwargs: object) -> list:
    if isinstance(host, bytes):
        host = host.decode()
    if isinstance(host, str) and not _is_local(host):
        try:
            ipaddress.ip_address(host)
        except ValueError:
            raise NetworkBlocked(f"tests may not resolve public names (tried {host})") from None
    return _real_getaddrinfo(host, *args, **kwargs)  # type: ignore[arg-type]


def install() -> None:
    socket.socket.connect = _connect  # type: ignore[method-assign,assignment]
    socket.socket.connect_ex = _connect_ex  # type: ignore[method-assign,assignment]
    socket.getaddrinfo = _getaddrinfo  # type: ignore[assignment]
