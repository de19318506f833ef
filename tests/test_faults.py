"""Faults around a crawl: broken site files, an object store that goes away, a catalogue that is
locked, a crawler killed mid-run. Each test bounds its time with subprocess timeouts and asserts the
outcome: a clean error or a retried success, never lost or half-written data."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

import simulator
from storage.catalogue import Catalogue
from storage.maintenance import fsck
from storage.objects import open_store
from tests.harness import REPO, harvest, nianbao, write_sites

FAST = {"politeness": {"delay": 0, "concurrency": 4}}
MAX_BYTES = "2000000"

GOOD = {"id": "demo", "agency": "某市人民政府", "start_urls": ["http://www.demo.gov.cn/"]}

# (case, file text or a dict merged over GOOD, key named in the error, fragment of the problem)
BAD_CONFIGS = [
    ("bad yaml", "id: demo\nagency: [unclosed\n", "line 3", "invalid YAML"),
    ("not a mapping", "- just\n- a list\n", "(top level)", "mapping"),
    ("unknown key", {"agnecy": "typo"}, "agnecy", "unknown key"),
    ("unknown nested key", {"politeness": {"delay": 1, "speed": 3}}, "politeness.speed", "unknown key"),
    ("wrong type", {"politeness": {"delay": "fast"}}, "politeness.delay", "number"),
    ("out of range", {"politeness": {"concurrency": 0}}, "politeness.concurrency", "greater than"),
    ("bad cron", {"schedule": "every monday"}, "schedule", "cron"),
    ("bad url", {"start_urls": ["www.demo.gov.cn/xxgk"]}, "start_urls", "absolute http(s) URL"),
    ("ftp url", {"start_urls": ["ftp://www.demo.gov.cn/"]}, "start_urls", "absolute http(s) URL"),
    ("bad host", {"allowed_hosts": ["http://www.demo.gov.cn/"]}, "allowed_hosts", "not a host"),
    ("bad render", {"render": "sometimes"}, "render", "auto"),
    ("id differs from file", {"id": "other"}, "id", "differs from the file name"),
    ("not utf-8", b"id: demo\nagency: \xc4\xb3\xca\xd0\n", "(file)", "not UTF-8"),
]


@pytest.mark.parametrize("case,content,key,fragment", BAD_CONFIGS, ids=[c[0] for c in BAD_CONFIGS])
def test_crawl_refuses_bad_site_file_naming_file_key_problem(tmp_path, case, content, key, fragment):
    sites = tmp_path / "sites"
    sites.mkdir()
    (sites / "fine.yaml").write_text(yaml.safe_dump(dict(GOOD, id="fine")), encoding="utf-8")
    path = sites / "demo.yaml"
    if isinstance(content, dict):
        path.write_text(yaml.safe_dump({**GOOD, **content}, allow_unicode=True), encoding="utf-8")
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    data = tmp_path / "data"
    proc = nianbao("crawl", "--all", "--sites-dir", str(sites), "--catalogue", f"sqlite:///{data}/c.sqlite",
                   "--store", (data / "objects").as_uri(), env={"COLUMNS": "300"}, timeout=60)
    assert proc.returncode == 3, proc.stderr
    assert "Traceback" not in proc.stderr
    flat = " ".join(proc.stderr.split())     # rich may wrap a long message
    line = next((chunk for chunk in flat.split("config error") if "demo.yaml:" in chunk), "")
    assert f"demo.yaml: {key}" in line and fragment in line, proc.stderr
    assert not data.exists(), "a refused configuration must not start a run"


def test_every_bad_file_reported_in_one_run(tmp_path):
    sites = tmp_path / "sites"
    sites.mkdir()
    (sites / "a.yaml").write_text(yaml.safe_dump(dict(GOOD, id="a", schedule="61 * * * *")), encoding="utf-8")
    (sites / "b.yaml").write_text(yaml.safe_dump(dict(GOOD, id="b", budget={"max_pages": -1})), encoding="utf-8")
    proc = nianbao("crawl", "--all", "--sites-dir", str(sites), env={"COLUMNS": "300"}, timeout=60)
    assert proc.returncode == 3
    assert "a.yaml: schedule" in proc.stderr and "b.yaml: budget.max_pages" in proc.stderr


def test_missing_sites_dir_is_a_config_error(tmp_path):
    proc = nianbao("crawl", "--all", "--sites-dir", str(tmp_path / "nowhere"), env={"COLUMNS": "300"}, timeout=60)
    assert proc.returncode == 3
    assert "nowhere: (file): no such file or directory" in proc.stderr
    assert "Traceback" not in proc.stderr
