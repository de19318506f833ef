"""Downloader middleware writing every HTTP exchange of a crawl to WARC (storage.warc).

Where it sits: priority 950, next to the downloader. Its process_response therefore runs
first, before RedirectMiddleware (600) turns a 3xx into a new request and before
HttpCompressionMiddleware (590) decodes the body, so redirects and retried errors are
archived too, and the request headers are final (cookies, user agent, defaults).

What it records: the body with Content-Encoding undone here (storage.warc.
decode_content_encoding), so that the WARC payload digest is the catalogue's sha256 of the
archived object; the record says so in WARC-Nianbao-Note and the header is dropped. A body
that cannot be decoded is archived as transferred.

Nothing lost (storage/warcspool.py): WARC files are spooled beside the archive
(env.warc_spool_dir), every record is flushed as written, and a response goes on to the spider
only once its record is fsynced: the spider makes the FileItem whose capture row names the
record (warc key, offset), so no row can name a record a power loss would take back, the
write-ahead rule. The fsyncs are grouped: one per batch of responses waiting, off the reactor
thread. At spider_opened the files a dead process left (SIGKILL) are uploaded to their keys;
at spider_closed, whatever the reason, the open file is uploaded, or left in the spool with a
one-line error when the store is down, for the next start.

A WARC failure never breaks the crawl: it is counted in `nianbao/warc/errors` and logged once.
"""
from __future__ import annotations

import logging
from importlib.metadata import version
from datetime import datetime, timezone

import scrapy
from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawler import __version__, env
from storage.objects import open_store
from storage.warc import DEFAULT_MAX_BYTES, WarcUploadError, WarcWriter, decode_content_encoding
from storage.warcspool import recover_spool

log = logging.getLogger(__name__)

META_KEY = "nianbao_warc"
# Credentials for our proxy are ours, not the site's: never archived.
PRIVATE_REQUEST_HEADERS = {"proxy-authorization"}


def _header_list(headers) -> list[tuple[str, str]]:
    """Scrapy Headers -> [(name, value)] in the order Scrapy keeps, one pair per value."""
    out = []
    for name, values in headers.items():
        key = name.decode("latin-1") if isinstance(name, bytes) else str(name)
        for value in values if isinstance(values, (list, tuple)) else [values]:
            out.append((key, value.decode("latin-1") if isinstance(value, bytes) else str(value)))
    return out


def _reactor_running() -> bool:
    """True inside a running crawl; False when the middleware is driven by hand (tests, tools)."""
    from scrapy.utils.reactor import is_reactor_installed
    if not is_reactor_installed():
        return False
    from twisted.internet import reactor
    return bool(reactor.running)


def _software() -> str:
    return f"nianbao/{__version__} (Scrapy {scrapy.__version__}; warcio {version('warcio')})"


class WarcMiddleware:
    def __init__(self, *, store_url: str, crawler, max_bytes: int = DEFAULT_MAX_BYTES,
                 tmp_dir: str | None = None, max_decoded: int = 0):
        self.store_url = store_url
        self.store = None
        self.crawler = crawler
        self.stats = crawler.stats
        self.max_bytes = max_bytes
        self.spool_dir = env.warc_spool_dir(store_url, tmp_dir)
        self.max_decoded = max_decoded
        self.writer: WarcWriter | None = None
        self._logged_error = False

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        if not s.getbool("NIANBAO_WARC"):
            raise NotConfigured
        mw = cls(store_url=env.store_url(s.get("NIANBAO_STORE")), crawler=crawler,
                 max_bytes=s.getint("NIANBAO_WARC_MAX_BYTES", DEFAULT_MAX_BYTES),
                 tmp_dir=s.get("NIANBAO_WARC_TMP_DIR"), max_decoded=s.getint("DOWNLOAD_MAXSIZE", 0))
        crawler.signals.connect(mw.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(mw.spider_opened, signal=signals.spider_opened)
        return mw

    def spider_opened(self, spider):
        # The spider hands the browser's own exchanges (XHR, scripts, viewer files) here.
        spider.warc_recorder = self
        # Before this run writes anything: the files of a crawl that died reach the store, so
        # the captures it recorded (this run may be resuming it) name keys that exist.
        try:
            result = recover_spool(self._store(), self.spool_dir)
        except Exception as exc:
            log.error("WARC spool %s not recovered: %s", self.spool_dir, str(exc).splitlines()[0] if str(exc) else exc)
            return
        if result.uploaded or result.already:
            self.stats.set_value("nianbao/warc/recovered", len(result.uploaded) + len(result.already))
        if result.failed:
            self.stats.set_value("nianbao/warc/unrecovered", len(result.failed))

    def _store(self):
        if self.store is None:
            self.store = open_store(self.store_url)
        return self.store

    async def record_browser_response(self, response, *, browser: str | None = None) -> None:
        """One exchange Chromium made while drawing a page (a Playwright Response)."""
        try:
            request = response.request
            try:
                body = await response.body()
            except Exception:        # redirects and aborted loads carry no body
                body = b""
            headers = [(h["name"], h["value"]) for h in await response.headers_array()]
            headers = [(k, v) for k, v in headers if k.lower() not in ("content-encoding", "content-length")]
            headers.append(("Content-Length", str(len(body))))
            req_headers = [(k, v) for k, v in (await request.all_headers()).items()
                           if k.lower() not in PRIVATE_REQUEST_HEADERS]
            self._writer().record_exchange(
                url=response.url, method=request.method, request_headers=req_headers,
                request_body=request.post_data_buffer or b"", status=response.status, reason=None,
                response_headers=headers, body=body, ip=None, fetched_at=datetime.now(timezone.utc),
                rendered=True, browser=browser, notes=["fetched by the browser while rendering a page"])
            self.stats.inc_value("nianbao/warc/browser_responses")
        except Exception:
            self._error(f"write of browser exchange {getattr(response, 'url', '?')}")

    def _writer(self) -> WarcWriter:
        # Built on first use: the ArchivePipeline sets spider.run_id in open_spider.
        if self.writer is None:
            spider = self.crawler.spider
            site = spider.site
            self.writer = WarcWriter(
                self._store(), site_id=site.id, run_id=getattr(spider, "run_id", None) or 0,
                config_hash=site.config_hash(), software=_software(), max_bytes=self.max_bytes,
                spool_dir=self.spool_dir)
        return self.writer

    def _error(self, what: str, exc: BaseException | None = None) -> None:
        self.stats.inc_value("nianbao/warc/errors")
        if not self._logged_error:
            self._logged_error = True
            if exc is None:
                log.exception("WARC %s failed (further WARC errors are only counted)", what)
            else:
                log.error("WARC %s failed: %s (further WARC errors are only counted)", what, exc)

    def process_response(self, request, response, spider=None):
        # A redirected or retried request inherits the meta of the one before: never let a
        # failed write leave the previous exchange's location behind.
        request.meta.pop(META_KEY, None)
        if "cached" in response.flags or not response.url.startswith(("http://", "https://")):
            return response
        try:
            loc = self._record(request, response)
        except Exception:
            self._error(f"write of {response.url}")
            return response
        if not _reactor_running():
            self._durable(loc)
            return response
        return self._after_fsync(request, response, loc)

    def _durable(self, loc) -> None:
        try:
            self.writer.sync(loc)
        except OSError as exc:
            self._error("fsync", exc)

    async def _after_fsync(self, request, response, loc):
        """The response, once its record is on disk (a group fsync in the writer's thread)."""
        from scrapy.utils.defer import maybe_deferred_to_future
        from twisted.internet import defer, reactor

        done = defer.Deferred()
        self.writer.when_durable(loc, lambda error: reactor.callFromThread(done.callback, error))
        error = await maybe_deferred_to_future(done)
        if error is not None:
            self._error(f"fsync of {response.url}", error)
        return response

    def _record(self, request, response):
        rendered = "playwright" in response.flags or bool(request.meta.get("playwright"))
        headers, body, note = decode_content_encoding(_header_list(response.headers), response.body,
                                                      max_size=self.max_decoded)
        notes = [note] if note else []
        if rendered:
            notes.append("payload is the browser-rendered document")
            if any(k.lower() == "content-encoding" for k, _ in headers):
                # The browser already decoded it; the header would make replay decode twice.
                headers = [(k, v) for k, v in headers if k.lower() not in ("content-encoding", "content-length")]
                headers.append(("Content-Length", str(len(body))))
        req_headers = [(k, v) for k, v in _header_list(request.headers)
                       if k.lower() not in PRIVATE_REQUEST_HEADERS]
        loc = self._writer().record_exchange(
            url=response.url, method=request.method, request_headers=req_headers,
            request_body=request.body or b"", status=response.status, reason=None,
            response_headers=headers, body=body,
            ip=str(response.ip_address) if response.ip_address else None,
            fetched_at=datetime.now(timezone.utc), rendered=rendered,
            browser=request.meta.get("nianbao_browser"), notes=notes)
        request.meta[META_KEY] = {"key": loc.key, "offset": loc.offset, "length": loc.length,
                                  "revisit": loc.revisit, "payload_sha256": loc.payload_sha256}
        self.stats.inc_value("nianbao/warc/revisits" if loc.revisit else "nianbao/warc/responses")
        return loc

    def spider_closed(self, spider, reason):
        # Every way a crawl ends gracefully passes here (finished, budget, first Ctrl-C or
        # SIGTERM, an error closing the spider); a forced stop is the atexit hook's (storage/warc.py).
        if self.writer is None:
            return
        try:
            keys = self.writer.close()
        except WarcUploadError as exc:
            # The store is down: the spool keeps the file, the next start uploads it.
            self.stats.inc_value("nianbao/warc/upload_failed")
            log.error("%s: %s", spider.site.id if hasattr(spider, "site") else spider.name, exc)
            keys = self.writer.uploaded
        except Exception:
            self._error("upload at close")
            return
        self.stats.set_value("nianbao/warc/files", len(keys))
