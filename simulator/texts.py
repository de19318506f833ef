"""Report bodies, built from real reports (seeds/) with the agency and the year substituted."""
from __future__ import annotations

import functools
import re
from pathlib import Path

from .names import to_traditional

SEED_DIR = Path(__file__).with_name("seeds")

# Agencies named in the seed texts, longest first so a longer name wins over its suffix.
_SEED_AGENCIES = sorted([
    "苏州市太仓质量技术监督局", "湖州市質量技術監督局", "湖州市質量技監局", "温州市质量技术监督局",
    "太倉市人民政府", "市质监局", "区商务局", "太倉市", "太仓",
], key=len, reverse=True)
_AGENCY_RE = re.compile("|".join(map(re.escape, _SEED_AGENCIES)))
_YEAR_RE = re.compile(r"20[01]\d(?=\s*年)")


@functools.cache
def seeds() -> tuple[tuple[str, bool], ...]:
    """(text without its title lines, is traditional) for every seed, in file order."""
    out = []
    for path in sorted(SEED_DIR.glob("*.txt")):
        text = path.read_text(encoding="utf-8").replace("[bookmark: _GoBack]", "")
        lines = [ln.rstrip() for ln in text.strip().splitlines()]
        # The first one or two non-empty lines are the title; the body follows.
        body_start = 1
        if len(lines) > 1 and len(lines[1].strip()) < 40 and "年" in lines[1] and "报告" in lines[1]:
            body_start = 2
        body = "\n".join(ln for ln in lines[body_start:])
        out.append((body.strip(), any(c in text for c in "開報務")))
    return tuple(out)


def report_body(*, seed_index: int, agency: str, year: int, traditional: bool, revision: int = 0) -> str:
    """The body of a report for this agency and year; revision > 0 changes a few words (a later edit)."""
    candidates = [s for s in seeds() if s[1] == traditional] or list(seeds())
    body, _ = candidates[seed_index % len(candidates)]
    name = to_traditional(agency) if traditional else agency
    seed_year = int(_YEAR_RE.search(body).group(0)) if _YEAR_RE.search(body) else year
    body = _YEAR_RE.sub(lambda m: str(year + int(m.group(0)) - seed_year), body)
    body = _AGENCY_RE.sub(name, body)
    if revision:
        note = "（本报告于发布后修订，更正了部分统计数据。）" if not traditional else "（本報告於發布後修訂，更正了部分統計數據。）"
        body = note + "\n" + body.replace("0", "1", revision)
    return body


def lookalike_body(*, title: str, agency: str, year: int) -> str:
    """A short text for a document that is not a report, in the same register."""
    return (
        f"{title}\n各有关单位：\n为贯彻落实《中华人民共和国政府信息公开条例》，{agency}现就{year}年相关工作安排如下。"
        "一、提高思想认识，加强组织领导。二、明确工作任务，按时报送材料。三、严格审核把关，确保内容准确。\n"
        f"{agency}\n{year + 1}年1月10日"
    )
