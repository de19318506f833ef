"""Recrawls that read only what may have changed: a list's known tail is read from the archive.

Portals list reports newest first, ten or twenty a page, and most servers of JSP/ASP portals send
neither ETag nor Last-Modified, while their pages carry a clock and a visit counter: without
validators every list was read to its last page on every run, and every page looked changed.
What matters in a list is its items (links, titles, dates), not its bytes. So on a recrawl:

- a list is always read from its first page (new reports appear there);
- once a page of it holds only items the archive knows (every report link, every file link on it
  was archived before), its further pages are not fetched while they were read within
  `revisit.list_tail_days` (7 by default): their items are taken from the pages' archived
  analyses instead (what they listed when last read), so the reports they list still count as
  listed, and nothing is judged removed from a page nobody looked at;
- an archived page stands for its page only while every item it listed is archived too: a run
  cut short after reading a deep page but before fetching what it lists (Ctrl-C, a kill, a budget)
  left items that only a fetch of that page leads to again, so that page is fetched. A skip never
  hides a hole;
- a further page read longer ago than that is fetched like any page, and the walk goes on from
  it: a report added deep in a list (a back-dated upload) is found on the first run that comes
  `list_tail_days` or more after the deep page was last read. `list_tail_days: 0` or
  `--revisit-all` reads whole lists on every run.

The spider asks `may_skip(page_url)` for each further page and `archived_tail(url)` for what it
listed; the run's stats say what was not fetched and why (`nianbao/recrawl/*`).
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from crawler import analyses

log = logging.getLogger(__name__)


class ListTails:
    """What the archive knows of a site's lists, for one run (built by the conditional middleware)."""

    def __init__(self, states: dict, store, *, tail_days: float, now: datetime, revisit_all: bool = False):
        self.states = states                # url -> (UrlState, Blob | None)
        self.store = store
        self.tail_days = tail_days
        self.now = now
        self.enabled = tail_days > 0 and not revisit_all and bool(states)

    def known(self, url: str) -> bool:
        """The archive holds bytes fetched from this URL (a report page, a file, a list)."""
        entry = self.states.get(url)
        return entry is not None and entry[1] is not None

    def only_known(self, urls: list[str]) -> bool:
        """A page whose items are all known: nothing new is listed on it (at least one item)."""
        return bool(urls) and all(self.known(u) for u in urls)

    def may_skip(self, url: str) -> bool:
        """A further page of a list, read recently enough that its archived copy stands for it."""
        if not self.enabled:
            return False
        entry = self.states.get(url)
        if entry is None or entry[1] is None:
            return False
        state, _blob = entry
        if state.last_status != 200 or state.missing_since is not None or state.last_fetched is None:
            return False
        return self.now - state.last_fetched < timedelta(days=self.tail_days)

    def archived_tail(self, url: str, *, limit: int, items=None) -> tuple[set[str], set[str], list[str]]:
        """What the list listed from `url` on, from the archived analyses of its pages, following
        their own pagers while each page may be skipped: (every link listed, the pages read from
        the archive, pages to fetch after all: due, no analysis kept, or listing an item the
        archive lacks). `items(page)` names a page's items (the spider's own rule)."""
        links: set[str] = set()
        seen: set[str] = set()
        fetch: list[str] = []
        todo = [url]
        while todo and len(seen) + len(fetch) < limit:
            current = todo.pop()
            if current in seen or current in fetch:
                continue
            page = self._analysis(current) if self.may_skip(current) else None
            if page is None or (items is not None and not all(self.known(u) for u in items(page))):
                fetch.append(current)
                continue
            seen.add(current)
            links.update(ln.url for ln in page.links)
            todo += [f.url for f in page.pages if f.method == "GET" and f.kind != "api" and f.url not in seen]
        return links, seen, fetch

    def _analysis(self, url: str):
        entry = self.states.get(url)
        if entry is None or entry[1] is None or self.store is None:
            return None
        blob = entry[1]
        try:
            return analyses.loads(self.store.get(analyses.analysis_key(blob.sha256, url, blob.content_type)))
        except Exception as exc:       # not kept (an older release's analysis, a lost cache): fetch it
            log.debug("no archived analysis of %s: %s", url, exc)
            return None
