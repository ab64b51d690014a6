"""Whose forwarding headers to believe: the client address behind trusted proxies.

``SUPPLE_TRUSTED_PROXIES`` lists addresses or networks (``127.0.0.1, 10.0.0.0/8``); default
none. A request from a trusted proxy has its client taken from ``Forwarded`` (RFC 7239) or
``X-Forwarded-For``: the right-most address that is not itself a trusted proxy. A request
from anyone else has those headers removed, so nothing below (Gradio builds URLs from
``X-Forwarded-Host``/``-Proto``) acts on what a reader wrote.

uvicorn's ProxyHeadersMiddleware does part of this, but reads no ``Forwarded`` header, takes
any text (``not-an-ip``) as the client, and leaves the headers of untrusted peers in place.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from starlette.types import Scope

from assistant.errors import SuppleError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
FORWARDING_HEADERS = {
    b"forwarded",
    b"x-forwarded-for",
    b"x-forwarded-proto",
    b"x-forwarded-host",
    b"x-forwarded-port",
    b"x-forwarded-prefix",
    b"x-real-ip",
}


class TrustedProxiesError(SuppleError):
    """SUPPLE_TRUSTED_PROXIES holds something that is not an address or a network."""


def parse_address(text: str) -> str | None:
    """``1.2.3.4``, ``1.2.3.4:80``, ``[::1]:80``, ``"[::1]"`` -> the address; else None."""
    text = text.strip().strip('"')
    if text.startswith("["):
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def _forwarded_pairs(value: str) -> list[dict[str, str]]:
    """RFC 7239 elements, left to right: ``for=a;proto=https, for=b`` -> [{...}, {...}]."""
    elements = []
    for element in value.split(","):
        pairs = {}
        for pair in element.split(";"):
            name, _, content = pair.partition("=")
            pairs[name.strip().lower()] = content.strip().strip('"')
        elements.append(pairs)
    return elements


@dataclass(frozen=True)
class ProxyPolicy:
    networks: tuple[Network, ...] = ()

    @classmethod
    def parse(cls, text: str) -> ProxyPolicy:
        networks = []
        for item in (i.strip() for i in (text or "").split(",")):
            if not item:
                continue
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                raise TrustedProxiesError(
                    f"'{item}' in SUPPLE_TRUSTED_PROXIES is not an address or a network "
                    "like 10.0.0.0/8"
                ) from None
        return cls(tuple(networks))

    def trusts(self, address: str | None) -> bool:
        if address is None or not self.networks:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.networks)

    def apply(self, scope: Scope) -> None:
        """Sets ``scope["client"]`` (and ``scheme``) to the reader's, in place."""
        peer = scope.get("client")
        peer_host = peer[0] if peer else None
        headers: list[tuple[bytes, bytes]] = scope.get("headers", [])
        if not self.trusts(peer_host):
            scope["headers"] = [(k, v) for k, v in headers if k not in FORWARDING_HEADERS]
            return
        chain: list[str] = []
        protos: list[str] = []
        forwarded = [v.decode("latin-1") for k, v in headers if k == b"forwarded"]
        if forwarded:
            for pairs in _forwarded_pairs(",".join(forwarded)):
                chain.append(pairs.get("for", ""))
                protos.append(pairs.get("proto", ""))
        else:
            for k, v in headers:
                if k == b"x-forwarded-for":
                    chain += v.decode("latin-1").split(",")
                elif k == b"x-forwarded-proto":
                    protos += v.decode("latin-1").split(",")
        client = self._client(chain)
        if client is not None:
            scope["client"] = (client, 0)
        proto = next((p.strip().lower() for p in reversed(protos) if p.strip()), "")
        if proto in ("http", "https"):
            scope["scheme"] = proto if scope["type"] == "http" else proto.replace("http", "ws")

    def _client(self, chain: list[str]) -> str | None:
        """The right-most address not of a trusted proxy; None (keep the peer) when that
        entry is not an address at all (a proxy passing a reader's header through)."""
        last = None
        for entry in reversed(chain):
            address = parse_address(entry)
            if address is None:
                return None
            last = address
            if not self.trusts(address):
                return address
        return last
