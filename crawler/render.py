"""When does a page need a browser? Decisions only; Scrapy wiring is in crawler.rendering.

Two reasons, both seen on real portals:
- an anti-bot layer answers with a JavaScript challenge (瑞数 412, 加速乐 521, or a 200/403
  carrying a cookie-setting script): only a browser computes the cookie;
- the page is drawn by script from data a CMS adapter cannot reach (empty list container).

Decisions are remembered per site and page shape, so the next list page of the same kind goes
straight to the browser while plain pages never do.
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

CHALLENGE_STATUSES = frozenset({412, 521})
# Cookie names set by the common Chinese anti-bot layers (加速乐, 瑞数, 创宇盾, 安恒).
ANTIBOT_COOKIE_PREFIXES = ("__jsl_clearance", "__jsluid", "jsl_", "FSSBBIl1UgzbN7N", "HMF_CI", "HBB_HC",
                           "_yd_", "yd_cookie", "__tst_status", "waf_")
_COOKIE_SCRIPT = re.compile(rb"document\.cookie|\.cookie\s*=|location\.(reload|replace|href)", re.I)
_SCRIPT = re.compile(rb"<script", re.I)


def set_cookie_names(headers: dict[str, str] | list[tuple[str, str]]) -> list[str]:
    items = headers.items() if isinstance(headers, dict) else headers
    names = []
    for key, value in items:
        if key.lower() == "set-cookie":
            for part in value.split("\n"):
                names.append(part.split("=", 1)[0].strip())
    return names


def challenge_kind(status: int, headers: dict[str, str] | list[tuple[str, str]], body: bytes) -> str | None:
    """"js-412" / "js-521" / "js-cookie" when the answer is a script challenge, else None."""
    head = body[:65536]
    scripted = bool(_SCRIPT.search(head))
    if status in CHALLENGE_STATUSES and scripted:
        return f"js-{status}"
    antibot = any(n.startswith(ANTIBOT_COOKIE_PREFIXES) for n in set_cookie_names(headers))
    if antibot and scripted and len(body) < 32768 and _COOKIE_SCRIPT.search(head):
        return "js-cookie"
    return None


_DIGITS = re.compile(r"\d+")


def page_shape(url: str) -> str:
    """A URL's kind: host and path with numbers generalised (/col/col12/index_3.html -> /col/colN/index_N.html)."""
    parts = urlsplit(url)
    path = _DIGITS.sub("N", parts.path or "/")
    return f"{parts.hostname}{path}"


class RenderMemory:
    """Per-site memory of which page shapes needed a browser and which hosts challenged."""

    def __init__(self):
        self._shapes: set[str] = set()
        self.challenged_hosts: set[str] = set()

    def needs_browser(self, url: str) -> bool:
        return page_shape(url) in self._shapes

    def remember(self, url: str) -> None:
        self._shapes.add(page_shape(url))

    def __len__(self) -> int:
        return len(self._shapes)


def should_render(mode: str, *, is_file: bool, remembered: bool) -> bool:
    """Render a request up front? Files never; `always` every page; `auto` what was learnt."""
    if is_file or mode == "never":
        return False
    return mode == "always" or remembered


def looks_like_challenge(html: str) -> bool:
    """A rendered DOM still showing a challenge: small, cookie-setting script, next to no links."""
    if len(html) > 32768:
        return False
    raw = html.encode("utf-8", "replace")
    return bool(_COOKIE_SCRIPT.search(raw)) and raw.lower().count(b"<a ") < 3
