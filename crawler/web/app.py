"""FastAPI application: HTML pages for archivists, a JSON feed for parsers.

`create_app` takes ready-made dependencies (or URLs to open); nothing is opened at
import time. Routes are plain `def`: catalogue and store calls block, and FastAPI runs
such routes in its thread pool.
"""
from __future__ import annotations

import hashlib
import logging
import tempfile
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
# An object is hashed before it is served (stream_capture): up to this size in memory, beyond
# in a temporary file. 8 MB x the thread pool's 40 workers stays well under a GB.
VERIFY_IN_MEMORY = 8 * 1024 * 1024
log = logging.getLogger(__name__)
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
    # The docs pages are served from packaged assets (offline_docs): FastAPI's own pull theirs
    # from a CDN, and an archive's machine is often offline.
    app = FastAPI(title="nianbao", version="1", docs_url=None, redoc_url=None,
                  description="Archive of 政府信息公开工作年度报告: coverage, captures, and a change feed for parsers.")
    app.state.ctx = Context(catalogue=catalogue, store=store, token=token, today=today, sites_dir=sites_dir)
    # Named on every page: after `nianbao demo` the archive open in the browser must say which it is.
    app.state.archive = {"catalogue": getattr(catalogue, "url", None) or str(catalogue),
                         "store": getattr(store, "url", None) or str(store)}
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    offline_docs(app)
    error_pages(app)

    from crawler.web import api, pages, publishers
    app.include_router(api.router)
    app.include_router(publishers.api)
    app.include_router(pages.router)
    app.include_router(publishers.router)
    return app


def offline_docs(app: FastAPI) -> None:
    """/docs (Swagger UI) and /redoc from the assets the fastapi-offline package ships (MIT), under
    /apidocs: no request leaves the machine, and the page works with no network."""
    import fastapi_offline
    from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
    from fastapi.responses import HTMLResponse

    assets = Path(fastapi_offline.__file__).parent / "static"
    app.mount("/apidocs", StaticFiles(directory=assets), name="apidocs")

    @app.get("/docs", include_in_schema=False, response_class=HTMLResponse)
    def swagger_ui():
        return get_swagger_ui_html(openapi_url=app.openapi_url, title="nianbao API",
                                   swagger_js_url="/apidocs/swagger-ui-bundle.js",
                                   swagger_css_url="/apidocs/swagger-ui.css",
                                   swagger_favicon_url="/apidocs/favicon.png")

    @app.get("/redoc", include_in_schema=False, response_class=HTMLResponse)
    def redoc():
        return get_redoc_html(openapi_url=app.openapi_url, title="nianbao API",
                              redoc_js_url="/apidocs/redoc.standalone.js",
                              redoc_favicon_url="/apidocs/favicon.png", with_google_fonts=False)


def wants_html(request) -> bool:
    """A person at a browser or a form, not a client of the JSON API: an HTML form post, or a
    page (not /api/) asked for by something that accepts HTML."""
    if request.url.path.startswith("/api/") or request.url.path == "/openapi.json":
        return False
    ctype = request.headers.get("content-type", "")
    if request.method == "POST" and ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        return True
    return "text/html" in request.headers.get("accept", "")


def error_pages(app: FastAPI) -> None:
    """Errors as pages for people (a wrong token, a bad form field, an unknown agency), as JSON
    for the API and for clients that ask for no HTML."""
    from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException as StarletteHTTPException

    def page(request, status: int, message: str):
        from crawler.web.pages import templates

        return templates.TemplateResponse(request, "error.html", {"status": status, "message": message,
                                                                  "writable": bool(request.app.state.ctx.token)},
                                          status_code=status)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request, exc):
        if wants_html(request):
            return page(request, exc.status_code, str(exc.detail))
        return await http_exception_handler(request, exc)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request, exc):
        if wants_html(request):
            problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:]) or 'request'}: {e['msg']}"
                                 for e in exc.errors())
            return page(request, 422, problems)
        return await request_validation_exception_handler(request, exc)


def stream_capture(ctx: Context, cap, *, inline: bool = False) -> StreamingResponse:
    """The capture's bytes from the store, under its catalogue key (never one from the request),
    and only once they hash to the capture's sha256.

    An archive's whole point is that the bytes served are the bytes fetched: a rotten disk
    block or a bad restore must not reach a researcher as "the 2019 report". A mismatch is only
    known at the end of the object, and HTTP cannot take back a 200 already sent, so the object
    is read and hashed before the first byte goes out: in memory up to VERIFY_IN_MEMORY, in a
    temporary file beyond (reports run to a few hundred MB for scanned yearbooks; memory must
    not). A mismatch answers 502 (the store, this server's upstream, gave bad bytes) and logs
    the key, so `nianbao fsck --repair` can quarantine it and owe the file to the next crawl.
    """
    from storage.objects import ObjectNotFound, StoreError, StoreKeyError

    try:
        fh = ctx.store.open(cap.storage_key)
    except ObjectNotFound:
        raise HTTPException(410, f"capture {cap.id}: its bytes are missing from the store") from None
    except StoreKeyError:
        # The store validates every key; a row holding a bad one is damage, not a path to follow.
        raise HTTPException(500, f"capture {cap.id}: the catalogue holds an invalid storage key") from None
    except StoreError as exc:
        raise HTTPException(503, f"capture {cap.id}: the object store is unavailable: {exc}") from None
    spool, size = _verified_copy(cap, fh)

    def chunks() -> Iterator[bytes]:
        try:
            while block := spool.read(CHUNK):
                yield block
        finally:
            spool.close()

    show_inline = inline and security.may_inline(cap.content_type)
    headers = {
        "Content-Disposition": security.content_disposition(security.download_name(cap), inline=show_inline),
        "X-Content-Type-Options": "nosniff",
        # Archived pages are someone else's HTML: never let them script this origin.
        "Content-Security-Policy": "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'",
        "Content-Length": str(size),
        "X-Nianbao-SHA256": cap.sha256,    # verified: a client may check its copy against it
    }
    return StreamingResponse(chunks(), media_type=security.safe_content_type(cap.content_type), headers=headers)


def _verified_copy(cap, fh):
    """(spooled copy rewound, size) of fh, closed; HTTPException 502 unless it hashes to cap.sha256."""
    from storage.objects import StoreError

    spool = tempfile.SpooledTemporaryFile(max_size=VERIFY_IN_MEMORY)
    digest, size = hashlib.sha256(), 0
    try:
        while block := fh.read(CHUNK):
            digest.update(block)
            spool.write(block)
            size += len(block)
    except (StoreError, OSError) as exc:
        spool.close()
        raise HTTPException(503, f"capture {cap.id}: reading its bytes failed: {exc}") from None
    finally:
        fh.close()
    if digest.hexdigest() != cap.sha256:
        spool.close()
        log.error("capture %s: the bytes at %s hash to %s (%d bytes), not %s; refused "
                  "(nianbao fsck --repair quarantines them)", cap.id, cap.storage_key, digest.hexdigest(),
                  size, cap.sha256)
        raise HTTPException(502, f"capture {cap.id}: the stored bytes do not match their sha256 "
                                 f"{cap.sha256}; refused (the archive needs `nianbao fsck --repair`)")
    spool.seek(0)
    return spool, size
