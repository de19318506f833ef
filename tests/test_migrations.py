"""Alembic migrations on SQLite and a real PostgreSQL: from an empty database, down and up again,
and the migrated schema is exactly what storage.models declares (no drift)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (tables on SQLModel.metadata)
from storage import db
from storage.catalogue import Catalogue

TABLES = {"site", "crawl_run", "report", "blob", "capture", "url_state", "change", "coverage_mark",
          "owed_file", "site_lease", "publisher", "publisher_alias", "publisher_action",
          "figure_extraction", "report_figure"}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
def url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'catalogue.sqlite'}"
    return request.getfixturevalue("pg_url")


def _alembic(engine, *args) -> None:
    """Run an Alembic command inside this engine, the way storage.db.upgrade does."""
    cfg = Config()
    cfg.set_main_option("script_location", str(db.MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        args[0](cfg, *args[1:])


def _state(engine) -> tuple[set[str], str | None]:
    with engine.connect() as conn:
        tables = set(sa.inspect(conn).get_table_names())
        return tables, MigrationContext.configure(conn).get_current_revision()


def _head() -> str:
    cfg = Config()
    cfg.set_main_option("script_location", str(db.MIGRATIONS))
    return ScriptDirectory.from_config(cfg).get_current_head()


def _drift(engine) -> list:
    with engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                SQLModel.metadata)


def test_upgrade_from_empty_database_matches_models(url):
    cat = Catalogue.open(url)
    try:
        tables, revision = _state(cat.engine)
        assert TABLES <= tables
        assert revision == _head()
        assert _drift(cat.engine) == []
    finally:
        cat.close()


def test_downgrade_to_base_and_upgrade_again(url):
    cat = Catalogue.open(url)
    try:
        cat.upsert_site(site_id="x", agency="某市人民政府")
        _alembic(cat.engine, command.downgrade, "base")
        tables, revision = _state(cat.engine)
        assert revision is None
        assert not (TABLES & tables), "downgrade left tables behind"
        _alembic(cat.engine, command.upgrade, "head")
        assert _state(cat.engine)[1] == _head()
        assert _drift(cat.engine) == []
        # The catalogue works on the rebuilt schema, and the old row went with the old tables.
        assert cat.upsert_site(site_id="x", agency="某市人民政府") is not False
    finally:
        cat.close()


def test_opening_a_database_at_the_previous_revision_upgrades_it(url):
    """Stamp back one step (to base for our single revision) and let Catalogue.open bring it up."""
    engine = db.make_engine(url)
    try:
        _alembic(engine, command.upgrade, "head")
        script = ScriptDirectory.from_config(_cfg())
        previous = script.get_revision(_head()).down_revision or "base"
        _alembic(engine, command.downgrade, previous)
        assert _state(engine)[1] == (None if previous == "base" else previous)
    finally:
        engine.dispose()
    with Catalogue.open(url) as cat:
        assert _state(cat.engine)[1] == _head()


def test_migrations_are_the_only_way_tables_appear(url):
    """Catalogue.open(migrate=False) on an empty database creates nothing (no create_all)."""
    cat = Catalogue.open(url, migrate=False)
    try:
        assert not (TABLES & _state(cat.engine)[0])
    finally:
        cat.close()


def _cfg() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(db.MIGRATIONS))
    return cfg


def test_figures_migration_downgrades_and_upgrades_with_rows_present(url):
    """0005 (figure_extraction, report_figure) goes down to 0004 with a reading on record, and up again."""
    cat = Catalogue.open(url)
    try:
        cat.upsert_site(site_id="x", agency="某市人民政府")
        cat.record_blob(sha256="a" * 64, size=3, storage_key="sha256/aa/aa/" + "a" * 64)
        rid, _ = cat.upsert_report(site_id="x", agency="某市人民政府", year=2023, title="t", url="http://x/r.pdf")
        cap = cat.add_capture(site_id="x", report_id=rid, url="http://x/r.pdf", sha256="a" * 64, size=3,
                              storage_key="sha256/aa/aa/" + "a" * 64, kind="attachment", is_report=True)
        assert cat.record_extraction(capture_id=cap, version="t1", format="pdf", figures=[
            {"table": "table3", "row": "一、本年新收", "column": "总计", "value": 5, "unit": "件", "printed": "5",
             "page": 2, "source": "table", "evidence": "5"}], checks=[]) == "extracted"
        # A capture forgotten (fsck: its bytes lost) takes its readings and figures with it.
        other = cat.add_capture(site_id="x", report_id=rid, url="http://x/r2.pdf", sha256="a" * 64, size=3,
                                storage_key="sha256/aa/aa/" + "a" * 64, kind="attachment", is_report=True)
        assert cat.record_extraction(capture_id=other, version="t1", figures=[], checks=[]) == "extracted"
        assert cat.drop_objects(storage_keys=["sha256/aa/aa/" + "a" * 64]) == 2
        assert cat.checks_for_report(report_id=rid) == [] and cat.figures_for_report(report_id=rid) == []
        cat.record_blob(sha256="b" * 64, size=3, storage_key="sha256/bb/bb/" + "b" * 64)
        cap = cat.add_capture(site_id="x", report_id=rid, url="http://x/r.pdf", sha256="b" * 64, size=3,
                              storage_key="sha256/bb/bb/" + "b" * 64, kind="attachment", is_report=True)
        cat.record_extraction(capture_id=cap, version="t1", figures=[
            {"table": "table3", "row": "一、本年新收", "column": "总计", "value": 5, "printed": "5", "page": 2}])
        _alembic(cat.engine, command.downgrade, "0004")
        tables, revision = _state(cat.engine)
        assert revision == "0004" and not ({"figure_extraction", "report_figure"} & tables)
        assert "report" in tables and "capture" in tables
        _alembic(cat.engine, command.upgrade, "head")
        assert _state(cat.engine)[1] == _head() and _drift(cat.engine) == []
        assert cat.figures_for_report(report_id=rid) == []
    finally:
        cat.close()
