"""What a server-side ingestion may read: local paths under configured roots, URLs on public
hosts or on an allowlist. The CLI runs as its user and reads what that user can; the API runs on
behalf of remote callers, so it must not become a way to read the server's files or to reach
internal services (SSRF).

Refusals name the rule, never what exists: the same message for a missing file and for a file
outside the roots, for a closed port and for a private address."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from flowrag.errors import SourceError

__all__ = ["SourcePolicy", "inside", "pinned_transport", "same_origin"]

_NOT_ALLOWED = "location not allowed"


def inside(path: Path, root: Path) -> bool:
    """``path`` (symlinks resolved) lies under ``root`` (symlinks resolved)."""
    try:
        path.resolve().relative_to(root.resolve())
    except (ValueError, OSError):
        return False
    return True


def same_origin(a: str, b: str) -> bool:
    pa, pb = urlparse(a), urlparse(b)
    return (pa.scheme, pa.hostname, pa.port) == (pb.scheme, pb.hostname, pb.port)


def _host_allowed(host: str, allowed: Sequence[str]) -> bool:
    host = host.lower().rstrip(".")
    for entry in allowed:
        entry = entry.lower().rstrip(".")
        if host == entry or (entry.startswith("*.") and host.endswith(entry[1:])):
            return True
    return False


def _addresses(host: str) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        return []
    return [str(info[4][0]).split("%", 1)[0] for info in infos]


def _is_internal(text: str) -> bool:
    address = ipaddress.ip_address(text)
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
    )


def _private(host: str) -> bool:
    """The host is, or resolves to, a loopback, private, link-local or reserved address (an
    unresolvable host counts: refuse rather than tell the caller it does not resolve)."""
    addresses = _addresses(host)
    return not addresses or any(_is_internal(a) for a in addresses)


@dataclass(frozen=True)
class SourcePolicy:
    """``unrestricted`` (the CLI) or roots + host allowlist (the API)."""

    unrestricted: bool = False
    roots: tuple[Path, ...] = ()
    allowed_hosts: tuple[str, ...] = ()

    @classmethod
    def local_user(cls) -> SourcePolicy:
        return cls(unrestricted=True)

    def check_mongo(self, uri: str) -> None:
        """A ``mongodb://`` URI's hosts are held to the same rule as URL hosts."""
        if self.unrestricted:
            return
        parsed = urlparse(uri)
        if parsed.scheme not in ("mongodb", "mongodb+srv"):
            raise SourceError(_NOT_ALLOWED, hint="give a mongodb:// or mongodb+srv:// URI")
        hosts = parsed.netloc.rsplit("@", 1)[-1].split(",")
        for entry in hosts:
            host = entry.rsplit(":", 1)[0].strip("[]") if entry.count(":") <= 1 or "]" in entry else entry
            listed = _host_allowed(host, self.allowed_hosts)
            if (self.allowed_hosts and not listed) or (not listed and _private(host)):
                raise SourceError(_NOT_ALLOWED, hint="the host needs an entry in FLOWRAG_API__ALLOWED_HOSTS")

    def connect_address(self, host: str) -> str:
        """The address to open a connection to ``host`` on, resolved and checked at connection
        time: the name is resolved once here and the socket goes to that address, so a DNS answer
        that changes between the check and the connection (DNS rebinding) cannot reach inside."""
        addresses = _addresses(host)
        if not addresses:
            raise SourceError(_NOT_ALLOWED, hint="the host does not resolve")
        if self.unrestricted or _host_allowed(host, self.allowed_hosts):
            return addresses[0]
        if self.allowed_hosts or any(_is_internal(a) for a in addresses):
            raise SourceError(_NOT_ALLOWED, hint="the host is not in FLOWRAG_API__ALLOWED_HOSTS")
        return addresses[0]

    def check(self, location: str, *, urls_only: bool = False) -> None:
        """Raise :class:`SourceError` unless ``location`` may be read under this policy."""
        if self.unrestricted:
            return
        parsed = urlparse(location)
        if parsed.scheme in ("http", "https"):
            host = parsed.hostname or ""
            if not host or parsed.username or parsed.password:
                raise SourceError(_NOT_ALLOWED, hint="give an http(s) URL without credentials")
            listed = _host_allowed(host, self.allowed_hosts)
            if self.allowed_hosts and not listed:
                raise SourceError(_NOT_ALLOWED, hint="the host is not in FLOWRAG_API__ALLOWED_HOSTS")
            if not listed and _private(host):
                raise SourceError(
                    _NOT_ALLOWED,
                    hint="private, loopback and unresolvable hosts need an entry in FLOWRAG_API__ALLOWED_HOSTS",
                )
            return
        if parsed.scheme and len(parsed.scheme) > 1:  # file://, ssh://, git://… (not C:\ paths)
            raise SourceError(_NOT_ALLOWED, hint="only http and https URLs are accepted")
        if urls_only or not self.roots:
            raise SourceError(
                _NOT_ALLOWED,
                hint="the server reads local paths only under FLOWRAG_API__INGEST_ROOTS (empty: URLs only)",
            )
        path = Path(location).expanduser()
        if not any(inside(path, root) for root in self.roots):
            raise SourceError(_NOT_ALLOWED, hint="the path is not under FLOWRAG_API__INGEST_ROOTS")


def pinned_transport(policy: SourcePolicy, verify: Any) -> Any:
    """An httpx transport whose every TCP connection goes to the address ``policy`` checked for
    that host (TLS still verifies the certificate against the host name)."""
    import httpcore
    import httpx

    class Backend(httpcore.SyncBackend):
        def connect_tcp(
            self,
            host: str,
            port: int,
            timeout: float | None = None,
            local_address: str | None = None,
            socket_options: Any = None,
        ) -> httpcore.NetworkStream:
            address = policy.connect_address(host)
            return super().connect_tcp(address, port, timeout, local_address, socket_options)

    transport = httpx.HTTPTransport(verify=verify)
    transport._pool = httpcore.ConnectionPool(  # the one way to give httpx a resolver of our own
        ssl_context=httpx.create_ssl_context(verify=verify), network_backend=Backend()
    )
    return transport
