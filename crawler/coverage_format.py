"""Coverage as a terminal table, CSV, JSON or Markdown."""
from __future__ import annotations

import csv
import io
import json

from rich.table import Table

from crawler.coverage import STATES, Coverage

SYMBOL = {"found": "●", "changed": "◐", "incomplete": "◔", "removed": "✕", "missing": "·", "unreachable": "?",
          "not_yet_due": " ", "not_applicable": "–"}
COLOUR = {"found": "green", "changed": "cyan", "incomplete": "yellow", "removed": "magenta", "missing": "red",
          "unreachable": "yellow", "not_yet_due": "dim", "not_applicable": "dim"}


def rich_table(cov: Coverage) -> Table:
    table = Table(title="Coverage (● found ◐ changed ✕ removed · missing ? unreachable – n/a)")
    table.add_column("site")
    table.add_column("agency")
    for y in cov.years:
        table.add_column(str(y)[2:], justify="center")
    table.add_column("found")
    table.add_column("missing")
    for row in cov.rows:
        cells = []
        for y in cov.years:
            state = row.cells.get(y)
            cells.append(f"[{COLOUR[state]}]{SYMBOL[state]}[/]" if state else "")
        table.add_row(row.site_id, row.agency, *cells,
                      str(row.count("found") + row.count("changed")), str(row.count("missing")))
    return table


def records(cov: Coverage) -> list[dict]:
    return [{"site_id": r.site_id, "agency": r.agency, "region": r.region, "year": y, "state": s}
            for r in cov.rows for y, s in sorted(r.cells.items())]


def as_json(cov: Coverage) -> str:
    return json.dumps({"years": cov.years, "totals": cov.totals(), "cells": records(cov),
                       "gaps": [dict(zip(("site_id", "agency", "year", "state"), g)) for g in cov.gaps()]},
                      ensure_ascii=False, indent=2)


def as_csv(cov: Coverage) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["site_id", "agency", "region", *cov.years])
    for r in cov.rows:
        writer.writerow([r.site_id, r.agency, r.region or "", *(r.cells.get(y, "") for y in cov.years)])
    return buf.getvalue()


def as_markdown(cov: Coverage) -> str:
    lines = ["| site | agency | " + " | ".join(str(y) for y in cov.years) + " |",
             "|---|---|" + "---|" * len(cov.years)]
    for r in cov.rows:
        lines.append(f"| {r.site_id} | {r.agency} | " +
                     " | ".join(SYMBOL.get(r.cells.get(y, ""), "") for y in cov.years) + " |")
    totals = cov.totals()
    lines.append("")
    lines.append("Totals: " + ", ".join(f"{s} {totals[s]}" for s in STATES))
    gaps = cov.gaps()
    if gaps:
        lines.append("")
        lines.append("Gaps:")
        lines.extend(f"- {site} {agency} {year}: {state}" for site, agency, year, state in gaps)
    return "\n".join(lines) + "\n"
