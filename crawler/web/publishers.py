"""The publisher page (canonical name, aliases with their evidence, reports by year, sites,
the archivist's actions) and the token-gated form that changes the registry.

storage/publishers.py and storage/publisher_actions.py own the rules; inputs.py bounds the form;
this module only reads, dispatches and redirects back.
"""
from __future__ import annotations

from urllib.parse import parse_qs

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse

from crawler.web import inputs, security

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["api"])


def _ctx(request: Request):
    return request.app.state.ctx


def view(cat, publisher_id: int) -> dict | None:
    """Everything the page and the API show of one publisher."""
    p = cat.publisher(publisher_id=publisher_id)
    if p is None:
        return None
    reports = [r for r in cat.reports() if r.publisher_id == p.id]
    years: dict = {}
    for r in reports:
        years.setdefault(r.year, []).append(r)
    every = cat.publishers(include_merged=True)
    return {
        "publisher": p,
        "parent": cat.publisher(publisher_id=p.parent_id) if p.parent_id else None,
        "merged_into": cat.publisher(publisher_id=p.merged_into_id) if p.merged_into_id else None,
        "merged_from": [q for q in every if q.merged_into_id == p.id],
        "children": [q for q in every if q.parent_id == p.id and q.merged_into_id is None],
        "aliases": cat.publisher_aliases(publisher_id=p.id),
        "sites": [s for s in cat.sites() if s.publisher_id == p.id],
        "years": sorted(years.items(), key=lambda kv: (kv[0] is None, -(kv[0] or 0))),
        "actions": cat.publisher_actions(publisher_id=p.id),
    }


@router.get("/publishers/{publisher_id}", response_class=HTMLResponse)
def publisher_page(request: Request, publisher_id: inputs.PublisherId):
    from crawler.web.pages import _page

    got = view(_ctx(request).catalogue, publisher_id)
    if got is None:
        raise HTTPException(404, f"no publisher {publisher_id}")
    return _page(request, "publisher.html", **got)


@router.post("/publishers/{publisher_id}/actions")
async def publisher_action(request: Request, publisher_id: inputs.PublisherId):
    """One archivist action (merge, add or split an alias, created/abolished, undo), token first."""
    from storage.publishers import PublisherError

    body = inputs.form_body(await request.body())
    form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
    security.require_token(request, form.get("token"))
    kwargs = inputs.publisher_action(form, publisher_id)
    cat = _ctx(request).catalogue
    method = {"merge": cat.merge_publishers, "add_alias": cat.add_alias, "split_alias": cat.split_alias,
              "created": cat.mark_publisher, "abolished": cat.mark_publisher,
              "undo": cat.undo_action}[kwargs.pop("action")]
    try:
        await run_in_threadpool(lambda: method(**kwargs))
    except PublisherError as exc:
        raise inputs.bad(str(exc), 409) from None
    # After a merge this publisher is a name of the other: show where it went.
    target = kwargs.get("into_id") if method == cat.merge_publishers else publisher_id
    return RedirectResponse(f"/publishers/{target}", status_code=303)


@api.get("/publishers/{publisher_id}", summary="A publisher: aliases with evidence, sites, reports, actions")
def publisher_api(request: Request, publisher_id: inputs.PublisherId):
    got = view(_ctx(request).catalogue, publisher_id)
    if got is None:
        raise HTTPException(404, f"no publisher {publisher_id}")
    return {
        **got["publisher"].model_dump(),
        "parent": got["parent"].name if got["parent"] else None,
        "aliases": [a.model_dump() for a in got["aliases"]],
        "sites": [s.id for s in got["sites"]],
        "reports": [{"id": r.id, "year": r.year, "title": r.title, "url": r.url, "site_id": r.site_id,
                     "printed": (r.attribution or {}).get("printed") or r.agency, "attribution": r.attribution}
                    for _, rs in got["years"] for r in rs],
        "actions": [a.model_dump() for a in got["actions"]],
    }
