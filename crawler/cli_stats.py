"""`nianbao stats`: the statistics of archived reports (issue 19).

extract reads every archived report file not yet read by the installed extractor version
(crawler/statsrun.py, figures/); export writes one row per report and cell with its publisher,
provenance and check results; summary says how many reports were read and what share of those
from 2019 on pass every check. Exit codes as crawler/cli.py: 0 done, 1 the catalogue or store
could not be opened, 2 a bad argument (one line, no traceback).
"""
from __future__ import annotations

import csv
import json
import os
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from crawler.cli_web import EXIT_USAGE, CatalogueOpt, StoreOpt, _open_catalogue, _open_store

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

app = typer.Typer(no_args_is_help=True, help="Statistics read out of archived reports: extract, export.")
FORMATS = ("csv", "jsonl", "parquet")
# The export's columns, in order (storage/figures.py figure_rows).
COLUMNS = ("publisher", "publisher_id", "region_code", "printed_agency", "year", "site_id", "report_id",
           "report_url", "file_url", "table", "row", "column", "cell", "value", "unit", "printed", "page", "path",
           "source", "evidence", "capture_id", "sha256", "extractor_version", "primary", "status", "cell_checks",
           "cell_failed_checks", "report_failed_checks")


def _usage(message: str) -> None:
    err.print(message, highlight=False)
    raise typer.Exit(EXIT_USAGE)


def _since(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        day = datetime.strptime(value, "%Y-%m-%d")
    except ValueError:
        _usage(f"--since: {value!r} is not a date like 2026-04-01")
    return day.replace(tzinfo=timezone.utc)


def _known_site(cat, site: str | None) -> None:
    if site is not None and site not in {s.id for s in cat.sites()}:
        _usage(f"--site: no site {site!r} in the catalogue")


@app.command("extract")
def extract(
    all_: bool = typer.Option(False, "--all", help="Read every file again, whatever version read it"),
    since: Optional[str] = typer.Option(None, "--since", help="Only files first archived on or after YYYY-MM-DD"),
    site: Optional[str] = typer.Option(None, "--site", help="One site id"),
    jobs: int = typer.Option(1, "--jobs", "-j", help="Processes reading files at once (reading is CPU)"),
    fmt: str = typer.Option("text", "--format", help="text | json"),
    catalogue: Optional[str] = CatalogueOpt,
    store: Optional[str] = StoreOpt,
):
    """Read the tables (and, before 2019, the stated figures) of archived report files. Idempotent:
    what this extractor version has read is not read again."""
    from crawler import statsrun

    if fmt not in ("text", "json"):
        _usage(f"--format: {fmt!r} is not text or json")
    if not 1 <= jobs <= 64:
        _usage(f"--jobs: {jobs} is not between 1 and 64")
    day = _since(since)
    cat = _open_catalogue(catalogue)
    _known_site(cat, site)
    version, _ = statsrun.extractor()
    stats = statsrun.extract_archive(cat, _open_store(store), since=day, all=all_, site_id=site, jobs=jobs)
    if fmt == "json":
        print(json.dumps({"extractor_version": version, **stats.as_dict()}, ensure_ascii=False))
        return
    out.print(f"extractor {version}: {stats.read} files read: {stats.extracted} extracted, "
              f"{stats.unchanged} unchanged, {stats.failed_checks} with failed checks, "
              f"{stats.no_tables} with no tables, {stats.errors} errors, {stats.missing} with bytes missing",
              highlight=False)


@app.command("export")
def export(
    fmt: str = typer.Option("csv", "--format", help="csv | jsonl | parquet"),
    output: Optional[Path] = typer.Option(None, "--out", "-o", help="File to write (default stdout; parquet needs one)"),
    year: Optional[int] = typer.Option(None, "--year", help="Reports of this year"),
    region: Optional[str] = typer.Option(None, "--region", help="Region code (320000: Jiangsu and all in it) or name"),
    site: Optional[str] = typer.Option(None, "--site", help="One site id"),
    every_file: bool = typer.Option(False, "--every-file", help="Every file read of each report, not only its "
                                    "primary reading (the page and its PDF: both; column primary tells)"),
    catalogue: Optional[str] = CatalogueOpt,
):
    """One row per report and cell: publisher, region code, year, the cell as printed, where it was
    read (capture, sha256, page or element path, extractor version) and its checks."""
    if fmt not in FORMATS:
        _usage(f"--format: {fmt!r} is not one of {', '.join(FORMATS)}")
    if year is not None and not 1990 <= year <= 2100:
        _usage(f"--year: {year} is not a report year (1990-2100)")
    if fmt == "parquet" and output is None:
        _usage("--format parquet writes a file: give --out FILE")
    cat = _open_catalogue(catalogue)
    _known_site(cat, site)
    rows = [{k: r.get(k) for k in COLUMNS} for r in cat.figure_rows(year=year, region=region, site_id=site,
                                                                        every_file=every_file)]
    try:
        if fmt == "parquet":
            _parquet(rows, output)
        else:
            fh = open(output, "w", encoding="utf-8", newline="") if output else sys.stdout
            try:
                if fmt == "jsonl":
                    for row in rows:
                        fh.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
                else:
                    writer = csv.DictWriter(fh, fieldnames=list(COLUMNS))
                    writer.writeheader()
                    writer.writerows(rows)
            finally:
                if output:
                    fh.close()
    except BrokenPipeError:
        # `nianbao stats export | head`: the reader has what it wanted.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(0) from None
    except OSError as exc:
        _usage(f"--out: {exc}")
    if output:
        err.print(f"wrote {len(rows)} rows to {output}", highlight=False)


@app.command("summary")
def summary(fmt: str = typer.Option("text", "--format", help="text | json"),
            site: Optional[str] = typer.Option(None, "--site", help="One site id (default: all)"),
            catalogue: Optional[str] = CatalogueOpt):
    """What the archive's statistics say about themselves: reports read, by status, and the share of
    2019+ reports with tables whose tables pass every check."""
    if fmt not in ("text", "json"):
        _usage(f"--format: {fmt!r} is not text or json")
    cat = _open_catalogue(catalogue)
    _known_site(cat, site)
    wanted = {r.id for r in cat.reports(site_id=site)} if site else None
    summaries = {rid: s for rid, s in cat.figure_summaries().items() if wanted is None or rid in wanted}
    years = cat.figure_report_years()
    by_status: dict[str, int] = {}
    for s in summaries.values():
        by_status[s["status"]] = by_status.get(s["status"], 0) + 1
    tabled = [rid for rid, s in summaries.items() if (years.get(rid) or 0) >= 2019 and s["status"] in ("ok", "failed_checks")]
    passing = sum(1 for rid in tabled if summaries[rid]["status"] == "ok")
    since_2019 = sum(1 for rid in summaries if (years.get(rid) or 0) >= 2019)
    got = {"reports_read": len(summaries), "by_status": by_status, "reports_2019_read": since_2019,
           "reports_2019_with_tables": len(tabled),
           "passing_every_check": passing, "share_passing": round(passing / len(tabled), 4) if tabled else None}
    if fmt == "json":
        print(json.dumps(got, ensure_ascii=False))
        return
    statuses = ", ".join(f"{k} {v}" for k, v in sorted(by_status.items())) or "none"
    share = f"{got['share_passing']:.1%}" if tabled else "-"
    out.print(f"{len(summaries)} reports read ({statuses}); {since_2019} from 2019 on, of which {len(tabled)} "
              f"with tables: "
              f"{passing} pass every check ({share})", highlight=False)


def _parquet(rows: list[dict], path: Path) -> None:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        _usage("--format parquet needs the pyarrow package (pip install pyarrow)")
    ints = {"publisher_id", "year", "report_id", "page", "capture_id", "cell_checks"}
    schema = pa.schema([(k, pa.int64() if k in ints else pa.float64() if k == "value"
                         else pa.bool_() if k == "primary" else pa.string())
                        for k in COLUMNS])
    columns = {k: [(None if r[k] is None else float(r[k])) if k == "value" else r[k] for r in rows] for k in COLUMNS}
    pq.write_table(pa.table(columns, schema=schema), str(path))


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="stats")
