"""Coverage as a terminal table, CSV, JSON or Markdown: one row per publisher, by region, with
the seeded governments that have no site listed as such."""
from __future__ import annotations

import csv
import io
import json

from rich.table import Table

from crawler.coverage import NO_SITE, STATES, Coverage

SYMBOL = {"found": "●", "changed": "◐", "incomplete": "◔", "removed": "✕", "missing": "·", "unreachable": "?",
          "not_yet_due": " ", "not_applicable": "–"}
COLOUR = {"found": "green", "changed": "cyan", "incomplete": "yellow", "removed": "magenta", "missing": "red",
          "unreachable": "yellow", "not_yet_due": "dim", "not_applicable": "dim"}


def rich_table(cov: Coverage) -> Table:
    table = Table(title="Coverage (● found ◐ changed ✕ removed · missing ? unreachable – n/a)")
    table.add_column("site")
    table.add_column("agency")
    table.add_column("region")
    for y in cov.years:
        table.add_column(str(y)[2:], justify="center")
    table.add_column("found")
    table.add_column("missing")
    for row in cov.rows:
        cells = []
        for y in cov.years:
            state = row.cells.get(y)
            cells.append(f"[{COLOUR[state]}]{SYMBOL[state]}[/]" if state else "")
        table.add_row(",".join(row.sites) or row.site_id, row.agency, row.region_code or "", *cells,
                      str(row.count("found") + row.count("changed")), str(row.count("missing")))
    for row in cov.no_site:
        table.add_row(f"[red]{NO_SITE}[/]", row.agency, row.region_code or "", *([""] * len(cov.years)), "", "")
    return table


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
                     " | ".join(SYMBOL.get(r.cells.get(y, ""), "") for y in cov.years) + " |")
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
