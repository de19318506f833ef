"""Failures by kind: one name per expected failure, used in stats, run rows and summaries."""
from __future__ import annotations

from scrapy import exceptions as sx
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet import defer, error

# Ordered: the first matching class names the failure.
_KINDS: list[tuple[tuple[type, ...], str]] = [
    ((sx.CannotResolveHostError, error.DNSLookupError), "dns"),
    ((sx.DownloadTimeoutError, error.TimeoutError, error.TCPTimedOutError, defer.TimeoutError), "timeout"),
    ((sx.DownloadConnectionRefusedError, error.ConnectionRefusedError), "connection_refused"),
    ((sx.DownloadCancelledError, defer.CancelledError), "oversized"),
    ((sx.ResponseDataLossError,), "data_loss"),
    ((sx.DownloadFailedError, error.ConnectionLost, error.ConnectionDone, error.ConnectError), "connection"),
]


def error_kind(exc: BaseException) -> str:
    """Name a failure by kind: http_404, dns, timeout, oversized, robots_disallowed, ...

    Accepts an exception or a Twisted Failure (whose `.value` is the exception)."""
    exc = getattr(exc, "value", exc)
    if isinstance(exc, HttpError):
        return f"http_{exc.response.status}"
    for classes, kind in _KINDS:
        if isinstance(exc, classes):
            return kind
    name = type(exc).__name__
    if name in ("ResponseNeverReceived", "ResponseFailed", "_ResponseFailed"):
        return "connection"
    if isinstance(exc, sx.IgnoreRequest):
        from crawler.middlewares import OutOfScope

        if isinstance(exc, OutOfScope):
            return "off_scope"
        msg = str(exc).lower()
        if "robots" in msg:
            return "robots_disallowed"
        if "redirect" in msg:
            return "redirect_loop"
        if "download_maxsize" in msg:
            # Scrapy's decompression stopped a body inflating past the limit (a gzip bomb).
            return "oversized"
        return "ignored"
    return name.lower()
