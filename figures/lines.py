"""What every reader hands the table interpreter: lines of a label and the value cells after it."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Cell:
    printed: str
    page: int | None = None
    path: str | None = None
    x: float | None = None        # PDF: the cell's horizontal centre, to place a row with blanks


@dataclass
class Line:
    label: str                    # the row's words as printed (label cells joined)
    cells: list[Cell] = field(default_factory=list)   # value cells after the label, blanks included
