"""Draw bench/results.json as an SVG: one row per figure, its bar against its target's mark.
`python -m bench.plot [OUT.svg]` (default docs/benchmarks.svg). Plain SVG, no plotting library."""
from __future__ import annotations

import json
import sys
from html import escape
from pathlib import Path

from bench.__main__ import RESULTS

DOCS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.svg"
WIDTH, ROW, LEFT, BAR = 760, 46, 300, 380


def rows(results: dict) -> list[tuple[str, float, float | None, str]]:
    """(label, value, target, which side of the target is good: 'high' or 'low')."""
    out = []
    if t := results.get("throughput"):
        out.append(("throughput: full / bare spider", t["ratio"], 0.85, "high"))
        out.append(("throughput: spider alone / bare", t["spider_only_ratio"], 0.85, "high"))
    if f := results.get("focus"):
        out.append(("fetches per report: nianbao / wget", f["ratio"], 0.2, "low"))
        if "search_overhead_ratio" in f:
            out.append(("fetches above the floor: nianbao / wget", f["search_overhead_ratio"], 0.2, "low"))
        out.append(("recall: nianbao", f["nianbao_recall"], 1.0, "high"))
        out.append(("recall: wget --mirror", f["wget_recall"], 1.0, "high"))
    if f := results.get("focus_busy"):
        out.append(("fetches per report, busy portals / wget", f["ratio"], 0.2, "low"))
        out.append(("recall, busy portals: nianbao", f["nianbao_recall"], 1.0, "high"))
    if r := results.get("recrawl"):
        out.append(("recrawl bytes / first crawl", r["bytes_ratio"], 0.10, "low"))
        out.append(("recrawl time / first crawl", r["time_ratio"], 0.25, "low"))
    if r := results.get("recrawl_polite"):
        out.append(("recrawl time / first, 1 s politeness", r["time_ratio"], 0.25, "low"))
    if m := results.get("memory"):
        out.append(("peak RSS, 100k frontier / 300 MB", m["ratio"], 1.0, "low"))
    if b := results.get("browser"):
        out.append(("rendered / all pages", round(b["rendered"] / max(1, b["pages"]), 3), None, "low"))
    return out


def svg(results: dict) -> str:
    data = rows(results)
    height = 60 + ROW * len(data)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" font-family="sans-serif" font-size="13">',
             f'<rect width="{WIDTH}" height="{height}" fill="white"/>',
             '<text x="10" y="24" font-size="15" font-weight="bold">nianbao benchmarks: ratios measured in one run</text>',
             '<text x="10" y="42" fill="#555">bar: measured; black mark: target (green bar meets it, red does not, grey has none)</text>']
    for i, (label, value, target, good) in enumerate(data):
        y = 60 + i * ROW
        scale = max(value, target or 0, 1.0) * 1.1
        w = BAR * value / scale
        ok = None if target is None else (value >= target if good == "high" else value <= target)
        colour = {None: "#999", True: "#3a3", False: "#c33"}[ok]
        parts.append(f'<text x="10" y="{y + 20}">{escape(label)}</text>')
        parts.append(f'<rect x="{LEFT}" y="{y + 6}" width="{w:.1f}" height="20" fill="{colour}"/>')
        parts.append(f'<text x="{LEFT + w + 6:.1f}" y="{y + 21}">{value:g}</text>')
        if target is not None:
            x = LEFT + BAR * target / scale
            parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y + 2}" y2="{y + 30}" stroke="black" stroke-width="2"/>')
            parts.append(f'<text x="{x + 3:.1f}" y="{y + 40}" font-size="10" fill="#333">target {target:g}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else DOCS
    out.write_text(svg(json.loads(RESULTS.read_text())), encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
