"""Log lines name the file and the reason, never its bytes (crawler/logs.py ShortLogFormatter)."""
from __future__ import annotations

import logging
from datetime import datetime, timezone

from scrapy import Spider
from scrapy.exceptions import DropItem
from scrapy.http import HtmlResponse, Request
from scrapy.logformatter import LogFormatter
from scrapy.utils.log import logformatter_adapter
from scrapy.utils.misc import load_object
from scrapy.utils.test import get_crawler

import crawler.settings as crawler_settings
from crawler.items import FileItem, ReportRef

URL = "http://www.example.gov.cn/xxgk/ndbg/P020200131_年报.pdf"


def _item() -> FileItem:
    return FileItem(site_id="example", url=URL, final_url=URL, source_page="http://www.example.gov.cn/xxgk/",
                    status=200, headers={"Content-Type": "application/pdf"}, body=b"%PDF-1.7 " + b"x" * 50_000,
                    content_type="application/pdf", filename="年报.pdf", fetched_at=datetime.now(timezone.utc),
                    kind="attachment", report=ReportRef(agency="某局", year=2019, title="2019年年报", url=URL),
                    derived={"dom": (b"<html>" + b"y" * 50_000, "text/html")}, analysis=b"z" * 50_000)


def _lines(method: str, caplog, *args) -> list[str]:
    crawler = get_crawler(settings_dict={"LOG_FORMATTER": crawler_settings.LOG_FORMATTER})
    formatter = load_object(crawler.settings["LOG_FORMATTER"]).from_crawler(crawler)
    spider = Spider.from_crawler(crawler, name="reports")
    response = HtmlResponse(url="http://www.example.gov.cn/xxgk/2019.html", body=b"<html></html>",
                            request=Request("http://www.example.gov.cn/xxgk/2019.html"))
    out = getattr(formatter, method)(_item(), *args, response, spider)
    with caplog.at_level(logging.DEBUG, logger="test.logs"):
        logging.getLogger("test.logs").log(*logformatter_adapter(out))
    return [r.getMessage() for r in caplog.records if r.name == "test.logs"]


def test_the_project_uses_its_formatter():
    assert issubclass(load_object(crawler_settings.LOG_FORMATTER), LogFormatter)


def test_dropped_file_is_one_short_line_naming_url_and_reason(caplog):
    [line] = _lines("dropped", caplog, DropItem(f"{URL}: archive_StoreError"))
    assert len(line) < 500 and "\n" not in line
    assert URL in line and "archive_StoreError" in line
    assert "xxxxxxxx" not in line


def test_item_error_and_scraped_are_short_too(caplog):
    [error] = _lines("item_error", caplog, ValueError("bad row\n" + "detail " * 1000))
    assert len(error) < 500 and URL in error and "bad row" in error
    caplog.clear()
    [scraped] = _lines("scraped", caplog)
    assert len(scraped) < 500 and URL in scraped


def test_file_item_repr_never_holds_the_body():
    text = repr(_item())
    assert len(text) < 300 and URL in text and "bytes=50009" in text and "xxxx" not in text
