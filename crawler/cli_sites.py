"""`nianbao sites schema` and `nianbao sites add`: help for writing site files.

`sites add URL...` crawls each portal ad hoc (the path of `nianbao crawl --start-url`), reads
what the run found from the catalogue and its stats, and writes a site file saying it was
discovered, not checked by a person (crawler/discovery.py does the reading)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_CONFIG = 0, 1, 2, 3

out = Console()
err = Console(stderr=True)


def schema() -> None:
    """Print the JSON Schema of site files (for editors: yaml-language-server, VS Code)."""
    from crawler.siteconfig import site_schema

    print(json.dumps(site_schema(), ensure_ascii=False, indent=2))


def register(sites_app: typer.Typer) -> None:
    """Add this module's commands to `nianbao sites`."""
    sites_app.command("schema")(schema)
