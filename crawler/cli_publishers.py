"""`nianbao publishers`: the registry of who publishes reports (storage/publishers.py).

load-divisions seeds the people's governments of every province, prefecture and county offline
(crawler/publishers/divisions.py); list and show read; merge, alias, split, mark and undo are an
archivist's changes, each recorded with who and why and undoable. Exit codes as crawler/cli.py:
0 done, 1 the catalogue could not be opened, 2 a bad argument or a refused change (one line).
Shares its console and catalogue helpers with crawler/cli_web.py (importing crawler.cli would be a circle).
"""
from __future__ import annotations

import json
from typing import Optional

import typer
from rich.console import Console

from crawler.cli_web import EXIT_USAGE, CatalogueOpt, _open_catalogue

# One line per message whatever the terminal's width: names and URLs stay whole and greppable.
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

app = typer.Typer(no_args_is_help=True, help="The registry of publishers: who published each report.")
WhoOpt = typer.Option(..., "--who", help="Who decided")
WhyOpt = typer.Option(..., "--why", help="Why (kept with the action; shown in the UI)")


def _refused(exc) -> None:
    err.print(f"refused: {exc}", highlight=False)
    raise typer.Exit(EXIT_USAGE)


def _publisher(cat, ref: str):
    """A publisher by id or canonical name, or a one-line error (exit 2)."""
    p = cat.publisher(publisher_id=int(ref)) if ref.isdigit() else cat.publisher_by_name(name=ref)
    if p is None:
        err.print(f"no publisher {ref!r} (an id, or a canonical name as `nianbao publishers list` shows)")
        raise typer.Exit(EXIT_USAGE)
    return p


def _do(fn, **kwargs) -> int:
    from storage.publishers import PublisherError

    try:
        return fn(**kwargs)
    except PublisherError as exc:
        _refused(exc)


@app.command("load-divisions")
def load_divisions(catalogue: Optional[str] = CatalogueOpt):
    """Seed the governments of every province, prefecture and county (offline; idempotent)."""
    from crawler.publishers import divisions

    cat = _open_catalogue(catalogue)
    done = cat.load_divisions(divisions=divisions.load(), government_name=divisions.government_name)
    out.print(f"{done['governments']} governments: {done['created']} new, {done['updated']} updated")


@app.command("list")
def list_(region: Optional[str] = typer.Option(None, "--region", help="Region code: 320000 lists Jiangsu and all in it"),
          kind: Optional[str] = typer.Option(None, "--kind", help="province_government, department, ..."),
          fmt: str = typer.Option("text", "--format", help="text | json"),
          catalogue: Optional[str] = CatalogueOpt):
    """Publishers, by region code; one greppable line each."""
    from storage.models import PUBLISHER_KINDS

    if fmt not in ("text", "json"):
        err.print(f"--format: {fmt!r} is not text or json")
        raise typer.Exit(EXIT_USAGE)
    if kind and kind not in PUBLISHER_KINDS:
        err.print(f"--kind: {kind!r} is not one of {', '.join(PUBLISHER_KINDS)}")
        raise typer.Exit(EXIT_USAGE)
    if region and not (region.isdigit() and 2 <= len(region) <= 12):
        err.print(f"--region: {region!r} is not a region code like 320000")
        raise typer.Exit(EXIT_USAGE)
    rows = _open_catalogue(catalogue).publishers(region=region, kind=kind)
    if fmt == "json":
        print(json.dumps([p.model_dump(mode="json") for p in rows], ensure_ascii=False, indent=1))
        return
    for p in rows:
        print(f"{p.id}\t{p.region_code or '-'}\t{p.kind}\t{p.name}")
    print(f"{len(rows)} publisher(s)")


@app.command("show")
def show(publisher: str = typer.Argument(..., help="Id or canonical name"),
         catalogue: Optional[str] = CatalogueOpt):
    """One publisher: its aliases with where they were seen, its sites, reports by year, actions."""
    cat = _open_catalogue(catalogue)
    p = _publisher(cat, publisher)
    parent = cat.publisher(publisher_id=p.parent_id) if p.parent_id else None
    print(f"{p.id}\t{p.name}\t{p.kind}\t{p.region_code or '-'}")
    print(f"parent: {parent.name if parent else '-'}; created {p.created_year or '-'}; "
          f"abolished {p.abolished_year or '-'}" + (f"; merged into {p.merged_into_id}" if p.merged_into_id else ""))
    for a in cat.publisher_aliases(publisher_id=p.id):
        print(f"alias {a.id}\t{a.alias}\t{a.source}\t{a.site_id or '-'}\t{a.example_url or '-'}\t{a.evidence or ''}")
    for s in cat.sites():
        if s.publisher_id == p.id:
            print(f"site\t{s.id}")
    years: dict = {}
    for r in cat.reports():
        if r.publisher_id == p.id:
            years.setdefault(r.year, []).append(r)
    for year in sorted(years, key=lambda y: y or 0):
        print(f"year {year or '-'}\t{len(years[year])} report(s)\t" + " ".join(r.url for r in years[year]))
    for act in cat.publisher_actions(publisher_id=p.id):
        undone = f" (undone by {act.undone_by})" if act.undone_by else ""
        print(f"action {act.id}\t{act.action}\t{act.at:%Y-%m-%d %H:%M}\t{act.who}: {act.why}{undone}")


@app.command("merge")
def merge(source: str = typer.Argument(..., help="The publisher that is a name of the other"),
          into: str = typer.Argument(..., help="The publisher it goes into"),
          who: str = WhoOpt, why: str = WhyOpt, catalogue: Optional[str] = CatalogueOpt):
    """Merge SOURCE into INTO: its reports, sites and aliases move; undo restores them."""
    cat = _open_catalogue(catalogue)
    a, b = _publisher(cat, source), _publisher(cat, into)
    action = _do(cat.merge_publishers, source_id=a.id, into_id=b.id, who=who, why=why)
    out.print(f"merged {a.name} into {b.name} (action {action}; undo: nianbao publishers undo {action})",
              highlight=False)


@app.command("alias")
def alias(publisher: str = typer.Argument(..., help="Id or canonical name"),
          name: str = typer.Argument(..., help="The name as printed (质监局)"),
          site: Optional[str] = typer.Option(None, "--site", help="Only on this site (default: anywhere)"),
          who: str = WhoOpt, why: str = WhyOpt, catalogue: Optional[str] = CatalogueOpt):
    """Say NAME (as printed) is PUBLISHER: reports printed under it go there, recrawls included."""
    cat = _open_catalogue(catalogue)
    p = _publisher(cat, publisher)
    action = _do(cat.add_alias, publisher_id=p.id, alias=name, site_id=site, who=who, why=why)
    out.print(f"{name} is {p.name}" + (f" on {site}" if site else "") + f" (action {action})", highlight=False)


@app.command("split")
def split(alias_id: int = typer.Argument(..., help="The alias id `show` lists"),
          into: str = typer.Option(..., "--into", help="Id or canonical name of the publisher it names; "
                                   "a new name makes a new publisher"),
          kind: str = typer.Option("other", "--kind", help="Kind of a new publisher"),
          who: str = WhoOpt, why: str = WhyOpt, catalogue: Optional[str] = CatalogueOpt):
    """Split an alias (and the reports printed under it) off to another publisher."""
    cat = _open_catalogue(catalogue)
    target = cat.publisher(publisher_id=int(into)) if into.isdigit() else cat.publisher_by_name(name=into)
    kwargs = dict(into_id=target.id) if target else dict(into_name=into, kind=kind)
    action = _do(cat.split_alias, alias_id=alias_id, who=who, why=why, **kwargs)
    out.print(f"alias {alias_id} split off to {target.name if target else into} (action {action})", highlight=False)


@app.command("mark")
def mark(publisher: str = typer.Argument(..., help="Id or canonical name"),
         created: Optional[int] = typer.Option(None, "--created", help="Year it was created"),
         abolished: Optional[int] = typer.Option(None, "--abolished", help="Year it was abolished"),
         who: str = WhoOpt, why: str = WhyOpt, catalogue: Optional[str] = CatalogueOpt):
    """The years a publisher was created or abolished: coverage owes nothing outside them."""
    if (created is None) == (abolished is None):
        err.print("give one of --created YEAR or --abolished YEAR")
        raise typer.Exit(EXIT_USAGE)
    cat = _open_catalogue(catalogue)
    p = _publisher(cat, publisher)
    event, year = ("created", created) if created is not None else ("abolished", abolished)
    action = _do(cat.mark_publisher, publisher_id=p.id, event=event, year=year, who=who, why=why)
    out.print(f"{p.name} {event} {year} (action {action})", highlight=False)


@app.command("undo")
def undo(action_id: int = typer.Argument(..., help="The action id merge, alias, split or mark printed"),
         who: str = WhoOpt, why: str = WhyOpt, catalogue: Optional[str] = CatalogueOpt):
    """Undo an archivist's action (recorded as an action too)."""
    cat = _open_catalogue(catalogue)
    undone = _do(cat.undo_action, action_id=action_id, who=who, why=why)
    out.print(f"undid action {action_id} (action {undone})")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="publishers")
