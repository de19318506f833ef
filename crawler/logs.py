"""Logging for harvests: expected network failures are one line, never a traceback.

Scrapy's robots.txt and retry middlewares log failed downloads with the exception attached;
for DNS failures, refused connections and timeouts that is an expected outcome of crawling the
web, already counted by kind in the run's errors. The filter keeps the message, drops the trace.
"""
from __future__ import annotations

import logging

from scrapy import exceptions as sx
from twisted.internet import error as terror

EXPECTED = (sx.CannotResolveHostError, sx.DownloadTimeoutError, sx.DownloadConnectionRefusedError,
            sx.DownloadFailedError, sx.ResponseDataLossError, sx.DownloadCancelledError,
            terror.DNSLookupError, terror.TimeoutError, terror.ConnectionRefusedError, terror.ConnectError)


def _expected(exc: BaseException | None) -> bool:
    while exc is not None:
        if isinstance(exc, EXPECTED) or type(exc).__name__ in ("ResponseNeverReceived", "ResponseFailed"):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


class DropExpectedTracebacks(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and _expected(record.exc_info[1]):
            record.exc_info = None
            record.exc_text = None
            if record.levelno >= logging.ERROR:
                record.levelno, record.levelname = logging.WARNING, "WARNING"
        failure = getattr(record, "failure", None)
        if failure is not None and _expected(getattr(failure, "value", None)):
            record.failure = None
        return True


# Loggers that report failed downloads with the exception attached. A filter on the logger
# itself survives Scrapy replacing its root handler when each crawler starts.
NOISY = ("scrapy.downloadermiddlewares.robotstxt", "scrapy.downloadermiddlewares.retry",
         "scrapy.core.scraper", "scrapy.core.engine", "scrapy.core.downloader",
         "scrapy_playwright.handler", "scrapy_playwright")


def quiet_expected_failures() -> None:
    flt = DropExpectedTracebacks()
    for name in NOISY:
        logger = logging.getLogger(name)
        if not any(isinstance(f, DropExpectedTracebacks) for f in logger.filters):
            logger.addFilter(flt)
