"""What keeps ingest from being turned on its owner's own network, or its memory.

- ``refused_address``: loopback, private, link-local, multicast, reserved and unspecified
  addresses are refused (unless ``allow_private``), checked on the addresses a host name
  resolves to, for every URL and every redirect;
- ``GuardedBackend``: the same check again on the address each TCP connection is made to,
  so a name that resolves to a public address for the check and to 127.0.0.1 for the
  connection (DNS rebinding) gets nowhere. httpx offers no hook at connect time; its
  transport's connection pool takes httpcore's network backend, replaced here;
- ``BoundedDecoder``: one content-coding at most (gzip or deflate), decompressed in bounded
  steps against the size cap. httpx decodes any stack of codings and each received block
  whole, so a 3 kB ``gzip, gzip`` body grows to gigabytes before a cap can count it.
"""

from __future__ import annotations

import ipaddress
import socket
import zlib
from typing import Any

import httpcore

CODINGS = {"gzip": 31, "x-gzip": 31, "deflate": 15}  # zlib wbits for each
STEP = 65536  # most bytes one decompression step may produce


class PrivateAddressError(httpcore.ConnectError):
    """A connection to an address ingest may not reach."""


def refused_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def resolve(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to ([] when it does not)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []
    return sorted({str(info[4][0]) for info in infos})


def private_address_of(host: str, port: int) -> str | None:
    """The first refused address among those ``host`` resolves to, else None."""
    return next((a for a in resolve(host, port) if refused_address(a)), None)


class GuardedBackend(httpcore.SyncBackend):
    """Connects only to addresses ``refused_address`` lets through."""

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        addresses = resolve(host, port)
        refused = [a for a in addresses if refused_address(a)]
        if refused:
            raise PrivateAddressError(f"{host} resolves to a private address ({refused[0]})")
        if not addresses:  # let the real connect say why (unknown name, ...)
            return super().connect_tcp(host, port, timeout, local_address, socket_options)
        # Connect to the checked address itself; TLS still verifies the host name.
        return super().connect_tcp(addresses[0], port, timeout, local_address, socket_options)


class CodingError(ValueError):
    """A content-coding ingest does not read (stacked, unknown, or corrupt)."""


class BoundedDecoder:
    """Decodes one response body's content-coding; ``feed`` never returns more than the cap
    allows through (it raises ``OverflowError`` as soon as the cap is passed)."""

    def __init__(self, content_encoding: str, max_bytes: int) -> None:
        codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip()]
        codings = [c for c in codings if c != "identity"]
        if len(codings) > 1:
            raise CodingError(f"stacked content-codings ({', '.join(codings)}); one at most")
        if codings and codings[0] not in CODINGS:
            raise CodingError(f"unsupported content-coding ({codings[0][:40]})")
        self.coding = codings[0] if codings else ""
        self.max_bytes = max_bytes
        self.size = 0
        self._zlib = zlib.decompressobj(CODINGS[self.coding]) if self.coding else None
        self._raw_deflate_tried = False

    def feed(self, data: bytes) -> bytes:
        if self._zlib is None:
            return self._count(data)
        out = bytearray()
        pending = data
        while pending:
            try:
                block = self._zlib.decompress(pending, STEP)
            except zlib.error as exc:
                if self.coding == "deflate" and not self._raw_deflate_tried and not self.size:
                    self._raw_deflate_tried = True  # some servers send raw deflate, no header
                    self._zlib = zlib.decompressobj(-15)
                    continue
                raise CodingError(f"corrupt {self.coding} body ({exc})") from exc
            self._raw_deflate_tried = True
            out += self._count(block)
            pending = self._zlib.unconsumed_tail
            if self._zlib.eof:
                break
        return bytes(out)

    def finish(self) -> bytes:
        return self._count(self._zlib.flush(STEP)) if self._zlib is not None else b""

    def _count(self, block: bytes) -> bytes:
        self.size += len(block)
        if self.size > self.max_bytes:
            raise OverflowError(self.size)
        return block
