"""The coverage matrix as a standalone SVG heatmap (publishers down, by region; years across),
then the seeded governments with no site in the archive, by name.

Plain SVG text, no plotting library: it goes into reports and papers as is, and the web
UI inlines the same colours (STATE_COLOURS is the one place they are decided).
"""
from __future__ import annotations

from xml.sax.saxutils import escape

from crawler.coverage import STATES, Coverage

STATE_COLOURS = {
    "found": "#2e7d32", "changed": "#0288d1", "incomplete": "#ffb300", "removed": "#8e24aa", "missing": "#e53935",
    "unreachable": "#f9a825", "not_yet_due": "#eeeeee", "not_applicable": "#9e9e9e",
}
STATE_LABELS = {
    "found": "found", "changed": "changed since first seen", "incomplete": "found, a file not archived", "removed": "removed from portal",
    "missing": "missing", "unreachable": "site unreachable", "not_yet_due": "not yet due",
    "not_applicable": "not applicable",
}
CELL, GAP = 16, 2
NO_SITE_LISTED = 400     # beyond this many, the image says how many rather than naming them
FONT = "Noto Sans CJK SC, Source Han Sans SC, WenQuanYi Micro Hei, sans-serif"


def _label_width(labels: list[str]) -> int:
    # CJK glyphs are about one em wide, Latin about half; 11 px type.
    widest = max((sum(11 if ord(ch) > 0x2E80 else 6 for ch in s) for s in labels), default=60)
    return widest + 12


def svg(cov: Coverage, *, title: str = "政府信息公开工作年度报告 coverage", shade: dict | None = None,
        figure: str = "") -> str:
    """shade: (row index, year) -> (value, colour) of one figure (crawler/web/stats.py shaded_cells):
    those cells are drawn in the figure's colour, the others outlined in their state's."""
    labels = [f"{r.agency} ({r.site_id})" for r in cov.rows]
    no_site = cov.no_site[:NO_SITE_LISTED]
    no_site_lines = len(no_site) + (1 if cov.no_site else 0) + (1 if len(cov.no_site) > len(no_site) else 0)
    left = _label_width(labels + [f"{r.agency} ({r.region_code})" for r in no_site])
    top = 66   # room for the rotated year labels
    width = max(left + len(cov.years) * (CELL + GAP) + 70, 3 * 190)
    no_site_y = top + len(cov.rows) * (CELL + GAP) + 8
    legend_y = no_site_y + no_site_lines * (CELL + GAP) + 16
    height = legend_y + 20 * ((len(STATES) + 3) // 3) + 24
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="{FONT}" font-size="11">',
           f'<title>{escape(title)}</title>',
           f'<text x="4" y="16" font-size="14" font-weight="bold">{escape(title)}</text>']
    for j, year in enumerate(cov.years):
        x = left + j * (CELL + GAP) + CELL / 2
        out.append(f'<text x="{x}" y="{top - 4}" transform="rotate(-60 {x} {top - 4})">{year}</text>')
    out.append(f'<text x="{left + len(cov.years) * (CELL + GAP) + 4}" y="{top - 6}">found</text>')
    for i, (row, label) in enumerate(zip(cov.rows, labels)):
        y = top + i * (CELL + GAP)
        out.append(f'<text x="{left - 6}" y="{y + CELL - 4}" text-anchor="end">{escape(label)}</text>')
        for j, year in enumerate(cov.years):
            state = row.cells.get(year)
            if state is None:
                continue  # before the agency's first expected year: nothing was owed
            x = left + j * (CELL + GAP)
            got = shade.get((i, year)) if shade is not None else None
            if got is not None:
                out.append(f'<rect x="{x}" y="{y}" width="{CELL}" height="{CELL}" fill="{got[1]}" '
                           f'data-state="{state}" data-year="{year}" data-figure="{"" if got[0] is None else got[0]}">'
                           f'<title>{escape(row.agency)} {year}: {escape(figure)} = '
                           f'{"blank" if got[0] is None else got[0]}</title></rect>')
                continue
            fill = (f'fill="#fff" stroke="{STATE_COLOURS[state]}" stroke-width="2"' if shade is not None
                    else f'fill="{STATE_COLOURS[state]}"')
            out.append(f'<rect x="{x}" y="{y}" width="{CELL}" height="{CELL}" {fill} '
                       f'data-state="{state}" data-year="{year}">'
                       f'<title>{escape(row.agency)} {year}: {STATE_LABELS[state]}</title></rect>')
        owed = sum(1 for s in row.cells.values() if s not in ("not_yet_due", "not_applicable"))
        have = row.count("found") + row.count("changed")
        out.append(f'<text x="{left + len(cov.years) * (CELL + GAP) + 4}" y="{y + CELL - 4}">{have}/{owed}</text>')
    if cov.no_site:
        out.append(f'<text x="4" y="{no_site_y + CELL - 4}" font-weight="bold">'
                   f'no site in the archive: {len(cov.no_site)} government(s)</text>')
    for i, row in enumerate(no_site, start=1):
        y = no_site_y + i * (CELL + GAP)
        out.append(f'<text x="{left - 6}" y="{y + CELL - 4}" text-anchor="end" data-no-site="{row.publisher_id}">'
                   f'{escape(row.agency)} ({escape(row.region_code or "")})</text>')
        out.append(f'<text x="{left + 4}" y="{y + CELL - 4}" fill="#e53935">no site</text>')
    if len(cov.no_site) > len(no_site):
        y = no_site_y + (len(no_site) + 1) * (CELL + GAP)
        out.append(f'<text x="4" y="{y + CELL - 4}">and {len(cov.no_site) - len(no_site)} more '
                   f'(filter by region to see them)</text>')
    totals = cov.totals()
    for k, state in enumerate(STATES):
        x = 4 + (k % 3) * 190
        y = legend_y + (k // 3) * 20
        out.append(f'<rect x="{x}" y="{y}" width="{CELL}" height="{CELL}" fill="{STATE_COLOURS[state]}"/>')
        out.append(f'<text x="{x + CELL + 4}" y="{y + CELL - 4}">{STATE_LABELS[state]}: {totals[state]}</text>')
    k = len(STATES)     # no cell at all: before the first year a report is expected
    x, y = 4 + (k % 3) * 190, legend_y + (k // 3) * 20
    out.append(f'<rect x="{x}" y="{y}" width="{CELL}" height="{CELL}" fill="none" stroke="#bdbdbd" '
               f'data-legend="blank"/>')
    out.append(f'<text x="{x + CELL + 4}" y="{y + CELL - 4}">blank: not expected (before the first year)</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def write(cov: Coverage, path) -> None:
    """SVG, or PNG when the name ends in .png and cairosvg is installed."""
    text = svg(cov)
    name = str(path)
    if name.lower().endswith(".png"):
        try:
            import cairosvg
        except ImportError:
            raise RuntimeError("PNG output needs the cairosvg package; write .svg instead") from None
        cairosvg.svg2png(bytestring=text.encode("utf-8"), write_to=name)
        return
    with open(name, "w", encoding="utf-8") as fh:
        fh.write(text)
