"""A filtering proxy between Chromium and the network: the scope check for what no page route
sees. Playwright's routes see a request's first hop only (its driver continues every redirect
hop unasked, see `_onRequest` in its crNetworkManager), so a page's <img src=/a> answering 302
to 169.254.169.254, or a rendered page redirecting to another port, would reach it. Every
connection Chromium opens goes through here (Playwright proxies loopback too when a proxy is
given), is judged by crawler.scope with the attachment rule (the proxy cannot tell a frame
from an image) and, for a name, connected to the very address that was checked: a name that
resolves to 10.x or 169.254.x is refused unless the site names or allows it, and DNS rebinding
has no second lookup to fool. Behind an upstream proxy (`--proxy`) that proxy resolves.

One request per connection (`Connection: close` upstream), so every request is seen; CONNECT
tunnels are judged by host and port, which is all an https hop shows.
"""
from __future__ import annotations

import asyncio
import logging
import socket
from typing import Callable
from urllib.parse import urlsplit

from crawler import scope

log = logging.getLogger(__name__)

HEAD_LIMIT = 64 * 1024
IDLE_S = 60.0
_HOP_HEADERS = {"proxy-connection", "proxy-authorization", "connection", "keep-alive"}


class ScopeProxy:
    def __init__(self, *, judge: Callable[[str], str | None], allowed: Callable[[], tuple[list[str], bool]],
                 upstream: str | None, on_refused: Callable[[str, str], None]):
        self.judge = judge              # url -> refusal reason or None
        self.allowed = allowed          # -> (allowed_hosts, allow_private), for resolved addresses
        self.upstream = urlsplit(upstream) if upstream else None
        self.on_refused = on_refused
        self.server: asyncio.base_events.Server | None = None

    async def start(self) -> str:
        if self.server is None:
            self.server = await asyncio.start_server(self._client, "127.0.0.1", 0, limit=HEAD_LIMIT)
        return "http://127.0.0.1:%d" % self.server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None

    async def _client(self, reader, writer) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), IDLE_S)
            await self._serve(head, reader, writer)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, asyncio.TimeoutError,
                ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def _serve(self, head: bytes, reader, writer) -> None:
        line, _, rest = head.decode("latin-1").partition("\r\n")
        method, target, _version = (line.split(" ") + ["", ""])[:3]
        connect = method.upper() == "CONNECT"
        url = f"https://{target}/" if connect else target
        why = self.judge(url)
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        if why is None:
            upstream, why = await self._open(parts.hostname or "", port)
        if why is not None:
            self.on_refused(url, why)
            writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            await writer.drain()
            return
        up_reader, up_writer = upstream
        sending = None
        try:
            if connect:
                # a tunnel: bytes both ways until either side ends
                if self.upstream is None:
                    writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
                else:
                    up_writer.write(head)
                sending = asyncio.ensure_future(_pipe(reader, up_writer))
            else:
                # one request: its head and exactly its body, nothing after it (no second request
                # smuggled onto a connection that was judged for the first)
                up_writer.write(self._request_head(method, parts, rest))
                length = _content_length(rest)
                if length:
                    up_writer.write(await asyncio.wait_for(reader.readexactly(length), IDLE_S))
                elif "chunked" in rest.lower():
                    sending = asyncio.ensure_future(_pipe(reader, up_writer))
            await _pipe(up_reader, writer)
        finally:
            if sending is not None:
                sending.cancel()
            up_writer.close()

    def _request_head(self, method: str, parts, rest: str) -> bytes:
        target = parts.geturl() if self.upstream else (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = [h for h in rest.split("\r\n") if h and h.split(":", 1)[0].strip().lower() not in _HOP_HEADERS]
        return (f"{method} {target} HTTP/1.1\r\n" + "".join(h + "\r\n" for h in headers)
                + "Connection: close\r\n\r\n").encode("latin-1")

    async def _open(self, host: str, port: int):
        """A connection for HOST:PORT, to an address scope allows, or the reason there is none."""
        if self.upstream is not None:
            return await asyncio.open_connection(self.upstream.hostname, self.upstream.port or 80), None
        hosts, allow_private = self.allowed()
        literal = scope.ip_literal(host)
        if literal is not None:
            addresses = [literal]
        else:
            try:
                infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
            except OSError:
                return None, "dns"
            addresses = [scope.ip_literal(info[4][0]) for info in infos]
        usable = [ip for ip in addresses if ip is not None
                  and not scope.address_refused(ip, host, hosts, allow_private=allow_private)]
        if not usable:
            return None, "address"
        return await asyncio.open_connection(str(usable[0]), port), None


def _content_length(rest: str) -> int:
    for h in rest.split("\r\n"):
        name, _, value = h.partition(":")
        if name.strip().lower() == "content-length" and value.strip().isdigit():
            return int(value.strip())
    return 0


async def _pipe(reader, writer) -> None:
    try:
        while True:
            data = await asyncio.wait_for(reader.read(1 << 16), IDLE_S)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (asyncio.TimeoutError, ConnectionError, OSError):
        pass
    finally:
        if writer.can_write_eof():
            try:
                writer.write_eof()
            except OSError:
                pass
