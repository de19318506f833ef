"""A list's known tail (crawler/listtail.py), from a table: which further pages are read from the
archive and which must be fetched. The rule under test above all: a skipped page never hides an
item the archive lacks (a run cut short after reading a deep page, before fetching what it lists)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from crawler import analyses
from crawler.cms.model import Extracted, Follow, Link
from crawler.listtail import ListTails
from storage.objects import open_store

NOW = datetime(2026, 12, 1, 12, 0)
BASE = "http://www.x.gov.cn/xxgk/list"


@dataclass
class State:
    last_status: int = 200
    missing_since: datetime | None = None
    last_fetched: datetime | None = NOW - timedelta(days=1)


@dataclass
class Blob:
    sha256: str
    content_type: str = "text/html"


def _page(n: int, items: list[str], *, last: bool = False) -> Extracted:
    pages = [] if last else [Follow(f"{BASE}_{n + 1}.html")]
    return Extracted(family="generic", links=[Link(u, "报告") for u in items], pages=pages)


def _tails(tmp_path, pages: dict[str, Extracted], *, known_items: set[str], fetched: dict[str, datetime] | None = None,
           tail_days: float = 7):
    store = open_store(tmp_path.as_uri())
    states = {}
    for i, (url, page) in enumerate(pages.items()):
        blob = Blob(f"{i:064x}")
        store.put(analyses.analysis_key(blob.sha256, url, blob.content_type), analyses.dumps(page))
        states[url] = (State(last_fetched=(fetched or {}).get(url, NOW - timedelta(days=1))), blob)
    for u in known_items:
        states[u] = (State(), Blob("f" * 64))
    return ListTails(states, store, tail_days=tail_days, now=NOW)


def _items(page: Extracted) -> list[str]:
    return [ln.url for ln in page.links]


P2, P3 = f"{BASE}_2.html", f"{BASE}_3.html"
A, B, C = (f"http://www.x.gov.cn/art/{n}.html" for n in "abc")

# (case, items known to the archive, page 2 read how long ago, pages read from the archive, pages fetched)
CASES = [
    ("all known: whole tail from the archive", {A, B, C}, 1, {P2, P3}, []),
    ("page 2 lists an item never fetched: page 2 fetched", {B, C}, 1, set(), [P2]),
    ("page 3 lists an item never fetched: page 3 fetched", {A, B}, 1, {P2}, [P3]),
    ("page 2 read too long ago: fetched", {A, B, C}, 30, set(), [P2]),
]


@pytest.mark.parametrize("case,known,age,read,fetch", CASES, ids=[c[0] for c in CASES])
def test_archived_tail_reads_only_what_is_complete(tmp_path, case, known, age, read, fetch):
    pages = {P2: _page(2, [A, B]), P3: _page(3, [C], last=True)}
    tails = _tails(tmp_path, pages, known_items=known, fetched={P2: NOW - timedelta(days=age)})
    listed, got_read, got_fetch = tails.archived_tail(P2, limit=10, items=_items)
    assert got_read == read and got_fetch == fetch
    if P2 in read:
        assert {A, B} <= listed


def test_disabled_by_zero_days_or_revisit_all(tmp_path):
    pages = {P2: _page(2, [A], last=True)}
    assert not _tails(tmp_path, pages, known_items={A}, tail_days=0).may_skip(P2)
    tails = _tails(tmp_path, pages, known_items={A})
    assert tails.may_skip(P2)
    tails.enabled = False
    assert not tails.may_skip(P2)
