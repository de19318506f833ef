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
    name: str = Field(description="region name, e.g. 江苏省苏州市太仓市")
    code: str | None = Field(default=None, description="6-digit administrative division code (GB/T 2260)")

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
    max_browser_requests: int = Field(default=3000, ge=0, le=1_000_000,
                                      description="requests Chromium may send to the portal per run (XHR, "
                                      "scripts, requisites, navigations not already fetched); beyond: refused")


class Revisit(Strict):
    """When a report page or file already archived is asked for again (crawler/revisit.py)."""
    min_days: float = Field(default=1.0, ge=0, le=3650,
                            description="wait after a check before the next; 0: revalidate on every run")
    max_days: float = Field(default=30.0, ge=0, le=3650,
                            description="longest wait, reached by doubling after each unchanged check")
    list_tail_days: float = Field(default=7.0, ge=0, le=3650,
                                  description="a list's further pages, once an earlier page holds only known "
                                  "items, are read again after this many days (0: whole lists every run)")


class Hints(Strict):
    cms: CmsFamily | None = Field(default=None, description="the portal's CMS family, when known "
                                  "(`sites add` writes the one it saw)")
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
    checked_on: str | None = Field(default=None, description="date of that check, YYYY-MM-DD")
    note: str | None = Field(default=None, description="what was checked, or why not")
    discovered: str | None = Field(default=None, description="date `nianbao sites add` wrote this file from a "
                                   "discovery crawl: discovered, not checked by a person")


class SiteConfig(Strict):
    id: str = Field(description="site id: lowercase letters, digits, '-', '_'; the file is named after it")
    agency: str = Field(description="the publisher whose portal this is, as it names itself (某市人民政府)")
    kind: AgencyKind = Field(default="department", description="government (人民政府: reports due 31 March) "
                             "or department (31 January, from the 2019 report on; 31 March before)")
    region: Region | None = Field(default=None, description="where the agency is: {name, code}")
    start_urls: list[str] = Field(min_length=1, description="where the walk starts (http or https)")
    allowed_hosts: list[str] = Field(default_factory=list,
                                     description="host, host:port, or .domain for subdomains; default: start URL hosts")
    render: RenderMode = Field(default="auto", description="auto (Chromium only where a page needs it), "
                               "never, always")
    # Replay fidelity against politeness: a rendered page's images, fonts, media and stylesheets
    # are not asked for unless this is on; then each is fetched once per run (crawler/browsergate.py).
    requisites: bool = Field(default=False, description="when rendering, fetch page requisites (images, "
                             "fonts, media, stylesheets), each once per run, and archive them")
    # An intranet mirror or a portal behind split DNS answers from 10.x: the operator says so here;
    # otherwise internal addresses are refused unless allowed_hosts names them (crawler/scope.py).
    allow_private: bool = Field(default=False, description="may fetch loopback/private/link-local addresses")
    schedule: str | None = Field(default=None, description="cron expression, e.g. '0 3 * * 1', read in `timezone`")
    timezone: str = Field(default="Asia/Shanghai", description="IANA time zone the schedule is read in; "
                          "recorded with each run")
    politeness: Politeness = Field(default_factory=Politeness, description="how hard one host is asked")
    budget: Budget = Field(default_factory=Budget, description="how far one run goes")
    revisit: Revisit = Field(default_factory=Revisit, description="when archived report pages and files are "
                             "asked for again")
    hints: Hints = Field(default_factory=Hints, description="what is known of the portal's make, for the people "
                         "who maintain the file: validated, not read by the crawl, which recognises each page itself")
    first_year: int = Field(default=2008, ge=2008, le=2100,
                            description="the first year a report is expected (earlier years: blank in coverage)")
    verification: Verification = Field(default_factory=Verification,
                                       description="whether a person checked this file against the live site")

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

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{v!r} is not an IANA time zone such as Asia/Shanghai or UTC") from None
        return v

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


def partition_sites(path: str | Path) -> tuple[list[SiteConfig], list[tuple[str, str, list]]]:
    """Every usable site file of a directory, and the bad ones as (file, stem, problems): one bad
    file must not stop the crawl (or the schedule) of the others. ConfigError only when the
    directory itself is missing."""
    good, bad = [], []
    seen: dict[str, str] = {}
    for file in site_files(path):
        try:
            cfg = load_site(file)
        except ConfigError as exc:
            bad.append((str(file), file.stem, exc.problems))
            continue
        if cfg.id in seen:
            bad.append((str(file), file.stem, [(str(file), "id", f"{cfg.id!r} already used by {seen[cfg.id]}")]))
            continue
        seen[cfg.id] = str(file)
        good.append(cfg)
    return good, bad


def describe(problems: list) -> str:
    """A bad file's problems on one line (「schedule: not a cron expression; id: …」), as the
    crawl and the scheduler both report a skipped file."""
    return "; ".join(f"{key}: {msg}" for _file, key, msg in problems)


def load_sites(path: str | Path) -> list[SiteConfig]:
    """Load every site file; collect all problems before failing, so one run shows them all."""
    configs, bad = partition_sites(path)
    if bad:
        raise ConfigError([problem for _file, _stem, problems in bad for problem in problems])
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
               site_id: str | None = None, first_year: int | None = None) -> SiteConfig:
    """A site from the command line alone, with the same defaults as a file; its id is
    `site_id` (`--id`) when given, else adhoc_id(start_url)."""
    data = {"id": site_id or adhoc_id(start_url), "agency": agency, "kind": kind,
            "start_urls": [start_url], "render": render}
    if first_year is not None:
        data["first_year"] = first_year
    if allow:
        data["allowed_hosts"] = list(allow)
    return parse_site(data, source="command line")


def site_schema() -> dict:
    """The JSON Schema of a site file (for editors: yaml-language-server, VS Code)."""
    schema = SiteConfig.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "nianbao site file"
    return schema


def option_rows(model: type[BaseModel] | None = None, prefix: str = "") -> list[tuple[str, str, str, str]]:
    """(key, type, default, description) for every option of a site file, nested ones dotted
    (budget.max_pages): the README's table is generated from this, and checked against it."""
    import typing

    rows = []
    for name, info in (model or SiteConfig).model_fields.items():
        key = prefix + name
        ann = info.annotation
        sub = next((a for a in (ann, *typing.get_args(ann)) if isinstance(a, type) and issubclass(a, BaseModel)),
                   None)
        if info.is_required():
            default = "required"
        elif info.default_factory is not None:
            value = info.default_factory()
            default = "" if isinstance(value, BaseModel) else json.dumps(value, ensure_ascii=False)
        else:
            default = json.dumps(info.default, ensure_ascii=False)
        rows.append((key, _type_name(ann), default, info.description or ""))
        if sub is not None:
            rows.extend(option_rows(sub, key + "."))
    return rows


def _type_name(ann) -> str:
    import typing

    origin = typing.get_origin(ann)
    if origin is Literal:
        return " \\| ".join(str(a) for a in typing.get_args(ann))
    args = [a for a in typing.get_args(ann) if a is not type(None)]
    if origin is list:
        return f"list of {_type_name(args[0])}"
    if args and origin is not None:
        return " or ".join(_type_name(a) for a in args)
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return "mapping"
    return getattr(ann, "__name__", str(ann))


def options_table() -> str:
    """The Markdown table of every site-file option: its type, default and meaning."""
    lines = ["| key | type | default | meaning |", "| --- | --- | --- | --- |"]
    for key, kind, default, text in option_rows():
        shown = "required" if default == "required" else f"`{default}`" if default else "(mapping)"
        lines.append(f"| `{key}` | {kind} | {shown} | {text} |")
    return "\n".join(lines) + "\n"
