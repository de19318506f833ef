"""Every environment variable nianbao reads, read here and nowhere else.

Nothing is opened at import time: these functions only compute strings.
"""
from __future__ import annotations

import os
from pathlib import Path

DEFAULT_DATA_DIR = "data"


def data_dir() -> Path:
    return Path(os.environ.get("NIANBAO_DATA", DEFAULT_DATA_DIR)).resolve()


def catalogue_url(override: str | None = None) -> str:
    """SQLAlchemy URL of the catalogue: flag, then NIANBAO_CATALOGUE, then ./data/catalogue.sqlite."""
    if override:
        return override
    if os.environ.get("NIANBAO_CATALOGUE"):
        return os.environ["NIANBAO_CATALOGUE"]
    return f"sqlite:///{data_dir() / 'catalogue.sqlite'}"


def store_url(override: str | None = None) -> str:
    """Object store URL: flag, then NIANBAO_STORE, then file://./data/objects."""
    if override:
        return override
    if os.environ.get("NIANBAO_STORE"):
        return os.environ["NIANBAO_STORE"]
    return (data_dir() / "objects").as_uri()


def warc_spool_dir(store_url: str, override: str | None = None) -> Path:
    """Where WARC files are built before their upload (storage/warcspool.py says why).

    The NIANBAO_WARC_TMP_DIR setting (override), used as is; else one directory per store under
    NIANBAO_SPOOL; else beside a filesystem store (data/objects -> data/spool/objects-<hash>),
    or under the data directory for any other store (data/spool/s3-<bucket>-...-<hash>).
    """
    from urllib.parse import urlsplit

    from storage.warcspool import spool_dir_for

    if override:
        return Path(override).resolve()
    root = os.environ.get("NIANBAO_SPOOL") or None
    if root is None and urlsplit(store_url).scheme not in ("", "file"):
        root = data_dir() / "spool"
    return spool_dir_for(store_url, root)


def sites_dir(override: str | None = None) -> Path:
    return Path(override or os.environ.get("NIANBAO_SITES", "sites"))


def chromium_path() -> str:
    return os.environ.get("NIANBAO_CHROMIUM", "/usr/bin/chromium")


def redis_url(override: str | None = None) -> str:
    return override or os.environ.get("NIANBAO_REDIS", "redis://127.0.0.1:6379/0")


def api_token() -> str | None:
    """Token that unlocks state-changing web UI actions; None keeps the UI read-only."""
    return os.environ.get("NIANBAO_TOKEN") or None


def proxy_from_env() -> str | None:
    """The standard proxy variables, as Scrapy and Chromium both honour them."""
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY"):
        if os.environ.get(name):
            return os.environ[name]
    return None


class EnvError(ValueError):
    """An environment variable nianbao cannot use."""


def archive_processes() -> int | None:
    """Archiving processes beside a crawl from NIANBAO_ARCHIVE_PROCESSES (None: not set, the
    Scrapy setting of the same name decides). 0 archives in threads of the crawl process."""
    raw = os.environ.get("NIANBAO_ARCHIVE_PROCESSES")
    if raw is None or raw.strip() == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 0:
        raise EnvError(f"NIANBAO_ARCHIVE_PROCESSES={raw!r}: expected a whole number, 0 or more")
    return value


def seconds(name: str) -> float | None:
    """A duration in seconds from the environment (NIANBAO_STORE_OUTAGE_WAIT: how long one run
    waits in all for an object store that went away; NIANBAO_LEASE_TTL: how long a crawl's
    claim on a site outlives its last heartbeat). None when not set: the Scrapy setting of the
    same name decides."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return None
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0 or value != value or value == float("inf"):
        raise EnvError(f"{name}={raw!r}: expected a number of seconds greater than 0")
    return value
