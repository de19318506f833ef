"""Dispatch: which reader for which bytes (a minimal first cut; readers come next)."""
from __future__ import annotations

from figures import EXTRACTOR_VERSION, Extraction


def run(data: bytes, *, content_type: str | None, filename: str | None, year: int | None) -> Extraction:
    return Extraction(EXTRACTOR_VERSION, "unknown", None, (), (), ("no reader yet",))
