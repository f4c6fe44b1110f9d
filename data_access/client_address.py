"""The client address a login is throttled by, behind a reverse proxy too (issue 13, finding 6).

Why: behind a reverse proxy on the same host Streamlit's ``st.context.ip_address`` is None
(Streamlit maps loopback to None), so every browser was the one client "?" and anyone could
spend that single budget and keep the administrator out. With ``TIENDO_TRUSTED_PROXIES`` (the
proxies' addresses or networks, comma-separated, e.g. ``127.0.0.1,::1``) a request whose peer
is such a proxy (None counts as loopback) is taken to come from the address the proxy wrote:
the rightmost ``X-Forwarded-For`` entry that is not itself a trusted proxy (proxies append the
address they saw on the right; entries further left are whatever the browser sent), else
``X-Real-IP``. A header from a peer that is not a trusted proxy is ignored: anyone can write
one. Empty setting (the default) = headers never read, today's behaviour; a request that does
carry X-Forwarded-For then logs one warning per process saying to set the variable.

Pure functions (no Streamlit here): auth_ui passes the peer and the headers.
"""
from __future__ import annotations

import ipaddress
import logging
import os
import threading
from collections.abc import Mapping

TRUSTED_ENV = "TIENDO_TRUSTED_PROXIES"
_LOOPBACKS = (ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1"))
_LOG = logging.getLogger(__name__)
_warned = threading.Event()

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_trusted(text: str | None) -> tuple[Network, ...]:
    """The networks of a TIENDO_TRUSTED_PROXIES value. An entry that is not an address or a
    network is left out (and logged): trusting it is impossible, guessing is unsafe."""
    nets = []
    for part in (text or "").split(","):
        part = part.strip()
        if not part:
            continue
        try:
            nets.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            _LOG.warning("%s: «%s» không phải địa chỉ hay mạng IP, bỏ qua.", TRUSTED_ENV, part)
    return tuple(nets)


def parse_address(text: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An address as proxies write it: ``192.0.2.1``, ``192.0.2.1:5678``, ``2001:db8::1``,
    ``[2001:db8::1]:443``, ``"[2001:db8::1]"``; an IPv4-mapped IPv6 address is its IPv4 address;
    None for anything else (``unknown``, a hostname, garbage)."""
    s = (text or "").strip().strip('"').strip()
    if not s:
        return None
    if s.startswith("["):
        end = s.find("]")
        if end < 0:
            return None
        s = s[1:end]
    elif s.count(":") == 1:          # IPv4 with a port
        s = s.split(":", 1)[0]
    s = s.split("%", 1)[0]           # an IPv6 zone
    try:
        ip = ipaddress.ip_address(s)
    except ValueError:
        return None
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip


def _trusted(ip, nets: tuple[Network, ...]) -> bool:
    return any(ip.version == n.version and ip in n for n in nets)


def _header(headers: Mapping | None, name: str) -> str:
    """A header's value, case-insensitive; several values (a list) joined with commas, in order."""
    if not headers:
        return ""
    for k, v in headers.items():
        if str(k).lower() == name:
            if isinstance(v, (list, tuple)):
                return ",".join(str(x) for x in v)
            return str(v or "")
    return ""


def forwarded_client(peer: str | None, headers: Mapping | None, trusted: tuple[Network, ...]) -> str | None:
    """The client of a request: ``peer`` itself unless it is a trusted proxy (``trusted``; a
    None or empty peer counts as loopback), then the address the proxy forwarded."""
    if not trusted:
        return peer
    if peer is None or not str(peer).strip():
        peer_trusted = any(_trusted(lo, trusted) for lo in _LOOPBACKS)
    else:
        ip = parse_address(peer)
        peer_trusted = ip is not None and _trusted(ip, trusted)
    if not peer_trusted:
        return peer                  # its headers are the browser's own words: ignored
    nearest = None
    for entry in reversed(_header(headers, "x-forwarded-for").split(",")):
        if not entry.strip():
            continue
        ip = parse_address(entry)
        if ip is None:
            break                    # not written by a proxy of ours: nothing left of it is either
        if not _trusted(ip, trusted):
            return str(ip)
        nearest = ip                 # another proxy of ours: look one hop further left
    real = parse_address(_header(headers, "x-real-ip"))
    if real is not None and not _trusted(real, trusted):
        return str(real)
    if nearest is not None:
        return str(nearest)          # only proxies of ours on the way: the last one we saw
    if real is not None:
        return str(real)
    return peer


def client_address(peer: str | None, headers: Mapping | None = None) -> str | None:
    """forwarded_client with the TIENDO_TRUSTED_PROXIES of the environment (read each time: a
    few microseconds, and tests may change it). Without the setting a request carrying
    X-Forwarded-For is a proxy we were not told about: one warning per process."""
    trusted = parse_trusted(os.environ.get(TRUSTED_ENV))
    if not trusted and _header(headers, "x-forwarded-for") and not _warned.is_set():
        _warned.set()
        _LOG.warning("Yêu cầu đăng nhập có X-Forwarded-For nhưng %s chưa đặt: mọi người dùng sau "
                     "reverse proxy bị tính là một máy (giới hạn đăng nhập chung). Đặt %s=<địa chỉ "
                     "proxy>, ví dụ 127.0.0.1,::1 (xem SECURITY.md).", TRUSTED_ENV, TRUSTED_ENV)
    return forwarded_client(peer, headers, trusted)
