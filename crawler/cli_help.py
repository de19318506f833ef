"""How `nianbao --help` names values: plain metavars (TEXT, INTEGER, PATH, auto|never|always),
never Python types (`<list[str]>`, `<int range> [x>=1]`), and ranges in words.

Typer 0.2x prints the annotation of every parameter as its metavar; a user reading help is
not reading our source. One patch here, applied once by crawler.cli, covers every command
group (cli_web, cli_scale, cli_publishers, ...) without a metavar= on each of ~100 options.
"""
from __future__ import annotations

from pathlib import Path

from typer import core

_PLAIN = {str: "TEXT", int: "INTEGER", float: "NUMBER", Path: "PATH"}


def _plain_type(annotation) -> str | None:
    from typing import get_args, get_origin

    if get_origin(annotation) in (list, tuple):
        args = [a for a in get_args(annotation) if a is not Ellipsis]
        return _plain_type(args[0]) if args else "TEXT"
    return _PLAIN.get(annotation, "TEXT")


def display_type(self, ctx) -> str | None:
    if self.metavar is not None:
        return self.metavar
    if getattr(self, "is_bool_flag", False) or self.type_descriptor.annotation is bool:
        return None                       # a flag takes no value
    desc = self.type_descriptor
    if desc.is_choice and desc.choices:
        return "|".join(str(getattr(c, "value", c)) for c in desc.choices)
    if desc.is_path:
        return "PATH"
    return _plain_type(desc.annotation)


def range_in_words(self) -> str | None:
    low, high = getattr(self, "min", None), getattr(self, "max", None)
    if getattr(self, "count", False) and low == 0 and high is None:
        return None
    if low is None and high is None:
        return None
    if high is None:
        return f"at least {low}"
    if low is None:
        return f"at most {high}"
    return f"{low} to {high}"


def install() -> None:
    core._TyperParameter.display_type = display_type
    core._TyperParameter._get_number_range_help_str = range_in_words
    core.TyperOption._get_number_range_help_str = range_in_words


def undocumented(app) -> list[str]:
    """Every option or argument of every command with no help text: `nianbao crawl --id`."""
    import typer.main

    missing = []

    def walk(cmd, path):
        for param in getattr(cmd, "params", []):
            if param.name == "help" or getattr(param, "hidden", False):
                continue
            if not (getattr(param, "help", None) or "").strip():
                missing.append(f"{' '.join(path)} {param.opts[0] if param.opts else param.name}")
        for name, sub in (getattr(cmd, "commands", None) or {}).items():
            walk(sub, [*path, name])

    walk(typer.main.get_command(app), ["nianbao"])
    return missing
