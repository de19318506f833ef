"""Coverage as a terminal table, CSV, JSON or Markdown: one row per publisher, by region, with
the seeded governments that have no site listed as such."""
from __future__ import annotations

import csv
import io
import json

from crawler.coverage import NO_SITE, STATES, Coverage

SYMBOL = {"found": "●", "changed": "◐", "incomplete": "◔", "removed": "✕", "missing": "·", "unreachable": "?",
          "not_yet_due": "○", "not_applicable": "–"}
# The Markdown form keeps the symbols it always had (not yet due was a blank there): pasted
# tables in reports and issues must not change meaning under their readers.
MD_SYMBOL = {**SYMBOL, "not_yet_due": " "}
COLOUR = {"found": "green", "changed": "cyan", "incomplete": "yellow", "removed": "magenta", "missing": "red",
          "unreachable": "yellow", "not_yet_due": "dim", "not_applicable": "dim"}
# A year with no cell at all: before the first year the site (or publisher) is expected to report.
BLANK_LABEL = "not expected (before the site's first year)"


def legend_items() -> list[tuple[str, str]]:
    """(symbol, meaning) for every cell state, blank included, in the order of STATES."""
    from crawler.heatmap import STATE_LABELS

    return [(SYMBOL[s], STATE_LABELS[s]) for s in STATES] + [("blank", BLANK_LABEL)]


def _wrap(text: str, width: int) -> list[str]:
    """Lines of at most `width` terminal cells: at spaces where a word fits, else anywhere (Chinese
    names have no spaces, and a name must never vanish behind an ellipsis)."""
    from rich.cells import cell_len

    width = max(width, 2)
    lines, line = [], ""
    for word in text.split(" "):
        candidate = f"{line} {word}" if line else word
        if cell_len(candidate) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
            line = ""
        for ch in word:
            if cell_len(line + ch) > width:
                lines.append(line)
                line = ""
            line += ch
    if line or not lines:
        lines.append(line)
    return lines


def _pad(text: str, width: int) -> str:
    from rich.cells import cell_len

    return text + " " * max(0, width - cell_len(text))


class CoverageTable:
    """The matrix laid out for the console it is printed on: 80 columns and up, a terminal or a
    log file. Names wrap (never cut), each year keeps a column with its two-digit label ('19, or
    staggered over two header lines when columns are tight), a legend names every state."""

    def __init__(self, cov: Coverage, *, width: int | None = None):
        self.cov, self.width = cov, width

    def __rich_console__(self, console, options):
        yield from self.lines(self.width or options.max_width)

    def layout(self, width: int) -> tuple[int, int]:
        """(cells per year, cells for the name column)."""
        years = len(self.cov.years)
        right = len(" found miss")
        for cw in (3, 2):
            name_w = width - years * cw - right - 1
            if name_w >= 24 or cw == 2:
                return cw, max(name_w, 12)
        raise AssertionError

    def header(self, cw: int) -> list[str]:
        labels = [str(y)[2:] for y in self.cov.years]
        if cw == 3:
            return ["".join(f"'{lab}" for lab in labels)]
        # Two cells a year: "08" over the even years' columns on one line, the odd on the next.
        top = "  ".join(labels[0::2])
        bottom = "".join("  " + lab for lab in labels[1::2])
        return [top, bottom] if bottom else [top]

    def lines(self, width: int):
        from rich.text import Text

        cov = self.cov
        cw, name_w = self.layout(width)
        span = f"{cov.years[0]}–{cov.years[-1]}" if cov.years else "no years"
        yield Text(f"Coverage {span}: {len(cov.rows)} publisher(s)"
                   + (f", {len(cov.no_site)} government(s) with no site" if cov.no_site else ""), style="bold")
        heads = self.header(cw)
        for i, head in enumerate(heads):
            tail = " found miss" if i == len(heads) - 1 else ""
            yield Text(_pad("agency (site)" if i == len(heads) - 1 else "", name_w) + " "
                       + _pad(head, len(cov.years) * cw) + tail, no_wrap=True)
        rows = [(r, f"{r.agency} ({','.join(r.sites) or r.site_id})") for r in cov.rows]
        rows += [(r, f"{r.agency} ({NO_SITE})") for r in cov.no_site]
        for row, name in rows:
            first = _wrap(name, name_w)[0]
            rest = name[len(first):].strip()
            names = [first] + (_wrap(rest, name_w - 2) if rest else [])
            line = Text(_pad(names[0], name_w) + " ", no_wrap=True)
            for y in cov.years:
                state = row.cells.get(y)
                sym = SYMBOL[state] if state else " "
                line.append(sym + " " if cw == 2 else f" {sym} ", style=COLOUR[state] if state else None)
            if row.site_id is not None:
                line.append(f" {row.count('found') + row.count('changed'):>5} {row.count('missing'):>4}")
            yield line
            for more in names[1:]:
                yield Text("  " + more, no_wrap=True)
        yield from legend_lines(width)


def legend_lines(width: int):
    """The legend, wrapped to `width`: every state's symbol and meaning, blank included."""
    from rich.text import Text

    parts = [f"{sym} {label}" if sym != "blank" else f"(blank) {label}" for sym, label in legend_items()]
    line = "legend:"
    for part in parts:
        if len(line) + 2 + len(part) > width and line.strip() != "legend:":
            yield Text(line, no_wrap=True)
            line = "       "
        line += (" " if line.strip() in ("legend:", "") else "  ") + part
    yield Text(line, no_wrap=True)


def rich_table(cov: Coverage, *, width: int | None = None) -> CoverageTable:
    """The coverage matrix for a console (the CLI and the demo print it)."""
    return CoverageTable(cov, width=width)


def publisher_fields(row) -> dict:
    return {"publisher_id": row.publisher_id, "region_code": row.region_code,
            "publisher_kind": row.publisher_kind, "sites": list(row.sites)}


def records(cov: Coverage) -> list[dict]:
    return [{"site_id": r.site_id, "agency": r.agency, "region": r.region, "year": y, "state": s,
             **publisher_fields(r)}
            for r in cov.rows for y, s in sorted(r.cells.items())]


def no_site_records(cov: Coverage) -> list[dict]:
    return [{"agency": r.agency, "state": NO_SITE, **publisher_fields(r)} for r in cov.no_site]


def group_records(cov: Coverage) -> list[dict]:
    return [{"level": g.level, "code": g.code, "name": g.name, "publishers": g.rows, "no_site": g.no_site,
             "totals": g.totals} for g in cov.groups()]


def as_dict(cov: Coverage) -> dict:
    return {"years": cov.years, "totals": cov.totals(), "cells": records(cov), "no_site": no_site_records(cov),
            "groups": group_records(cov),
            "gaps": [dict(zip(("site_id", "agency", "year", "state"), g)) for g in cov.gaps()]}


def as_json(cov: Coverage) -> str:
    return json.dumps(as_dict(cov), ensure_ascii=False, indent=2)


def as_csv(cov: Coverage) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["site_id", "agency", "region", "publisher_id", "region_code", *cov.years])
    for r in cov.rows:
        writer.writerow([r.site_id, r.agency, r.region or "", r.publisher_id or "", r.region_code or "",
                         *(r.cells.get(y, "") for y in cov.years)])
    for r in cov.no_site:
        writer.writerow([NO_SITE, r.agency, "", r.publisher_id or "", r.region_code or "", *([""] * len(cov.years))])
    return buf.getvalue()


def level_lines(cov: Coverage) -> list[str]:
    """One line per province, prefecture and county: publishers with a row, governments with no
    site, and the found / missing cells under it."""
    lines = []
    for g in cov.groups():
        indent = "  " * ("province", "prefecture", "county").index(g.level)
        lines.append(f"{indent}{g.level} {g.code} {g.name}: {g.rows} publisher(s), {g.no_site} no site, "
                     f"found {g.totals['found'] + g.totals['changed']}, missing {g.totals['missing']}")
    return lines


def as_markdown(cov: Coverage) -> str:
    lines = ["| site | agency | " + " | ".join(str(y) for y in cov.years) + " |",
             "|---|---|" + "---|" * len(cov.years)]
    for r in cov.rows:
        lines.append(f"| {r.site_id} | {r.agency} | " +
                     " | ".join(MD_SYMBOL.get(r.cells.get(y, ""), "") for y in cov.years) + " |")
    for r in cov.no_site:
        lines.append(f"| {NO_SITE} | {r.agency} | " + " | ".join("" for _ in cov.years) + " |")
    totals = cov.totals()
    lines.append("")
    lines.append("Totals: " + ", ".join(f"{s} {totals[s]}" for s in STATES))
    if groups := level_lines(cov):
        lines.append("")
        lines.append("By region:")
        lines.extend(f"- {line.strip()}" for line in groups)
    gaps = cov.gaps()
    if gaps:
        lines.append("")
        lines.append("Gaps:")
        lines.extend(f"- {site} {agency} {year}: {state}" for site, agency, year, state in gaps)
    return "\n".join(lines) + "\n"
