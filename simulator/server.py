"""The HTTP server: a plain server and an HTTP proxy at once, in front of a World.

Routing of a request to a simulated host, in order: an absolute URI in the request line (proxy use);
a path prefix /_host/<host>/ (direct use, see url_for); a Host header naming a simulated host; the
Referer's /_host/ prefix (so root-relative links keep working when browsing directly).
"""
from __future__ import annotations

import collections
import datetime as dt
import email.utils
import hashlib
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from . import antibot, dress
from .model import Request, Response
from .world import World

HOST_PREFIX = "/_host/"
MAX_LOGGED_REQUESTS = 20_000


class Stats:
    """Thread-safe counters of what was served."""

    def __init__(self):
        self._lock = threading.Lock()
        self.by_host: collections.Counter[str] = collections.Counter()
        self.by_path: collections.Counter[str] = collections.Counter()
        self.by_status: collections.Counter[int] = collections.Counter()
        self.bytes_served = 0

    def count(self, host: str, path: str, status: int, size: int) -> None:
        with self._lock:
            self.by_host[host] += 1
            self.by_path[f"{host}{path}"] += 1
            self.by_status[status] += 1
            self.bytes_served += size

    @property
    def requests_total(self) -> int:
        with self._lock:
            return sum(self.by_host.values())


class SimServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # listen() backlog. socketserver's default of 5 drops connection attempts when a multi-site
    # harvest opens a few hundred at once (the kernel then retries the SYN after 1, 3, 7... s,
    # and requests time out): one loopback server stands for many portals here.
    request_queue_size = 1024

    def __init__(self, world: World, address=("127.0.0.1", 0)):
        super().__init__(address, _Handler)
        self.world = world
        self.stats = Stats()
        self._log: collections.deque = collections.deque(maxlen=MAX_LOGGED_REQUESTS)
        self._arrivals: collections.deque = collections.deque(maxlen=MAX_LOGGED_REQUESTS)
        self._failed_once: set[str] = set()
        self._state_lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self.server_address[1]

    @property
    def proxy_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def requests(self) -> list[tuple[str, str, str, int, dict]]:
        """(host, method, path with query, status, request headers), oldest first, bounded."""
        with self._state_lock:
            return list(self._log)

    @property
    def arrivals(self) -> list[tuple[float, str, str, str]]:
        """(time.monotonic() the request arrived, host, method, path with query), oldest first, bounded."""
        with self._state_lock:
            return list(self._arrivals)

    def url_for(self, url: str) -> str:
        parts = urlsplit(url)
        query = f"?{parts.query}" if parts.query else ""
        return f"{self.proxy_url}{HOST_PREFIX}{parts.hostname}{parts.path or '/'}{query}"

    def fail_once(self, key: str) -> bool:
        """True the first time a key is seen by this server (the flaky page's single 503)."""
        with self._state_lock:
            if key in self._failed_once:
                return False
            self._failed_once.add(key)
            return True

    def log_request_row(self, row, arrived: float | None = None) -> None:
        with self._state_lock:
            self._log.append(row)
            if arrived is not None:
                self._arrivals.append((arrived, row[0], row[1], row[2]))

    def start(self) -> "SimServer":
        self._thread = threading.Thread(target=self.serve_forever, name="simulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    def __enter__(self) -> "SimServer":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def serve(world: World, *, host: str = "127.0.0.1", port: int = 0) -> SimServer:
    """Start serving the world in a background daemon thread; use as a context manager."""
    return SimServer(world, (host, port)).start()


def _http_date(d: dt.date) -> str:
    return email.utils.format_datetime(dt.datetime(d.year, d.month, d.day, 8, 0, tzinfo=dt.timezone.utc), usegmt=True)


class _Handler(BaseHTTPRequestHandler):
    server: SimServer
    protocol_version = "HTTP/1.1"
    server_version = "nginx"
    sys_version = ""

    def log_message(self, format, *args):   # quiet: tests read server.requests instead
        pass

    def do_GET(self):
        self._answer()

    def do_POST(self):
        self._answer()

    def do_HEAD(self):
        self._answer()

    def _target(self) -> tuple[str, str, str]:
        raw = self.path
        if raw.startswith(("http://", "https://")):
            parts = urlsplit(raw)
            return (parts.hostname or "").lower(), parts.path or "/", parts.query
        parts = urlsplit(raw)
        path = parts.path
        if path.startswith(HOST_PREFIX):
            host, _, rest = path[len(HOST_PREFIX):].partition("/")
            return host.lower(), "/" + rest, parts.query
        host = (self.headers.get("Host") or "").split(":")[0].lower()
        if self.server.world.portal_for_host(host) is None:
            ref = urlsplit(self.headers.get("Referer") or "").path
            if ref.startswith(HOST_PREFIX):
                host = ref[len(HOST_PREFIX):].split("/")[0].lower()
        return host, path, parts.query

    def _answer(self):
        self._arrived = time.monotonic()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        host, path, query = self._target()
        path = path.split(";jsessionid=")[0]         # servlet session ids in the path change nothing
        headers = {k.lower(): v for k, v in self.headers.items()}
        req = Request(self.command, host, path, query, headers, body)
        resp = self._respond(req)
        if urlsplit(self.path).path.startswith(HOST_PREFIX):
            # Direct use: keep redirects on the direct form, or the client would leave for the real host.
            resp.headers = [(k, self._direct(v) if k == "Location" else v) for k, v in resp.headers]
        self._send(req, resp)

    def _direct(self, location: str) -> str:
        host = urlsplit(location).hostname
        if host and self.server.world.portal_for_host(host) is not None:
            return self.server.url_for(location)
        return location

    def _respond(self, req: Request) -> Response:
        world = self.server.world
        portal = world.portal_for_host(req.host)
        if portal is None:
            return Response(502, b"<html><body><h1>502 Bad Gateway</h1></body></html>", [("Content-Type", "text/html")], cacheable=False)
        challenge = antibot.gate(portal.family, world.seed, req)
        if challenge is not None:
            return challenge
        site = world.site(portal.site_id)
        flaky = site.traps.get("flaky")
        if flaky and urlsplit(flaky).path == req.path and self.server.fail_once(flaky):
            return Response(503, b"<html><body>503 Service Temporarily Unavailable</body></html>",
                            [("Content-Type", "text/html"), ("Retry-After", "1")], cacheable=False)
        if "dressed" in portal.quirks and dress.is_requisite(req.path):
            return dress.requisite(req)
        resp = site.handle(req)
        if portal.quirks & {"dressed", "noisy"} and resp.status == 200 and isinstance(resp.body, bytes) \
                and any(k.lower() == "content-type" and "html" in v for k, v in resp.headers):
            if "dressed" in portal.quirks:
                resp.body = dress.dress(resp.body)
            if "noisy" in portal.quirks:
                resp.body = dress.noise(resp.body)
        if portal.conditional and resp.cacheable and resp.status == 200 and isinstance(resp.body, bytes):
            etag = '"' + hashlib.sha256(resp.body).hexdigest()[:20] + '"'
            resp.headers.append(("ETag", etag))
            if resp.last_modified:
                resp.headers.append(("Last-Modified", _http_date(resp.last_modified)))
            if _not_modified(req, etag, resp.last_modified):
                return Response(304, b"", [h for h in resp.headers if h[0] in ("ETag", "Last-Modified")])
        return resp

    def _send(self, req: Request, resp: Response):
        self.send_response(resp.status)
        for k, v in resp.headers:
            self.send_header(k, v)
        size = len(resp.body) if isinstance(resp.body, bytes) else (resp.length or 0)
        if resp.status != 304:
            self.send_header("Content-Length", str(size))
        self.end_headers()
        sent = 0
        if req.method != "HEAD" and resp.status != 304:
            try:
                if isinstance(resp.body, bytes):
                    self.wfile.write(resp.body)
                    sent = size
                else:
                    for chunk in resp.body:
                        self.wfile.write(chunk)
                        sent += len(chunk)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True   # the client gave up (e.g. a size limit): normal for the big file
        full_path = req.path + (f"?{req.query}" if req.query else "")
        self.server.stats.count(req.host, full_path, resp.status, sent)
        self.server.log_request_row((req.host, req.method, full_path, resp.status, dict(req.headers)),
                                    arrived=getattr(self, "_arrived", None))


def _not_modified(req: Request, etag: str, modified: dt.date | None) -> bool:
    inm = req.headers.get("if-none-match")
    if inm is not None:
        return etag in [t.strip() for t in inm.split(",")] or inm.strip() == "*"
    ims = req.headers.get("if-modified-since")
    if ims and modified:
        try:
            since = email.utils.parsedate_to_datetime(ims)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=dt.timezone.utc)
        return dt.datetime(modified.year, modified.month, modified.day, 8, 0, tzinfo=dt.timezone.utc) <= since
    return False
