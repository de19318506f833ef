"""What the CMS adapters return: links on a page and the requests that continue its list."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Link:
    url: str            # absolute, resolved against <base href> / page URL, whitespace stripped
    text: str           # anchor text, else title attribute, whitespace-normalised
    date: str | None = None  # publication date printed beside it in a list (YYYY-MM-DD)
    # How a visitor reaches it: "a" a link to click, "frame" part of the page itself (frame, iframe,
    # meta refresh, a script redirect), "option" a choice of a navigating <select>, "call" a click
    # handler calling a page function (url empty until crawler.cms.jscalls reads the function).
    via: str = "a"
    code: str | None = None  # the handler's code, for via="call"


@dataclass(frozen=True)
class Follow:
    url: str
    method: str = "GET"
    formdata: dict[str, str] | None = None  # for POST
    kind: str = "list"  # "list": another page of the same list; "api": a JSON/XML endpoint feeding the page
    headers: dict[str, str] | None = None
    # Identity for "already asked": a post-back is the same request whatever view state rides on it.
    key: str | None = None
    text: str = ""      # what the visitor clicked (a pager number, a picker option)

    def __hash__(self) -> int:  # dict fields are unhashable; identity is the request itself
        return hash((self.url, self.method, tuple(sorted((self.formdata or {}).items()))))


@dataclass
class Extracted:
    family: str | None
    links: list[Link] = field(default_factory=list)
    pages: list[Follow] = field(default_factory=list)
    script_built: bool = False
    script_hint: str = ""        # "article_shell" | "list_shell" | "" (crawler.cms.generic says which)
    empty_box: bool = False      # an element named by id or class with nothing in it (generic.empty_box)
    title: str = ""
    heading: str = ""
    breadcrumb: str = ""
    publisher: str | None = None
    links_capped: bool = False   # the page had more links than are read from one page
    text: str = ""               # the visible body text (scripts and styles left out), capped
    scripts: list[str] = field(default_factory=list)  # linked scripts (src), absolute
    inline_js: str = ""          # inline scripts, capped: where page functions are defined
    encoding: str | None = None  # the page's own encoding, for URLs built later (handlers)
    base: str | None = None      # <base href> when the page has one
    script_count: int = 0        # <script> elements, linked or inline
    forms: list[dict] = field(default_factory=list)  # forms as handlers see them (crawler.cms.forms.describe)


def dedupe_links(links: list[Link]) -> list[Link]:
    """One Link per URL, in first-seen order, keeping the most informative text and date."""
    seen: dict[str, Link] = {}
    calls: list[Link] = []
    for link in links:
        if link.via == "call":
            calls.append(link)
            continue
        old = seen.get(link.url)
        if old is None:
            seen[link.url] = link
        elif (not old.text and link.text) or (not old.date and link.date) or (link.via == "frame" != old.via):
            # A frame stays a frame whichever way it was seen first: it is part of the page.
            via = "frame" if "frame" in (old.via, link.via) else old.via
            seen[link.url] = Link(link.url, old.text or link.text, old.date or link.date, via, old.code)
    unique_calls = list({(c.code, c.text): c for c in calls}.values())
    return list(seen.values()) + unique_calls


def dedupe_follows(follows: list[Follow]) -> list[Follow]:
    seen: dict[tuple, Follow] = {}
    for f in follows:
        seen.setdefault(f.key or (f.url, f.method, tuple(sorted((f.formdata or {}).items()))), f)
    return list(seen.values())
