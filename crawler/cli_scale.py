"""Commands for scale-out: Redis frontier workers and enqueueing."""
from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `nianbao` app."""
