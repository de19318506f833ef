"""Every input of the UI and the API, bounded in one place: a bad value is a 4xx, never a 500.

The same rule serves the HTML forms (parsed by hand in pages.py) and the JSON API (FastAPI
and pydantic apply the annotations below), so a value one accepts the other accepts too:
- ids and cursors fit the catalogue's 64-bit columns (a larger number reached SQLite as an
  OverflowError: HTTP 500, and a client retrying a 500 forever);
- years are ones a report can cover (the 条例 took effect in 2008; a year -5 or 99999 is a
  typo or a probe, never a cell of the matrix);
- text fields have the lengths the catalogue keeps (the form once took a 100 KB `who` the
  JSON API refused), and a form body is bounded before it is parsed;
- a site or agency named in a filter or a mark must be one the catalogue knows: a query for a
  misspelt site answers 404, not an empty matrix that reads as "nothing archived".
Unknown names in query filters are 404 (the thing asked for does not exist); bad fields of a
posted body are 422 (the request is malformed), as FastAPI answers for the JSON API.
"""
from __future__ import annotations

from typing import Annotated

from fastapi import HTTPException, Path, Query

MAX_ID = 2**63 - 1           # BIGINT / SQLite INTEGER: the catalogue's id and cursor columns
YEAR_MIN, YEAR_MAX = 1990, 2100
AGENCY_MAX = 200
WHO_MAX = 200
WHY_MAX = 2000
SITE_MAX = 100               # site ids are file names of sites/*.yaml
REGION_MAX = 100
FORM_MAX_BYTES = 16 * 1024   # a mark form is a few hundred bytes; the why field at most 2000 characters

CaptureId = Annotated[int, Path(ge=1, le=MAX_ID, description="A capture id")]
Cursor = Annotated[int, Query(ge=0, le=MAX_ID, description="The cursor the previous page returned")]
OptionalYear = Annotated[int | None, Query(ge=YEAR_MIN, le=YEAR_MAX)]
Year = Annotated[int, Query(ge=YEAR_MIN, le=YEAR_MAX)]
SiteFilter = Annotated[str | None, Query(max_length=SITE_MAX)]
AgencyFilter = Annotated[str | None, Query(max_length=AGENCY_MAX)]
Agency = Annotated[str, Query(min_length=1, max_length=AGENCY_MAX)]
RegionFilter = Annotated[str | None, Query(max_length=REGION_MAX)]
PageLimit = Annotated[int, Query(ge=1, le=1000, description="Rows per page")]


def bad(message: str, status: int = 422) -> HTTPException:
    return HTTPException(status, message)


def text(form: dict, name: str, *, max_len: int, required: bool = True) -> str:
    """A stripped form field, present when required and never longer than max_len characters."""
    value = (form.get(name) or "").strip()
    if required and not value:
        raise bad(f"{name} is needed")
    if len(value) > max_len:
        raise bad(f"{name} is longer than {max_len} characters")
    return value


def year(value: str | None) -> int:
    try:
        y = int((value or "").strip())
    except ValueError:
        raise bad("year must be a number") from None
    if not YEAR_MIN <= y <= YEAR_MAX:
        raise bad(f"year must be between {YEAR_MIN} and {YEAR_MAX}")
    return y


def form_body(raw: bytes) -> bytes:
    if len(raw) > FORM_MAX_BYTES:
        raise bad(f"form body over {FORM_MAX_BYTES} bytes", 413)
    return raw


def known_site(catalogue, site_id: str | None, *, status: int = 404) -> str | None:
    """site_id unchanged when empty or known to the catalogue."""
    if site_id and site_id not in {s.id for s in catalogue.sites()}:
        raise bad(f"no site {site_id!r}", status)
    return site_id or None


def agencies(catalogue) -> set[str]:
    """Agencies the matrix has rows for: each site's own, and every one a report names."""
    return {s.agency for s in catalogue.sites()} | {r.agency for r in catalogue.reports()}


def known_agency(catalogue, agency: str | None, *, status: int = 404) -> str | None:
    if agency and agency not in agencies(catalogue):
        raise bad(f"no agency {agency!r}", status)
    return agency or None


def known_cell(catalogue, agency: str, year: int, *, today=None, status: int = 422) -> None:
    """An archivist's mark must land on a cell the matrix has: an agency it has a row for, and a
    year in that row (from the site's first year to today's), or it would mark nothing anyone sees."""
    from crawler.coverage import from_catalogue

    rows = from_catalogue(catalogue, today=today).rows
    row = next((r for r in rows if agency == r.agency or agency in r.names), None)
    if row is None:
        raise bad(f"no agency {agency!r} in the coverage matrix (not a site's agency nor found in any report)",
                  status)
    if year not in row.cells:
        years = sorted(row.cells)
        span = f"{years[0]}–{years[-1]}" if years else "no years"
        raise bad(f"{agency} has no {year} in the coverage matrix (its years: {span})", status)


# --- the registry of publishers (crawler/web/publishers.py) ------------------------------

PublisherId = Annotated[int, Path(ge=1, le=MAX_ID, description="A publisher id")]
PUBLISHER_ACTIONS = ("merge", "add_alias", "split_alias", "created", "abolished", "undo")


def form_id(form: dict, name: str) -> int:
    """A positive 64-bit id from a form field."""
    try:
        value = int((form.get(name) or "").strip())
    except ValueError:
        raise bad(f"{name} must be a number") from None
    if not 1 <= value <= MAX_ID:
        raise bad(f"{name} is out of range")
    return value


def publisher_action(form: dict, publisher_id: int) -> dict:
    """The keyword arguments of one archivist action on publisher_id, from its form; the
    catalogue method it is for under "action". Who and why are always needed: every action is
    recorded with them."""
    action = (form.get("action") or "").strip()
    if action not in PUBLISHER_ACTIONS:
        raise bad(f"action must be one of {', '.join(PUBLISHER_ACTIONS)}")
    out = {"action": action, "who": text(form, "who", max_len=WHO_MAX), "why": text(form, "why", max_len=WHY_MAX)}
    if action == "merge":           # this publisher goes into another
        out.update(source_id=publisher_id, into_id=form_id(form, "into"))
    elif action == "add_alias":
        out.update(publisher_id=publisher_id, alias=text(form, "alias", max_len=AGENCY_MAX),
                   site_id=text(form, "site", max_len=SITE_MAX, required=False) or None)
    elif action == "split_alias":
        out["alias_id"] = form_id(form, "alias_id")
        into = text(form, "into", max_len=AGENCY_MAX)
        out.update(into_id=int(into)) if into.isdigit() and 1 <= int(into) <= MAX_ID else out.update(into_name=into)
    elif action in ("created", "abolished"):
        out.update(publisher_id=publisher_id, event=action, year=year(form.get("year")))
    else:
        out["action_id"] = form_id(form, "action_id")
    return out
