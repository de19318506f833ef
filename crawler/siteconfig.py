"""Per-site YAML configuration, parsed into pydantic models.

One vocabulary for the YAML files and the ad hoc command line: `nianbao crawl --start-url`
builds the same `SiteConfig` a file would. Errors name the file, the key and the problem.
"""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import yaml
from croniter import croniter
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

RenderMode = Literal["auto", "never", "always"]
AgencyKind = Literal["government", "department"]
CmsFamily = Literal["hanweb", "trs", "gkmlpt", "trsapi", "directory", "static"]

_HOST_RE = re.compile(r"^(\*\.|\.)?[A-Za-z0-9.-]+(:\d{1,5})?$")
_SITE_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class ConfigError(Exception):
    """A site configuration that cannot be used. `problems` lists (file, key, message)."""

    def __init__(self, problems: list[tuple[str, str, str]]):
        self.problems = problems
        super().__init__("\n".join(f"{f}: {k}: {m}" for f, k, m in problems))


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Region(Strict):
    name: str = Field(description="Region name, e.g. 江苏省苏州市太仓市")
    code: str | None = Field(default=None, description="6-digit administrative division code")

    @field_validator("code")
    @classmethod
    def _six_digits(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"\d{6}", str(v)):
            raise ValueError("must be a 6-digit administrative division code")
        return v


class Politeness(Strict):
    delay: float = Field(default=1.0, ge=0, le=120, description="seconds between requests to one host")
    concurrency: int = Field(default=2, ge=1, le=32, description="parallel requests to one host")


class Budget(Strict):
    max_pages: int = Field(default=3000, ge=1, description="pages fetched per run, attachments excluded")
    max_depth: int = Field(default=8, ge=0, le=50, description="link hops from a start URL")
    max_list_pages: int = Field(default=300, ge=1, description="pagination pages followed per list")
    widen_pages: int = Field(default=300, ge=0, le=100_000,
                             description="requests per widening stage when a walk yields too few reports (0: never widen)")


class Revisit(Strict):
    """When a report page or file already archived is asked for again (crawler/revisit.py)."""
    min_days: float = Field(default=1.0, ge=0, le=3650,
                            description="wait after a check before the next; 0: revalidate on every run")
    max_days: float = Field(default=30.0, ge=0, le=3650,
                            description="longest wait, reached by doubling after each unchanged check")


class Hints(Strict):
    cms: CmsFamily | None = None
    list_patterns: list[str] = Field(default_factory=list, description="regexes of list-page URLs")
    article_patterns: list[str] = Field(default_factory=list, description="regexes of article URLs")
    directory: bool = Field(default=False, description="a disclosure platform hosting many departments: "
                            "the agency of a report is the department the page names")

    @field_validator("list_patterns", "article_patterns")
    @classmethod
    def _regexes(cls, v: list[str]) -> list[str]:
        for pattern in v:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"bad regular expression {pattern!r}: {exc}") from None
        return v


class Verification(Strict):
    verified: bool = Field(default=False, description="checked against the live site by a person")
    checked_on: str | None = None
    note: str | None = None


class SiteConfig(Strict):
    id: str
    agency: str
    kind: AgencyKind = "department"
    region: Region | None = None
    start_urls: list[str] = Field(min_length=1)
    allowed_hosts: list[str] = Field(default_factory=list,
                                     description="host, host:port, or .domain for subdomains; default: start URL hosts")
    render: RenderMode = "auto"
    # An intranet mirror or a portal behind split DNS answers from 10.x: the operator says so here;
    # otherwise internal addresses are refused unless allowed_hosts names them (crawler/scope.py).
    allow_private: bool = Field(default=False, description="may fetch loopback/private/link-local addresses")
    schedule: str | None = Field(default=None, description="cron expression, e.g. '0 3 * * 1'")
    politeness: Politeness = Field(default_factory=Politeness)
    budget: Budget = Field(default_factory=Budget)
    revisit: Revisit = Field(default_factory=Revisit)
    hints: Hints = Field(default_factory=Hints)
    first_year: int = Field(default=2008, ge=2008, le=2100)
    verification: Verification = Field(default_factory=Verification)

    @field_validator("id")
    @classmethod
    def _site_id(cls, v: str) -> str:
        if not _SITE_ID_RE.fullmatch(v):
            raise ValueError("must be lowercase letters, digits, '-' or '_' (at most 64)")
        return v

    @field_validator("agency")
    @classmethod
    def _agency(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must not be empty")
        return v.strip()

    @field_validator("start_urls")
    @classmethod
    def _urls(cls, v: list[str]) -> list[str]:
        for url in v:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"{url!r} is not an absolute http(s) URL")
        return v

    @field_validator("allowed_hosts")
    @classmethod
    def _hosts(cls, v: list[str]) -> list[str]:
        for host in v:
            if not _HOST_RE.fullmatch(host):
                raise ValueError(f"{host!r} is not a host, host:port or .domain")
        return [h.lower() for h in v]

    @field_validator("schedule")
    @classmethod
    def _cron(cls, v: str | None) -> str | None:
        if v is not None and not croniter.is_valid(v):
            raise ValueError(f"{v!r} is not a valid cron expression")
        return v

    @model_validator(mode="after")
    def _default_hosts(self) -> "SiteConfig":
        if not self.allowed_hosts:
            hosts = []
            for url in self.start_urls:
                netloc = urlsplit(url).netloc.lower()
                if netloc not in hosts:
                    hosts.append(netloc)
            object.__setattr__(self, "allowed_hosts", hosts)
        return self

    def config_hash(self) -> str:
        """Stable hash of the effective configuration, recorded with every crawl run."""
        canon = json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canon.encode("utf-8")).hexdigest()[:16]


def _key_path(loc: tuple) -> str:
    return ".".join(str(p) for p in loc) or "(top level)"


def parse_site(data: object, *, source: str = "<config>") -> SiteConfig:
    if not isinstance(data, dict):
        raise ConfigError([(source, "(top level)", "must be a mapping of keys to values")])
    try:
        return SiteConfig.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            msg = err["msg"]
            if err["type"] == "extra_forbidden":
                msg = "unknown key"
            elif msg.startswith("Value error, "):
                msg = msg[len("Value error, "):]
            problems.append((source, _key_path(err["loc"]), msg))
        raise ConfigError(problems) from None


def load_site(path: str | Path) -> SiteConfig:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([(str(path), "(file)", "no such file")]) from None
    except UnicodeDecodeError:
        raise ConfigError([(str(path), "(file)", "not UTF-8 text")]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(file)"
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([(str(path), where, f"invalid YAML: {problem}")]) from None
    cfg = parse_site(data, source=str(path))
    if cfg.id != path.stem:
        raise ConfigError([(str(path), "id", f"{cfg.id!r} differs from the file name {path.stem!r}")])
    return cfg


def site_files(path: str | Path) -> list[Path]:
    path = Path(path)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise ConfigError([(str(path), "(file)", "no such file or directory")])
    return sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml"))


def load_sites(path: str | Path) -> list[SiteConfig]:
    """Load every site file; collect all problems before failing, so one run shows them all."""
    configs, problems = [], []
    seen: dict[str, str] = {}
    for file in site_files(path):
        try:
            cfg = load_site(file)
        except ConfigError as exc:
            problems.extend(exc.problems)
            continue
        if cfg.id in seen:
            problems.append((str(file), "id", f"{cfg.id!r} already used by {seen[cfg.id]}"))
            continue
        seen[cfg.id] = str(file)
        configs.append(cfg)
    if problems:
        raise ConfigError(problems)
    return configs


def adhoc_id(start_url: str) -> str:
    """The site id of an ad hoc crawl: its start URL's host, non-default port, path and query as a slug
    (http://www.x.gov.cn:8080/col/col123/index.html -> www-x-gov-cn-8080-col-col123). One portal
    often hosts many agencies, each under its own column: two start URLs on one host are two sites,
    or the second crawl would mark the first one's reports removed and take over its agency. A start
    URL at the root keeps the bare host id earlier versions gave every ad hoc crawl of that host."""
    parts = urlsplit(start_url.strip())
    host = (parts.hostname or "site").lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is not None and port != {"http": 80, "https": 443}.get(parts.scheme.lower()):
        host = f"{host}-{port}"
    # /col/ and /col/index.html are one start page; the scheme does not make another site.
    path = re.sub(r"/(?:index|default)\.[a-z]+$", "/", parts.path, flags=re.I)
    raw = "-".join(p for p in (host, path, parts.query) if p)
    slug = re.sub(r"[^a-z0-9]+", "-", raw.lower()).strip("-") or "adhoc"
    if len(slug) > 64:   # readable head, and a digest of the whole so long URLs stay apart
        digest = hashlib.sha256(raw.encode("utf-8")).hexdigest()[:8]
        slug = slug[:55].rstrip("-") + "-" + digest
    return slug


def adhoc_site(*, start_url: str, agency: str, allow: list[str] | None = None,
               render: RenderMode = "auto", kind: AgencyKind = "department",
               site_id: str | None = None) -> SiteConfig:
    """A site from the command line alone, with the same defaults as a file; its id is
    `site_id` (`--id`) when given, else adhoc_id(start_url)."""
    data = {"id": site_id or adhoc_id(start_url), "agency": agency, "kind": kind,
            "start_urls": [start_url], "render": render}
    if allow:
        data["allowed_hosts"] = list(allow)
    return parse_site(data, source="command line")
