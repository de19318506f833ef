"""Is a URL in a site's scope? One decision, tested from a table.

An allowed-host entry is one of:
- `host`         that host on any port,
- `host:port`    that host on that port only (several simulated or proxied portals share an address),
- `.domain` or `*.domain`   the domain and every subdomain.
Report attachments may also come from a sibling host of the same registrable domain
(portals often serve files from `file.` or `xxgk.` hosts), never from an unrelated one.
"""
from __future__ import annotations

from urllib.parse import urlsplit

# Second-level suffixes under which the registrable domain has three labels.
_THREE_LABEL_SUFFIXES = ("gov.cn", "com.cn", "org.cn", "edu.cn", "net.cn", "gov.hk", "gov.mo")


def _host_port(url: str) -> tuple[str, int | None] | None:
    try:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return None
        return parts.hostname.lower(), parts.port
    except ValueError:
        return None


def host_matches(entry: str, host: str, port: int | None) -> bool:
    entry = entry.lower()
    if entry.startswith("*."):
        entry = entry[1:]
    if entry.startswith("."):
        return host == entry[1:] or host.endswith(entry)
    if ":" in entry:
        e_host, _, e_port = entry.rpartition(":")
        return host == e_host and port == int(e_port)
    return host == entry


def in_scope(url: str, allowed_hosts: list[str]) -> bool:
    hp = _host_port(url)
    if hp is None:
        return False
    return any(host_matches(entry, *hp) for entry in allowed_hosts)


def registrable_domain(host: str) -> str:
    labels = host.lower().split(".")
    if all(p.isdigit() for p in labels):  # an IP address is its own domain
        return host
    n = 3 if any(host.endswith("." + s) or host == s for s in _THREE_LABEL_SUFFIXES) else 2
    return ".".join(labels[-n:])


def attachment_in_scope(url: str, allowed_hosts: list[str]) -> bool:
    if in_scope(url, allowed_hosts):
        return True
    hp = _host_port(url)
    if hp is None:
        return False
    domain = registrable_domain(hp[0])
    for entry in allowed_hosts:
        e_host = entry.lstrip("*").lstrip(".").rsplit(":", 1)[0] if ":" in entry else entry.lstrip("*").lstrip(".")
        if not all(p.isdigit() for p in e_host.split(".")) and registrable_domain(e_host) == domain:
            return True
    return False
