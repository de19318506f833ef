"""Logging for harvests: expected network failures are one line, never a traceback.

Scrapy's robots.txt and retry middlewares log failed downloads with the exception attached;
for DNS failures, refused connections and timeouts that is an expected outcome of crawling the
web, already counted by kind in the run's errors. The filter keeps the message, drops the trace.
Items in log lines are named by URL and kind, never printed with their bytes (ShortLogFormatter).
"""
from __future__ import annotations

import logging

from scrapy import exceptions as sx
from scrapy.logformatter import LogFormatter
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


# ---------------------------------------------------------------- items in log lines

def describe(item) -> str:
    """An item in one short phrase: never its body. Scrapy's own messages print the item's repr,
    and a FileItem's repr held the whole file (a dropped PDF's warning ran to 47,000 characters)."""
    from crawler.items import FileItem

    if isinstance(item, FileItem):
        text = repr(item)
    else:
        url = item.get("url") if isinstance(item, dict) else getattr(item, "url", None)
        text = f"{type(item).__name__} {url}" if url else type(item).__name__
    return text if len(text) <= 400 else text[:397] + "..."


def _reason(exception: BaseException | None) -> str:
    text = (str(exception) if exception is not None else "").strip().splitlines()
    reason = text[0] if text else type(exception).__name__
    return reason if len(reason) <= 200 else reason[:197] + "..."


class ShortLogFormatter(LogFormatter):
    """Scraped, dropped and failed items logged as URL, kind and reason (settings LOG_FORMATTER)."""

    def scraped(self, item, response, spider):
        out = super().scraped(item, response, spider)
        src = getattr(response, "url", None) or out["args"]["src"]
        return {**out, "msg": "Scraped %(item)s from %(src)s", "args": {"item": describe(item), "src": src}}

    def dropped(self, item, exception, response, spider):
        out = super().dropped(item, exception, response, spider)
        return {**out, "msg": "Dropped %(item)s: %(reason)s",
                "args": {"item": describe(item), "reason": _reason(exception)}}

    def item_error(self, item, exception, response, spider):
        out = super().item_error(item, exception, response, spider)
        return {**out, "msg": "Error processing %(item)s: %(reason)s",
                "args": {"item": describe(item), "reason": _reason(exception)}}
