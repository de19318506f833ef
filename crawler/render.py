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


# -- rendering only when the plain page falls short -------------------------------------
#
# A render costs the page's scripts, its XHR and a browser's time, and a portal sees a burst of
# requests: it is asked for only when the plain analysis falls short. The plain page is always
# fetched first (the browser is then handed that answer: crawler.browsergate), so what the
# browser adds can be measured against what the plain page had.
#
# - "starved": the plain page has next to nothing to read or follow while it loads scripts.
#   Rendered always: there is nothing to lose by asking and everything to lose by not.
# - "list_shell" / "article_shell": markup that suggests script draws the list or the body (an
#   empty list container beside XHR code, links bound by a client template, an empty article
#   box), while the plain page does have something. Sampled by page shape: the first pages of a
#   shape are rendered and compared with their plain analysis; the shape keeps being rendered
#   while the browser finds more, and is read plainly once SAMPLE renders in a row found nothing.
# - "always": the site asks for every page to be drawn (render: always); sampled likewise
#   would defeat the setting, so it is rendered.
SAMPLE = 2
TEXT_GAIN = 200          # characters of body text the browser must add to count as more

# -- a second look -------------------------------------------------------------------------
#
# A render is taken when the network goes quiet, within a bound. A page drawn in steps (the
# menu's XHR, then the article's), whose answers wait for the host's turn or for a loaded
# machine, can be taken before it has drawn what it was rendered for: the render then finds
# nothing more than the shell, and the page's reports are never seen. Yield is evidence: a render
# that found nothing more (or failed) is tried once more, waiting longer (crawler.rendering:
# patient settle). Bounded twice: SECOND_LOOKS per run, and a shape whose second looks found
# nothing SAMPLE times in a row gets no more of them (its pages really have nothing more).
SECOND_LOOKS = 30


class RenderSampler:
    """Per-site decisions by page shape, with their evidence, for the run's stats."""

    def __init__(self, sample: int = SAMPLE, second_looks: int | None = None):
        self.sample = sample
        self.second_looks_cap = SECOND_LOOKS if second_looks is None else second_looks
        self.second_looks_taken = 0
        self.shapes: dict[str, dict] = {}

    def _state(self, url: str, reason: str) -> dict:
        shape = page_shape(url)
        state = self.shapes.get(shape)
        if state is None:
            state = self.shapes[shape] = {"decision": "sampling", "reason": reason, "renders": 0,
                                          "found_more": 0, "fruitless_in_row": 0, "skipped": 0,
                                          "second_looks": 0, "second_fruitless_in_row": 0}
        return state

    def wants(self, url: str, reason: str) -> bool:
        """Render this page, whose plain analysis gave `reason` to think it falls short?"""
        state = self._state(url, reason)
        if reason in ("starved", "always") or state["decision"] != "plain":
            return True
        state["skipped"] += 1
        return False

    def judged(self, url: str, *, found_more: bool, reason: str) -> str:
        """A render compared with its plain analysis; returns the shape's decision now."""
        state = self._state(url, reason)
        state["renders"] += 1
        if found_more:
            state["found_more"] += 1
            state["fruitless_in_row"] = 0
            state["decision"] = "browser"
        else:
            state["fruitless_in_row"] += 1
            if state["fruitless_in_row"] >= self.sample and reason not in ("starved", "always"):
                state["decision"] = "plain"
        return state["decision"]

    def second_look(self, url: str, reason: str) -> bool:
        """A render of this page found nothing more, or failed: look again, waiting longer?"""
        state = self._state(url, reason)
        if self.second_looks_taken >= self.second_looks_cap:
            return False
        if state["second_fruitless_in_row"] >= self.sample:
            return False
        self.second_looks_taken += 1
        state["second_looks"] += 1
        return True

    def second_judged(self, url: str, *, found_more: bool, reason: str) -> str:
        """What a second look found; returns the shape's decision now. The shape keeps second
        looks while they find more. The page's first render was judged already, so a fruitless
        second look is not counted against the shape again; one that found more is a find."""
        state = self._state(url, reason)
        state["second_fruitless_in_row"] = 0 if found_more else state["second_fruitless_in_row"] + 1
        if found_more:
            return self.judged(url, found_more=True, reason=reason)
        return state["decision"]

    def summary(self) -> dict:
        return {shape: dict(state) for shape, state in sorted(self.shapes.items())}


def found_more(*, plain_urls: set[str], plain_text: int, rendered: list[tuple[str, str]], rendered_text: int,
               followable) -> list[str]:
    """What the browser found beyond the plain page: its new followable links (url, text), and
    more text. followable(url, text) says whether the crawl would follow or fetch a link."""
    evidence = [u for u, text in rendered if u not in plain_urls and followable(u, text)]
    if rendered_text - plain_text >= TEXT_GAIN:
        evidence.append(f"+{rendered_text - plain_text} characters of text")
    return evidence


def looks_like_challenge(html: str) -> bool:
    """A rendered DOM still showing a challenge: small, cookie-setting script, next to no links."""
    if len(html) > 32768:
        return False
    raw = html.encode("utf-8", "replace")
    return bool(_COOKIE_SCRIPT.search(raw)) and raw.lower().count(b"<a ") < 3
