"""Page analyses kept beside the archive, so a page the server calls unchanged is not parsed again.

An analysis is what `cms.extract` made of a page: its links, the pages that continue its list,
title, heading, breadcrumb, publisher and (capped) visible text. It is a function of four things,
all in its key: the bytes (sha256), the URL (relative links resolve against it), the declared
content type (its charset decides the decoding) and the extraction code itself (a hash of the
sources that produce it), so a new release of the adapters never reads an analysis made by an
old one. Analyses live under their own prefix in the object store: they are a cache, not
archived content; losing them costs a parse, nothing else.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path

from typing import TYPE_CHECKING

if TYPE_CHECKING:   # the archiving process computes keys without loading the adapters
    from crawler.cms.model import Extracted

PREFIX = "analyses"
_HERE = Path(__file__).resolve().parent
# The code an analysis depends on: the adapters, decoding, link reading and this format.
_SOURCES = sorted((_HERE / "cms").glob("*.py")) + [_HERE / "encoding.py", _HERE / "links.py", Path(__file__)]


def _code_version() -> str:
    digest = hashlib.sha256()
    for path in _SOURCES:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


VERSION = _code_version()


def analysis_key(sha256: str, url: str, content_type: str | None) -> str:
    name = hashlib.sha256(f"{sha256}\n{url}\n{content_type or ''}".encode("utf-8")).hexdigest()
    return f"{PREFIX}/{VERSION}/{name[:2]}/{name}.json"


def dumps(page: Extracted) -> bytes:
    return json.dumps(asdict(page), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def loads(data: bytes) -> Extracted:
    """The analysis in data; ValueError if it is not one (a damaged or foreign object)."""
    from crawler.cms.model import Extracted, Follow, Link

    try:
        raw = json.loads(data)
        links = [Link(**link) for link in raw.pop("links")]
        pages = [Follow(**follow) for follow in raw.pop("pages")]
        return Extracted(links=links, pages=pages, **raw)
    except (TypeError, KeyError, AttributeError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"not a page analysis: {exc}") from None
