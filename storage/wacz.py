"""WACZ packages (a zip of WARCs, CDX index, pages and datapackage.json) for replay tools
such as pywb or ReplayWeb.page, built with the `wacz` package from WARC files in the store."""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from storage.warc import warc_key_prefix

__all__ = ["export_wacz", "warc_keys", "html_pages", "WaczError"]


class WaczError(RuntimeError):
    """The wacz tool refused to build the package."""


def warc_keys(store, *, site_id: str, run_id: int | str | None = None) -> list[str]:
    """The WARC files of a site, or of one of its crawl runs, in name (time) order."""
    prefix = warc_key_prefix(site_id, run_id)
    return sorted(k for k in store.keys(prefix) if k.endswith((".warc.gz", ".warc")))


def html_pages(paths: list[str]) -> list[dict]:
    """Page entries for every 200 text/html response in the WARC files: what a replay tool lists."""
    pages = []
    for path in paths:
        with open(path, "rb") as fh:
            for rec in ArchiveIterator(fh):
                if rec.rec_type != "response" or rec.http_headers is None:
                    continue
                ctype = (rec.http_headers.get_header("Content-Type") or "").lower()
                if rec.http_headers.get_statuscode() == "200" and "html" in ctype:
                    url = rec.rec_headers.get_header("WARC-Target-URI")
                    pages.append({"url": url, "ts": rec.rec_headers.get_header("WARC-Date"), "title": url})
    return pages


def export_wacz(store, *, keys: list[str], output: Path, title: str, description: str | None = None,
                pages: list[dict] | None = None) -> Path:
    """Write a WACZ of the WARC files under keys to output; return output.

    pages: entries {"url", "ts" (the capture's WARC-Date), "title"} for the package's page
    list, e.g. the report pages with their titles; default every archived HTML page.
    Revisit records point at earlier captures by URL and date: a package of one crawl run
    replays revisits only if the WARCs holding the originals are among keys too.
    """
    from wacz.main import main as wacz_main   # heavy import (frictionless), only when exporting

    if not keys:
        raise ValueError("no WARC files to export")
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="nianbao-wacz-") as tmp:
        files = []
        for i, key in enumerate(keys):
            # Names inside the package must be unique; keys of different runs may share a basename.
            local = Path(tmp) / f"{i:05d}-{key.rsplit('/', 1)[-1]}"
            src = store.open(key)
            try:
                with open(local, "wb") as dst:
                    while chunk := src.read(1 << 20):
                        dst.write(chunk)
            finally:
                src.close()
            files.append(str(local))
        if pages is None:
            pages = html_pages(files)
        args = ["create", "-o", str(output), "--title", title]
        if pages:
            pages_file = Path(tmp) / "pages.jsonl"
            lines = [json.dumps({"format": "json-pages-1.0", "id": "pages", "title": "All Pages"})]
            lines += [json.dumps(p, ensure_ascii=False) for p in pages]
            pages_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
            args += ["--pages", str(pages_file)]
        if description:
            args += ["--desc", description]
        code = wacz_main(args + files)
    if code not in (0, None) or not output.exists():
        raise WaczError(f"wacz create exited with {code} for {len(keys)} WARC file(s)")
    return output
