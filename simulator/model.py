"""The data the simulator is made of: portals, documents, columns, truth, requests and responses."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Callable, Iterable
from urllib.parse import parse_qsl


@dataclass(frozen=True)
class Portal:
    site_id: str
    family: str
    hosts: list[str]
    start_url: str
    agency: str
    kind: str                 # "government" for 人民政府, else "department"
    region_name: str
    region_code: str
    first_year: int
    index: int = 0
    quirks: frozenset[str] = frozenset()
    conditional: bool = True  # sends ETag/Last-Modified and honours conditional requests


@dataclass(frozen=True)
class TruthReport:
    site_id: str
    agency: str
    year: int
    title: str
    page_url: str
    file_urls: list[str]
    sha256: dict[str, str]
    # Who published it (simulator/places.py describes the dict): {"name": canonical, "kind",
    # "level", "region_code", "parent"}. `agency` is always publisher["name"].
    publisher: dict | None = field(default=None, compare=False)


@dataclass
class Attachment:
    label: str                # the link text / filename shown, Chinese
    kind: str                 # pdf, docx, xlsx, doc, wps, ofd
    url: str = ""             # absolute URL as the article links it (after the family assigns it)
    image_only: bool = False


@dataclass
class Doc:
    doc_id: int
    title: str
    date: dt.date
    kind: str                 # "report" | "lookalike" | "filler"
    year: int | None
    agency: str
    column: str
    body_in_page: bool
    attachments: list[Attachment]
    status: str               # "stable" | "changed" | "removed" | "added" across epochs
    seed_index: int = 0
    traditional: bool = False
    url: str = ""             # canonical absolute URL of the article page
    listed_url: str = ""      # the URL the list links to (may carry tracking parameters)
    lookalike_reason: str = ""
    publisher: dict | None = None   # set by families that model publishers (simulator/places.py)

    def visible(self, epoch: int) -> bool:
        if self.status == "removed":
            return epoch == 0
        if self.status == "added":
            return epoch >= 1
        return True

    def revision(self, epoch: int) -> int:
        return 1 if self.status == "changed" and epoch >= 1 else 0


@dataclass
class Column:
    slug: str
    name: str
    kind: str                 # "reports" | "lookalike" | "news"
    docs: list[Doc]
    agency: str               # whose column (a department on a directory platform)
    dept: str = ""            # department path label on a directory platform
    url: str = ""             # first list page


@dataclass
class Request:
    method: str
    host: str
    path: str
    query: str = ""
    headers: dict[str, str] = field(default_factory=dict)   # lower-case names
    body: bytes = b""

    @property
    def params(self) -> dict[str, str]:
        out = dict(parse_qsl(self.query, keep_blank_values=True))
        if self.method == "POST" and self.body:
            out.update(parse_qsl(self.body.decode("latin-1"), keep_blank_values=True))
        return out

    @property
    def cookies(self) -> dict[str, str]:
        out = {}
        for part in self.headers.get("cookie", "").split(";"):
            if "=" in part:
                k, v = part.split("=", 1)
                out[k.strip()] = v.strip()
        return out


@dataclass
class Response:
    status: int = 200
    body: bytes | Iterable[bytes] = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    length: int | None = None          # set for streamed bodies
    last_modified: dt.date | None = None
    cacheable: bool = True             # may carry an ETag (not for challenges and errors)

    def header(self, name: str) -> str | None:
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None


Handler = Callable[[Request], Response]
