"""Commands for archivists and parsers: coverage, the web UI, the heatmap image."""
from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `nianbao` app."""
