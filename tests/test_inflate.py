"""Decompression is bounded by what is actually inflated, not by what headers claim (crawler/inflate.py).

Each case runs in a fresh interpreter that reports how much its peak RSS grew while the crafted
file was read: the bombs are built before the measurement starts. Before crawler/inflate.py the
200 MB DOCX cost 381 MB, the 200 MB PDF stream 142 MB, 15 pages of 10 MB 150 MB.
"""
from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from crawler.inflate import MAX_MEMBERS, BoundedZip, TooLarge
from crawler.textract import detect_kind, extract_text
from tests import bombs

REPO = Path(__file__).resolve().parent.parent
EXTRA_MB = 100

_CHILD = """
import json, resource, sys
sys.path.insert(0, {repo!r})
from tests import bombs
import crawler.textract, docx, openpyxl, pypdf, lxml.etree   # imports are not the file's cost
{setup}
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
result = {run}
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"extra_mb": (after - before) / 1024, "result": repr(result)[:200]}}))
"""


def measured(setup: str, run: str) -> dict:
    proc = subprocess.run([sys.executable, "-c", _CHILD.format(repo=str(REPO), setup=setup, run=run)],
                          capture_output=True, text=True, timeout=300, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("kind", ["docx", "xlsx", "ofd"])
def test_zip_member_understating_its_size_is_refused_without_inflating_it(kind):
    out = measured(f"data = bombs.zip_bomb({kind!r})",
                   f"crawler.textract.extract_text(data, filename='report.{kind}')")
    assert out["result"] in ("None", "''"), out
    assert out["extra_mb"] < EXTRA_MB, out


def test_zip_member_claiming_just_under_the_limit_inflates_no_further_than_the_limit():
    from crawler.inflate import MAX_MEMBER
    out = measured(f"data = bombs.zip_bomb('docx', size=400 * bombs.MB, claimed={MAX_MEMBER - 1})",
                   "crawler.textract.extract_text(data, filename='report.docx')")
    assert out["result"] == "None", out
    assert out["extra_mb"] < 3 * MAX_MEMBER / 1e6, out   # at most the limit, a copy, and slack


def test_pdf_stream_past_the_limit_loses_its_page_not_the_memory():
    out = measured("data = bombs.pdf(1, 200 * bombs.MB)", "crawler.textract.extract_text(data, filename='r.pdf')")
    assert out["extra_mb"] < 60, out


def test_pdf_pages_do_not_keep_their_decoded_streams():
    out = measured("data = bombs.pdf(15, 10 * bombs.MB)",
                   "crawler.textract.extract_text(data, filename='r.pdf').count('page text')")
    assert out["result"] == "15", out       # every page's text, none lost
    assert out["extra_mb"] < 60, out


def test_pdf_decoding_stops_at_the_document_budget():
    from crawler.inflate import MAX_PDF_DECODED
    pages = MAX_PDF_DECODED // (10 * bombs.MB)
    text = extract_text(bombs.pdf(pages + 10, 10 * bombs.MB), filename="r.pdf")
    assert pages <= text.count("page text") <= pages + 1


def test_gzip_bomb_stops_at_download_maxsize_in_scrapy():
    """crawler/settings.py relies on it: Scrapy (2.11.1 and later) applies DOWNLOAD_MAXSIZE to
    the decompressed body, inflating in 64 KiB steps."""
    setup = ("from scrapy.utils.test import get_crawler\n"
             "from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware\n"
             "from scrapy.exceptions import IgnoreRequest\n"
             "from scrapy.http import Request, Response\n"
             "import crawler.settings as s\n"
             "mw = HttpCompressionMiddleware.from_crawler(get_crawler(settings_dict={'DOWNLOAD_MAXSIZE': 10_000_000}))\n"
             "req = Request('http://x.gov.cn/a.pdf')\n"
             "resp = Response(req.url, body=bombs.gzip_bomb(), headers={'Content-Encoding': 'gzip'}, request=req)\n"
             "def run():\n"
             "    try:\n"
             "        return len(mw.process_response(req, resp).body)\n"
             "    except IgnoreRequest:\n"
             "        return 'ignored'\n")
    out = measured(setup, "run()")
    assert out["result"] == "'ignored'", out
    assert out["extra_mb"] < 40, out


def test_project_settings_bound_http_decompression():
    import crawler.settings as s
    assert 0 < s.DOWNLOAD_MAXSIZE <= 1 << 30
    assert getattr(s, "COMPRESSION_ENABLED", True)


def test_forged_central_directory_is_refused_before_it_is_parsed():
    entries = [("a%d.xml" % i, b"<a/>", None) for i in range(MAX_MEMBERS + 1)]
    data = bombs.make_zip(entries)
    with pytest.raises(TooLarge):
        BoundedZip(data)
    assert detect_kind(data) is None
    assert extract_text(data, filename="a.docx") is None


def test_compression_other_than_deflate_is_refused():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_BZIP2) as z:
        z.writestr("word/document.xml", b"<w:document/>")
    with BoundedZip(buf.getvalue()) as z, pytest.raises(TooLarge):
        z.read(z.infos[0])


def test_rebuilt_archive_keeps_text_members_and_empties_the_rest():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("word/document.xml", b"<w:document/>")
        z.writestr("word/media/image1.png", b"\x89PNG" + bytes(10_000))
    with BoundedZip(buf.getvalue()) as bz:
        rebuilt = zipfile.ZipFile(io.BytesIO(bz.rebuilt()))
    assert rebuilt.read("word/document.xml") == b"<w:document/>"
    assert rebuilt.read("word/media/image1.png") == b""
    assert all(i.compress_type == zipfile.ZIP_STORED for i in rebuilt.infolist())
