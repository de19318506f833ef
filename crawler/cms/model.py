"""What the CMS adapters return: links on a page and the requests that continue its list."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Link:
    url: str            # absolute, resolved against <base href> / page URL, whitespace stripped
    text: str           # anchor text, else title attribute, whitespace-normalised
    date: str | None = None  # publication date printed beside it in a list (YYYY-MM-DD)


@dataclass(frozen=True)
class Follow:
    url: str
    method: str = "GET"
    formdata: dict[str, str] | None = None  # for POST
    kind: str = "list"  # "list": another page of the same list; "api": a JSON/XML endpoint feeding the page
    headers: dict[str, str] | None = None

    def __hash__(self) -> int:  # dict fields are unhashable; identity is the request itself
        return hash((self.url, self.method, tuple(sorted((self.formdata or {}).items()))))


@dataclass
class Extracted:
    family: str | None
    links: list[Link] = field(default_factory=list)
    pages: list[Follow] = field(default_factory=list)
    script_built: bool = False
    title: str = ""
    heading: str = ""
    breadcrumb: str = ""
    publisher: str | None = None
    links_capped: bool = False   # the page had more links than are read from one page
    text: str = ""               # the visible body text (scripts and styles left out), capped


def dedupe_links(links: list[Link]) -> list[Link]:
    """One Link per URL, in first-seen order, keeping the most informative text and date."""
    seen: dict[str, Link] = {}
    for link in links:
        old = seen.get(link.url)
        if old is None:
            seen[link.url] = link
        elif (not old.text and link.text) or (not old.date and link.date):
            seen[link.url] = Link(link.url, old.text or link.text, old.date or link.date)
    return list(seen.values())


def dedupe_follows(follows: list[Follow]) -> list[Follow]:
    seen: dict[tuple, Follow] = {}
    for f in follows:
        seen.setdefault((f.url, f.method, tuple(sorted((f.formdata or {}).items()))), f)
    return list(seen.values())
