"""The statistics read out of archived report files: which file was read by which extractor
version, what it concluded (checks, problems, status), and the figures, cell by cell.

The reading is figures/ (bytes in, tables out), run by crawler/statsrun.py; this mixin only
keeps plain rows. A file is one archived capture of a report; the same bytes captured again
(an unchanged recrawl, a 304) are the same reading, so every reading is attached to the first
capture of its bytes within the report (the lowest id: deterministic, whoever asks). What a
report "says" is the reading of its current files: for each URL of the report, the bytes of its
latest capture. A page drawn in a browser is read as drawn too (its "dom" capture: the tables a
script filled in are only there). When several files of a report were read (the page and its PDF,
the plain page and the drawn one) one of them is the report's primary reading, whose cells the
export and the coverage shading use, so a cell is one row per report: the file whose reading has
figures and passes its checks, then the one with the most figures, an attachment (the formal
document) before a page, then the first archived.

A mixin of storage.catalogue.Catalogue: one transaction per method, retried as a whole.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Iterable

import sqlalchemy as sa
from sqlmodel import Session, col

from storage.models import (
    EXTRACTION_STATUSES,
    FIGURE_SOURCES,
    Capture,
    FigureExtraction,
    Publisher,
    Report,
    ReportFigure,
    Site,
    utcnow,
)

# The captures a reading is made of: a report's own files and the drawn DOM of a report page, not
# their other renditions (text, screenshots).
SOURCE_KINDS = ("page", "attachment")
DRAWN_KIND = "dom"
# Which reading of a report is its primary one: better first.
_STATUS_RANK = {"ok": 0, "failed_checks": 1, "no_tables": 2, "error": 3}
_KIND_RANK = {"attachment": 0, "page": 1, DRAWN_KIND: 2}
FIGURE_FIELDS = ("table", "row", "column", "value", "unit", "printed", "page", "path", "source", "evidence")
MAX_EVIDENCE = 1000


def cell_key(table: str, row: str, column: str) -> str:
    """How a check names the cells it adds up (figures.Check.cells)."""
    return f"{table}/{row}/{column}"


def plain_value(value):
    """An integral count as an int (12, not 12.0); amounts in 万元 keep their decimals."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _figure_key(f: dict) -> tuple:
    return tuple((None if f.get(k) is None else float(f[k])) if k == "value" else f.get(k) for k in FIGURE_FIELDS)


def _checks_key(checks: Iterable[dict]) -> list[str]:
    return sorted(json.dumps(c, sort_keys=True, ensure_ascii=False, default=str) for c in checks)


def _status(figures: list, checks: list, error: str | None) -> str:
    if error:
        return "error"
    if not figures:
        return "no_tables"
    return "failed_checks" if any(not c.get("ok", True) for c in checks) else "ok"


def _region_match(region: str | None, codes: Iterable[str | None], names: Iterable[str | None]) -> bool:
    """320000: Jiangsu and all in it (code prefix without its trailing zero pairs); else a name substring."""
    if not region:
        return True
    if region.isdigit():
        prefix = region
        while len(prefix) > 2 and prefix.endswith("00"):
            prefix = prefix[:-2]
        return any(c and c.startswith(prefix) for c in codes)
    return any(n and region in n for n in names)


class FigureArchive:
    """figure_extraction and report_figure statements of the catalogue (mixed into Catalogue)."""

    # --- what is to be read ---------------------------------------------------------

    @staticmethod
    def _source_captures(s: Session, *, site_id: str | None = None, report_ids=None):
        own = sa.and_(col(Capture.parent_id).is_(None), col(Capture.kind).in_(SOURCE_KINDS),
                      col(Capture.is_report).is_(True))
        stmt = (sa.select(Capture.id, Capture.report_id, Capture.url, Capture.sha256, Capture.fetched_at,
                          Capture.site_id, Capture.kind)
                .where(sa.or_(own, Capture.kind == DRAWN_KIND), col(Capture.report_id).is_not(None))
                .order_by(Capture.id))
        if site_id is not None:
            stmt = stmt.where(Capture.site_id == site_id)
        if report_ids is not None:
            stmt = stmt.where(col(Capture.report_id).in_(list(report_ids)))
        return s.execute(stmt).all()

    @classmethod
    def _readings(cls, s: Session, **kw) -> tuple[dict, set]:
        """((report_id, sha256) -> its first capture row, {first capture id of each current file})."""
        first: dict[tuple[int, str], Any] = {}
        latest: dict[tuple[int, str], Any] = {}
        for c in cls._source_captures(s, **kw):
            first.setdefault((c.report_id, c.sha256), c)
            latest[(c.report_id, c.url, c.kind)] = c
        current = {first[(c.report_id, c.sha256)].id for c in latest.values()}
        return first, current

    @staticmethod
    def _primary(s: Session, first: dict, current: set) -> set:
        """The capture id of each report's primary reading among its current files (module docstring)."""
        if not current:
            return set()
        kinds = {c.id: c.kind for c in first.values()}
        latest: dict[int, tuple] = {}
        for cid, rid, status, n in s.execute(
                sa.select(FigureExtraction.capture_id, FigureExtraction.report_id, FigureExtraction.status,
                          FigureExtraction.figures).order_by(FigureExtraction.id)):
            if cid in current:
                latest[cid] = (rid, status, n)
        best: dict[int, tuple] = {}
        for cid, (rid, status, n) in latest.items():
            rank = (_STATUS_RANK.get(status, 9), -n, _KIND_RANK.get(kinds.get(cid), 9), cid)
            if rid not in best or rank < best[rid]:
                best[rid] = rank
        return {rank[-1] for rank in best.values()}

    @staticmethod
    def _latest_extractions(s: Session, capture_ids=None) -> dict[int, FigureExtraction]:
        stmt = sa.select(FigureExtraction).order_by(FigureExtraction.id)
        if capture_ids is not None:
            ids = list(capture_ids)
            if not ids:
                return {}
            stmt = stmt.where(col(FigureExtraction.capture_id).in_(ids))
        return {e.capture_id: e for e in s.scalars(stmt)}

    def extraction_todo(self, *, version: str, since: datetime | None = None, all: bool = False,
                        site_id: str | None = None) -> list[tuple[Capture, int | None]]:
        """(capture, report year) of every archived report file whose newest reading is absent or
        by another extractor version (all=True: every file). since: only bytes first archived then
        or later. One capture per report and bytes: its first."""
        def fn(s: Session):
            first, _current = self._readings(s, site_id=site_id)
            # Only ids and versions: the checks of every reading stay in the database.
            done = dict((cid, v) for cid, v in s.execute(
                sa.select(FigureExtraction.capture_id, FigureExtraction.extractor_version)
                .order_by(FigureExtraction.id)))
            wanted = [c.id for c in first.values()
                      if (since is None or c.fetched_at >= since)
                      and (all or done.get(c.id) != version)]
            if not wanted:
                return []
            out = []
            for i in range(0, len(wanted), 500):
                for cap, year in s.execute(sa.select(Capture, Report.year)
                                           .join(Report, Report.id == Capture.report_id)
                                           .where(col(Capture.id).in_(wanted[i:i + 500]))):
                    s.expunge(cap)
                    out.append((cap, year))
            return sorted(out, key=lambda t: t[0].id)

        return self._read("extraction_todo", fn)

    # --- recording a reading ----------------------------------------------------------

    def record_extraction(self, *, capture_id: int, version: str, format: str | None = None,
                          layout: str | None = None, figures: Iterable[dict] = (),
                          checks: Iterable[dict] = (), problems: Iterable[str] = (),
                          error: str | None = None) -> str:
        """Keep one version's reading of a capture; "extracted" when its figures or checks are new or
        differ from the ones on record (then, in the same transaction, the capture's figures are
        replaced and the report's change feed says "figures"), "unchanged" when the reading is the
        one on record (only this version's extraction row is written: it has read the file), or when
        the extractor failed (`error`) on a file an earlier version read: its figures are kept."""
        figures = [dict(f) for f in figures]
        checks = [json.loads(json.dumps(dict(c), default=list)) for c in checks]
        problems = [str(p) for p in problems] + ([f"error: {error}"] if error else [])
        for f in figures:
            if f.get("source", "table") not in FIGURE_SOURCES:
                raise ValueError(f"figure source {f.get('source')!r} is not one of {FIGURE_SOURCES}")
            f["evidence"] = str(f.get("evidence") or "")[:MAX_EVIDENCE]
        status = _status(figures, checks, error)
        assert status in EXTRACTION_STATUSES

        def fn(s: Session) -> str:
            # The capture's row locked: two extractors reading one file at once write one after the
            # other (PostgreSQL; SQLite's writers are serialised already).
            cap = s.get(Capture, capture_id, with_for_update=True)
            if cap is None or cap.report_id is None:
                from storage.catalogue import UnknownRecord
                raise UnknownRecord(f"no report capture {capture_id}")
            latest = s.scalars(sa.select(FigureExtraction).where(FigureExtraction.capture_id == capture_id)
                               .order_by(col(FigureExtraction.id).desc()).limit(1)).first()
            held = [r._asdict() for r in s.execute(
                sa.select(*[getattr(ReportFigure, k) for k in FIGURE_FIELDS])
                .where(ReportFigure.capture_id == capture_id))]
            same = (latest is not None and sorted(map(_figure_key, held), key=repr)
                    == sorted(map(_figure_key, figures), key=repr)
                    and _checks_key(latest.checks or []) == _checks_key(checks))
            now = utcnow()
            s.execute(sa.delete(FigureExtraction).where(FigureExtraction.capture_id == capture_id,
                                                        FigureExtraction.extractor_version == version))
            row = dict(capture_id=capture_id, report_id=cap.report_id, sha256=cap.sha256,
                       extractor_version=version, format=format, layout=layout, status=status,
                       figures=len(figures), failed_checks=sum(1 for c in checks if not c.get("ok", True)),
                       checks=checks, problems=problems, extracted_at=now)
            held_version = latest.figures_version or latest.extractor_version if latest is not None else None
            if same:
                s.execute(sa.insert(FigureExtraction.__table__), dict(row, figures_version=held_version))
                return "unchanged"
            if error and held:
                # An extractor that failed keeps what an earlier one read: its reading says so
                # (status error, its problem), the figures stay those of the version that read them.
                s.execute(sa.insert(FigureExtraction.__table__),
                          dict(row, figures=len(held), figures_version=held_version))
                return "unchanged"
            s.execute(sa.delete(ReportFigure).where(ReportFigure.capture_id == capture_id))
            if figures:
                s.execute(sa.insert(ReportFigure.__table__), [
                    {**{k: f.get(k) for k in FIGURE_FIELDS}, "unit": f.get("unit") or "",
                     "printed": f.get("printed") or "", "source": f.get("source") or "table",
                     "report_id": cap.report_id, "capture_id": capture_id, "sha256": cap.sha256,
                     "extractor_version": version, "extracted_at": now} for f in figures])
            s.execute(sa.insert(FigureExtraction.__table__), dict(row, figures_version=version))
            if figures or held:
                self._add_changes(s, "report", [(cap.report_id, "figures")])
            return "extracted"

        return self._write("record_extraction", fn)

    # --- reading them back ------------------------------------------------------------

    def report(self, *, report_id: int) -> Report | None:
        """One report row (the report page of the UI shows its figures)."""
        return self._read("report", lambda s: s.get(Report, report_id))

    def figures_for_report(self, *, report_id: int) -> list[dict]:
        """The figures of the report's current files, in the order they were read; `primary`: of the
        report's primary reading (module docstring)."""
        def fn(s: Session) -> list[dict]:
            first, current = self._readings(s, report_ids=[report_id])
            if not current:
                return []
            primary = self._primary(s, first, current)
            rows = s.scalars(sa.select(ReportFigure).where(col(ReportFigure.capture_id).in_(current),
                                                           ReportFigure.report_id == report_id)
                             .order_by(ReportFigure.id))
            return [dict(_figure_dict(f), primary=f.capture_id in primary) for f in rows]

        return self._read("figures_for_report", fn)

    def checks_for_report(self, *, report_id: int) -> list[dict]:
        """One entry per current file of the report that was read: its newest reading (version,
        status, format, layout, checks, problems) with the capture and sha256 it was read from."""
        def fn(s: Session) -> list[dict]:
            first, current = self._readings(s, report_ids=[report_id])
            primary = self._primary(s, first, current)
            return [dict(_extraction_dict(e), primary=cid in primary)
                    for cid, e in sorted(self._latest_extractions(s, current).items())]

        return self._read("checks_for_report", fn)

    def figure_summaries(self, *, report_ids: Iterable[int] | None = None) -> dict[int, dict]:
        """report id -> its primary reading in short {capture_id, figures, failed_checks, status,
        extractor_version, files_read} (files_read: its current files read, the primary among them)."""
        def fn(s: Session) -> dict[int, dict]:
            first, current = self._readings(s, report_ids=report_ids)
            primary = self._primary(s, first, current)
            out: dict[int, dict] = {}
            read: dict[int, int] = {}
            for cid, rid, version, status, n, failed in s.execute(
                    sa.select(FigureExtraction.capture_id, FigureExtraction.report_id,
                              FigureExtraction.extractor_version, FigureExtraction.status,
                              FigureExtraction.figures, FigureExtraction.failed_checks)
                    .order_by(FigureExtraction.id)):
                if cid in current:
                    read.setdefault(rid, set()).add(cid)
                if cid in primary:
                    out[rid] = {"capture_id": cid, "figures": n, "failed_checks": failed, "status": status,
                                "extractor_version": version}
            for rid, d in out.items():
                d["files_read"] = len(read.get(rid, ()))
            return out

        return self._read("figure_summaries", fn)

    def figure_report_years(self) -> dict[int, int | None]:
        """report id -> year, of the reports with a file read (nianbao stats summary)."""
        def fn(s: Session) -> dict[int, int | None]:
            return dict(s.execute(sa.select(Report.id, Report.year).where(
                col(Report.id).in_(sa.select(FigureExtraction.report_id).distinct()))).all())

        return self._read("figure_report_years", fn)

    def figure_rows(self, *, year: int | None = None, region: str | None = None,
                    site_id: str | None = None, cell: str | None = None, every_file: bool = False) -> list[dict]:
        """One dict per report and cell of the current files, for export: who published it (publisher,
        its id and region code), the report (year, site, URL), the cell as printed, where it was read
        (capture, sha256, page or path, extractor version), and the checks: those the cell takes
        part in that failed, and the report file's failed checks overall. One file per report, its
        primary reading, unless every_file (then `primary` tells them apart)."""
        def fn(s: Session) -> list[dict]:
            first, current = self._readings(s, site_id=site_id)
            primary = self._primary(s, first, current)
            readings = self._latest_extractions(s, current if every_file else primary)
            publishers = {p.id: p for p in s.scalars(sa.select(Publisher))}
            stmt = (sa.select(ReportFigure, Report, Site, Capture.url)
                    .join(Report, Report.id == ReportFigure.report_id)
                    .join(Site, Site.id == Report.site_id)
                    .join(Capture, Capture.id == ReportFigure.capture_id)
                    .order_by(Report.id, ReportFigure.id))
            if year is not None:
                stmt = stmt.where(Report.year == year)
            if site_id is not None:
                stmt = stmt.where(Report.site_id == site_id)
            if cell is not None:    # one cell of every report: coverage shaded by a figure
                table, row, column = split_cell(cell)
                stmt = stmt.where(ReportFigure.table == table, ReportFigure.row == row,
                                  ReportFigure.column == column)
            rows = []
            for fig, rep, site, file_url in s.execute(stmt):
                if fig.capture_id not in (current if every_file else primary):
                    continue
                pub = publishers.get(rep.publisher_id or site.publisher_id)
                code = pub.region_code if pub and pub.region_code else site.region_code
                if not _region_match(region, [code, site.region_code], [site.region_name, pub.name if pub else None]):
                    continue
                reading = readings.get(fig.capture_id)
                checks = (reading.checks if reading else None) or []
                key = cell_key(fig.table, fig.row, fig.column)
                mine = [c for c in checks if key in (c.get("cells") or ())]
                rows.append({
                    "publisher": pub.name if pub else rep.agency, "publisher_id": pub.id if pub else None,
                    "region_code": code, "printed_agency": (rep.attribution or {}).get("printed") or rep.agency,
                    "year": rep.year, "site_id": rep.site_id, "report_id": rep.id, "report_url": rep.url,
                    "file_url": file_url, **_figure_dict(fig), "primary": fig.capture_id in primary,
                    "status": reading.status if reading else None,
                    "cell_checks": len(mine),
                    "cell_failed_checks": ";".join(c["name"] for c in mine if not c.get("ok", True)),
                    "report_failed_checks": ";".join(c["name"] for c in checks if not c.get("ok", True)),
                })
            return rows

        return self._read("figure_rows", fn)


def _figure_dict(f: ReportFigure) -> dict:
    return {"table": f.table, "row": f.row, "column": f.column, "value": plain_value(f.value), "unit": f.unit,
            "printed": f.printed, "page": f.page, "path": f.path, "source": f.source, "evidence": f.evidence,
            "capture_id": f.capture_id, "sha256": f.sha256, "extractor_version": f.extractor_version,
            "cell": cell_key(f.table, f.row, f.column)}


def _extraction_dict(e: FigureExtraction) -> dict:
    return {"capture_id": e.capture_id, "report_id": e.report_id, "sha256": e.sha256,
            "extractor_version": e.extractor_version, "figures_version": e.figures_version,
            "format": e.format, "layout": e.layout, "status": e.status, "figures": e.figures,
            "failed_checks": e.failed_checks, "checks": e.checks or [], "problems": e.problems or [],
            "extracted_at": e.extracted_at}


def split_cell(cell: str) -> tuple[str, str, str]:
    """"table3/（三）不予公开/1.属于国家秘密/自然人" -> (table, row, column): a row key may hold "/"."""
    table, _, rest = cell.partition("/")
    row, _, column = rest.rpartition("/")
    return table, row, column
