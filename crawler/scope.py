"""Is a URL in a site's scope? One decision, tested from a table; the downloader middleware
(plain requests, redirects included) and the browser guards (crawler/browserprovider.py, every
request Chromium routes; crawler/browserproxy.py, every connection it opens) all ask here.

An allowed-host entry is one of:
- `host`         that host on any port,
- `host:port`    that host on that port only (several simulated or proxied portals share an address),
- `.domain` or `*.domain`   the domain and every subdomain.
Report attachments may also come from a sibling host of the same registrable domain
(portals often serve files from `file.` or `xxgk.` hosts), never from an unrelated one.

Only http and https, everywhere. An internal address (loopback, private, link-local, CGNAT,
unspecified...: anything not globally routable) is refused unless the site's allowed hosts name
that exact host or the site file says `allow_private: true`: a government portal never links to
10.x or 169.254.169.254, but a compromised page or a hostile redirect does, to reach the harvest
machine's own network and cloud metadata. Literals are judged here; names are judged by the
address they resolve to where the connection is made (`address_refused`), so DNS rebinding to
10.x cannot slip between a check and a connect.
"""
from __future__ import annotations

import ipaddress
import re
import socket
from urllib.parse import urlsplit

SCHEMES = ("http", "https")
# Second-level suffixes under which the registrable domain has three labels.
_THREE_LABEL_SUFFIXES = ("gov.cn", "com.cn", "org.cn", "edu.cn", "net.cn", "gov.hk", "gov.mo")
# 0x7f.1, 017700000001, 2130706433: legacy IPv4 spellings browsers and inet_aton still accept.
_LEGACY_V4 = re.compile(r"^[0-9a-fx.]+$")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _host_port(url: str) -> tuple[str, int | None] | None:
    try:
        parts = urlsplit(url)
        if parts.scheme.lower() not in SCHEMES or not parts.hostname:
            return None
        return parts.hostname.lower(), parts.port
    except ValueError:
        return None


def ip_literal(host: str) -> IPAddress | None:
    """The address a host names literally, as a browser or the C resolver would read it:
    `127.1`, `0x7f000001` and `2130706433` are all 127.0.0.1 (an old trick around filters
    that only know the dotted-quad form)."""
    host = host.strip("[]").lower()
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    if _LEGACY_V4.fullmatch(host) and any(c.isdigit() for c in host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except (OSError, ValueError):
            return None
    return None


def is_internal(ip: IPAddress) -> bool:
    """Loopback, private, link-local, unspecified, CGNAT, reserved: not the public internet.
    An IPv4-mapped IPv6 address (::ffff:10.0.0.1) is judged by the IPv4 address it maps."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def _entry_host(entry: str) -> str:
    entry = entry.lower()
    if entry.startswith("["):
        return entry[1:].split("]", 1)[0]
    if entry.count(":") == 1:
        return entry.rsplit(":", 1)[0]
    return entry


def named_explicitly(host: str, allowed_hosts: list[str]) -> bool:
    """An allowed-host entry names exactly this host (not through a .domain wildcard): the
    operator who writes 127.0.0.1:8080 in --allow or a site file means that address."""
    host = host.strip("[]").lower()
    return any(not entry.startswith((".", "*")) and _entry_host(entry) == host for entry in allowed_hosts)


def address_refused(ip: IPAddress, host: str, allowed_hosts: list[str], *, allow_private: bool = False) -> bool:
    """May a connection for HOST go to IP? Asked with the resolved address where the
    connection is made, and with the literal for IP-literal URLs."""
    return is_internal(ip) and not allow_private and not named_explicitly(host, allowed_hosts)


def host_matches(entry: str, host: str, port: int | None) -> bool:
    entry = entry.lower()
    if entry.startswith("*."):
        entry = entry[1:]
    if entry.startswith("."):
        return host == entry[1:] or host.endswith(entry)
    if entry.startswith("[") or entry.count(":") == 1:
        e_host, _, e_port = entry.rpartition(":")
        if e_host.endswith("]") or not e_port.isdigit():   # [::1] bare
            e_host, e_port = entry, ""
        return host == e_host.strip("[]") and (not e_port or port == int(e_port))
    return host == entry.strip("[]")


def _literal_refused(host: str, allowed_hosts: list[str], allow_private: bool) -> bool:
    ip = ip_literal(host)
    return ip is not None and address_refused(ip, host, allowed_hosts, allow_private=allow_private)


def in_scope(url: str, allowed_hosts: list[str], *, allow_private: bool = False) -> bool:
    """A page: http(s), one of the allowed hosts (and ports), not an internal address unnamed."""
    hp = _host_port(url)
    if hp is None or _literal_refused(hp[0], allowed_hosts, allow_private):
        return False
    return any(host_matches(entry, *hp) for entry in allowed_hosts)


def registrable_domain(host: str) -> str:
    labels = host.lower().split(".")
    if ip_literal(host) is not None:  # an IP address is its own domain
        return host
    n = 3 if any(host.endswith("." + s) or host == s for s in _THREE_LABEL_SUFFIXES) else 2
    return ".".join(labels[-n:])


def attachment_in_scope(url: str, allowed_hosts: list[str], *, allow_private: bool = False) -> bool:
    """A file or subresource: a page's scope, or any host of an allowed host's registrable domain."""
    if in_scope(url, allowed_hosts, allow_private=allow_private):
        return True
    hp = _host_port(url)
    if hp is None or ip_literal(hp[0]) is not None:   # an address has no siblings
        return False
    domain = registrable_domain(hp[0])
    for entry in allowed_hosts:
        e_host = _entry_host(entry.lstrip("*").lstrip("."))
        if ip_literal(e_host) is None and registrable_domain(e_host) == domain:
            return True
    return False


def refusal(url: str, allowed_hosts: list[str], *, attachment: bool = False,
            allow_private: bool = False) -> str | None:
    """Why URL may not be requested, in a word ("scheme", "address", "host"), or None."""
    if _host_port(url) is None:
        return "scheme"
    if _literal_refused(_host_port(url)[0], allowed_hosts, allow_private):
        return "address"
    ok = (attachment_in_scope if attachment else in_scope)(url, allowed_hosts, allow_private=allow_private)
    return None if ok else "host"
