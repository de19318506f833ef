"""Can this machine's Chromium draw Chinese? Asked once, when the browser first starts.

An archived screenshot is permanent evidence: one drawn without a CJK font shows every Chinese
character as the same box. The probe draws two different characters (政, 府) and one unassigned
code point (U+0378, always the missing-glyph box) on canvases in the running browser, with the
fallback a report page gets (`sans-serif`): the two characters must leave ink, differ from each
other and from the box. `document.fonts.check()` cannot tell: for a system font it answers true
whether the font exists or not. Canvas text goes through the same font fallback as the page.

When the answer is no, `ScreenshotGate` (an item pipeline before the archive) drops the
screenshot of every rendered report page, with one warning line for the whole process; the
HTML the server sent and the rendered DOM are archived as always.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

log = logging.getLogger(__name__)

CJK_SAMPLE = ("政", "府")
TOFU_SAMPLE = "\u0378"            # unassigned: no font has it
PROBE_FONT = "40px sans-serif"   # what a report page falls back to (微软雅黑, 宋体 are not installed)
HINT = "install a CJK font (Debian: apt-get install fonts-noto-cjk; `make run` does it as root)"

_DRAW = """([texts, font]) => texts.map((text) => {
  const c = document.createElement('canvas'); c.width = 56; c.height = 56;
  const x = c.getContext('2d');
  x.fillStyle = '#fff'; x.fillRect(0, 0, 56, 56);
  x.fillStyle = '#000'; x.font = font; x.textBaseline = 'top'; x.fillText(text, 4, 4);
  const d = x.getImageData(0, 0, 56, 56).data; const ink = [];
  for (let i = 0; i < d.length; i += 4) if (d[i] < 128) ink.push(i / 4);
  return ink.join(',');
})"""


@dataclass(frozen=True)
class Verdict:
    readable: bool
    reason: str


def judge(cjk: list[str], tofu: str) -> Verdict:
    """From the ink of each CJK sample and of the tofu sample (pixel lists as strings)."""
    if not all(cjk):
        return Verdict(False, "Chinese characters leave no ink (no font at all)")
    if len(set(cjk)) < len(cjk):
        return Verdict(False, "different Chinese characters draw the same box (no CJK font)")
    if tofu in cjk:
        return Verdict(False, "Chinese characters draw as the missing-glyph box (no CJK font)")
    return Verdict(True, "Chinese characters draw as distinct glyphs")


async def probe(browser) -> Verdict:
    """Draw the samples in a fresh page of `browser` (a Playwright Browser)."""
    context = await browser.new_context()
    try:
        page = await context.new_page()
        await page.set_content("<!doctype html><meta charset=utf-8><body></body>")
        *cjk, tofu = await page.evaluate(_DRAW, [[*CJK_SAMPLE, TOFU_SAMPLE], PROBE_FONT])
        return judge(cjk, tofu)
    finally:
        await context.close()


# One answer per process: every crawler of a harvest shares the machine's fonts.
_verdict: Verdict | None = None


def verdict() -> Verdict | None:
    """The answer so far (None: no browser has started in this process)."""
    return _verdict


async def check_once(browser, stats=None) -> Verdict:
    """Probe on the first call of the process, then answer from memory. An unreadable verdict
    is logged once, as the single line a user needs."""
    global _verdict
    if browser is None and _verdict is None:
        return Verdict(True, "no browser to ask")
    if _verdict is None:
        try:
            found = await probe(browser)
        except Exception as exc:   # a probe that cannot run proves nothing: keep screenshots
            found = Verdict(True, f"probe failed ({type(exc).__name__}: {exc}); screenshots kept")
            log.info("font probe: %s", found.reason)
        if _verdict is None:
            _verdict = found
            if not found.readable:
                log.warning("fonts: Chromium cannot draw Chinese here (%s): screenshots are not archived "
                            "this run, the HTML and DOM are; %s", found.reason, HINT)
    if stats is not None:
        stats.set_value("nianbao/fonts/readable", _verdict.readable)
    return _verdict


class ScreenshotGate:
    """Item pipeline before the archive: no screenshot is archived once the probe has said that
    Chromium draws Chinese as boxes (`nianbao/screenshots_refused` counts them)."""

    def __init__(self, stats):
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.stats)

    def process_item(self, item, spider=None):
        derived = getattr(item, "derived", None)
        if derived and "screenshot" in derived and _verdict is not None and not _verdict.readable:
            derived.pop("screenshot")
            self.stats.inc_value("nianbao/screenshots_refused")
        return item
