"""FastAPI application: HTML pages for archivists, a JSON feed for parsers.

`create_app` takes ready-made dependencies (or URLs to open); nothing is opened at
import time. Routes are plain `def`: catalogue and store calls block, and FastAPI runs
such routes in its thread pool.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Iterator

from fastapi import FastAPI, HTTPException
from fastapi.responses import StreamingResponse
from fastapi.staticfiles import StaticFiles

from crawler.web import security
from crawler.web.data import Context

HERE = Path(__file__).parent
CHUNK = 256 * 1024
_UNSET = object()


def create_app(*, catalogue=None, store=None, catalogue_url: str | None = None,
               store_url: str | None = None, token=_UNSET, today: date | None = None,
               sites_dir: str | None = None) -> FastAPI:
    """token: None keeps the UI read-only; by default it comes from NIANBAO_TOKEN."""
    from crawler import env

    if catalogue is None:
        from storage.catalogue import Catalogue
        catalogue = Catalogue.open(env.catalogue_url(catalogue_url))
    if store is None:
        from storage.objects import open_store
        store = open_store(env.store_url(store_url))
    if token is _UNSET:
        token = env.api_token()
    app = FastAPI(title="nianbao", version="1",
                  description="Archive of 政府信息公开工作年度报告: coverage, captures, and a change feed for parsers.")
    app.state.ctx = Context(catalogue=catalogue, store=store, token=token, today=today, sites_dir=sites_dir)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    from crawler.web import api, pages
    app.include_router(api.router)
    app.include_router(pages.router)
    return app


def stream_capture(ctx: Context, cap, *, inline: bool = False) -> StreamingResponse:
    """The capture's bytes from the store, under its catalogue key (never one from the request)."""
    from storage.objects import ObjectNotFound, StoreKeyError

    try:
        fh = ctx.store.open(cap.storage_key)
    except ObjectNotFound:
        raise HTTPException(410, f"capture {cap.id}: its bytes are missing from the store") from None
    except StoreKeyError:
        # The store validates every key; a row holding a bad one is damage, not a path to follow.
        raise HTTPException(500, f"capture {cap.id}: the catalogue holds an invalid storage key") from None

    def chunks() -> Iterator[bytes]:
        try:
            while block := fh.read(CHUNK):
                yield block
        finally:
            fh.close()

    show_inline = inline and security.may_inline(cap.content_type)
    headers = {
        "Content-Disposition": security.content_disposition(security.download_name(cap), inline=show_inline),
        "X-Content-Type-Options": "nosniff",
        # Archived pages are someone else's HTML: never let them script this origin.
        "Content-Security-Policy": "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'",
    }
    if cap.size is not None:
        headers["Content-Length"] = str(cap.size)
    return StreamingResponse(chunks(), media_type=security.safe_content_type(cap.content_type), headers=headers)
