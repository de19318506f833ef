"""Archiving beside the crawl: in a process of its own (the default) or in threads, the same
rows and objects; errors come back as themselves; a dead archiving process is replaced."""
from __future__ import annotations

import asyncio
import hashlib
import os
import signal
from datetime import datetime, timezone

import pytest

from crawler.archiving import ArchiveError, Archiver
from crawler.items import FileItem, ReportRef
from storage.catalogue import Catalogue
from storage.objects import content_key, open_store


@pytest.fixture
def archive(tmp_path):
    store_url = (tmp_path / "objects").as_uri()
    catalogue_url = f"sqlite:///{tmp_path / 'catalogue.sqlite'}"
    cat = Catalogue.open(catalogue_url)
    cat.upsert_site(site_id="s", agency="某某市人民政府")
    run_id = cat.start_run(site_id="s", config_hash=None, software_version="t")
    return store_url, catalogue_url, cat, run_id


def _item(i: int, **kw) -> FileItem:
    fields = dict(site_id="s", url=f"http://x.gov.cn/{i}.html", final_url=f"http://x.gov.cn/{i}.html",
                  source_page=None, status=200, headers={"Etag": f'"{i}"'},
                  body=f"<html>第{i}页</html>".encode(), content_type="text/html", filename=None,
                  fetched_at=datetime.now(timezone.utc))
    if i % 4 == 0:
        fields["report"] = ReportRef(agency="某某市人民政府", year=2018, title=f"年报{i}",
                                     url=f"http://x.gov.cn/{i}.html")
    fields.update(kw)
    return FileItem(**fields)


async def _archive_all(archiver, store_url, catalogue_url, run_id, items):
    return await asyncio.gather(*(archiver.run(store_url, catalogue_url, run_id, it) for it in items),
                                return_exceptions=True)


def _rows(cat: Catalogue, run_id: int):
    return sorted((c.url, c.sha256, c.change, c.report_id is not None, c.etag) for c in cat.captures(run_id=run_id))


@pytest.mark.parametrize("processes", [1, 0])
def test_files_archived_at_once_are_all_recorded(archive, processes):
    store_url, catalogue_url, cat, run_id = archive
    archiver = Archiver.acquire(processes)
    try:
        items = [_item(i) for i in range(40)]
        outcomes = asyncio.run(_archive_all(archiver, store_url, catalogue_url, run_id, items))
    finally:
        archiver.release()
    assert all(o.stats["nianbao/archived_files"] == 1 for o in outcomes)
    rows = _rows(cat, run_id)
    assert len(rows) == 40 and all(change == "new" for _u, _s, change, _r, _e in rows)
    assert sum(1 for row in rows if row[3]) == 10 and len(cat.reports()) == 10
    store = open_store(store_url)
    for it in items:
        assert store.get(content_key(hashlib.sha256(it.body).hexdigest())) == it.body
    assert {row[4] for row in rows} == {f'"{i}"' for i in range(40)}


def test_an_error_in_the_archiving_process_is_raised_here_and_fails_only_its_file(archive):
    store_url, catalogue_url, cat, run_id = archive
    gone = {"storage_key": content_key("0" * 64), "sha256": "0" * 64, "size": 3}
    items = [_item(1), _item(2, body=b"", unchanged=gone), _item(3)]
    archiver = Archiver.acquire(1)
    try:
        results = asyncio.run(_archive_all(archiver, store_url, catalogue_url, run_id, items))
    finally:
        archiver.release()
    assert isinstance(results[1], ArchiveError) and "archived object is gone" in str(results[1])
    assert [u for u, *_ in _rows(cat, run_id)] == ["http://x.gov.cn/1.html", "http://x.gov.cn/3.html"]


def test_a_killed_archiving_process_is_replaced(archive):
    store_url, catalogue_url, cat, run_id = archive
    archiver = Archiver.acquire(1)

    async def scenario():
        await archiver.run(store_url, catalogue_url, run_id, _item(1))
        pool = archiver._executor
        for pid in list(pool._processes):
            os.kill(pid, signal.SIGKILL)
        for _ in range(200):                 # the pool notices its dead worker
            if pool._broken:
                break
            await asyncio.sleep(0.05)
        return await archiver.run(store_url, catalogue_url, run_id, _item(2))

    try:
        outcome = asyncio.run(scenario())
    finally:
        archiver.release()
    assert outcome.stats["nianbao/archived_files"] == 1
    assert [u for u, *_ in _rows(cat, run_id)] == ["http://x.gov.cn/1.html", "http://x.gov.cn/2.html"]


class _DyingPool:
    """An executor whose process dies with each batch in hand (after it may have written)."""

    def __init__(self):
        self.batches = []

    def submit(self, fn, *args):
        from concurrent.futures import Future
        from concurrent.futures.process import BrokenProcessPool

        self.batches.append(args[-1])
        future = Future()
        future.set_exception(BrokenProcessPool("A process in the process pool was terminated abruptly"))
        return future

    def shutdown(self, wait=True):
        pass


def test_files_in_hand_when_the_archiving_process_dies_fail_and_are_not_sent_twice(archive):
    store_url, catalogue_url, _cat, run_id = archive
    archiver = Archiver(1)
    dying = archiver._executor = _DyingPool()

    async def scenario():
        return await asyncio.gather(*(archiver.run(store_url, catalogue_url, run_id, _item(i)) for i in (1, 2)),
                                    return_exceptions=True)

    results = asyncio.run(scenario())
    assert all(isinstance(r, ArchiveError) and "died while archiving" in str(r) for r in results)
    assert sum(len(b) for b in dying.batches) == 2          # each file sent once, never again
    assert archiver._executor is None                         # the next batch gets a new process


def test_sites_of_one_process_share_an_archiver_until_the_last_lets_go():
    first, second = Archiver.acquire(1), Archiver.acquire(1)
    assert first is second and first.users == 2
    first.release()
    assert Archiver.acquire(1) is second
    second.release()
    second.release()
    assert Archiver.acquire(1) is not second
    Archiver._shared.clear()


@pytest.mark.parametrize("raw, expected", [
    (None, None), ("", None), ("0", 0), ("1", 1), (" 2 ", 2), ("two", "error"), ("-1", "error"),
])
def test_archive_processes_from_the_environment(monkeypatch, raw, expected):
    from crawler import env

    if raw is None:
        monkeypatch.delenv("NIANBAO_ARCHIVE_PROCESSES", raising=False)
    else:
        monkeypatch.setenv("NIANBAO_ARCHIVE_PROCESSES", raw)
    if expected == "error":
        with pytest.raises(env.EnvError, match="NIANBAO_ARCHIVE_PROCESSES"):
            env.archive_processes()
    else:
        assert env.archive_processes() == expected


_PARENT = """
import asyncio, sys, time
sys.path.insert(0, {repo!r})
from crawler.archiving import Archiver, _warm

async def main():
    archiver = Archiver.acquire(1)
    pool = archiver._pool()
    await asyncio.get_running_loop().run_in_executor(pool, _warm, {store!r}, {cat!r})
    print(" ".join(str(pid) for pid in pool._processes), flush=True)
    time.sleep(60)

asyncio.run(main())
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            state = next(line for line in fh if line.startswith("State:"))
        return "Z" not in state.split()[1]
    except (FileNotFoundError, StopIteration):
        return False


def test_the_archiving_process_dies_with_a_killed_crawl(archive):
    """A SIGKILLed crawl must not have files recorded after it: its resumed run reads what it had."""
    import subprocess
    import sys
    import time
    from pathlib import Path

    store_url, catalogue_url, _cat, _run = archive
    code = _PARENT.format(repo=str(Path(__file__).resolve().parent.parent), store=store_url, cat=catalogue_url)
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        children = [int(pid) for pid in parent.stdout.readline().split()]
        assert children and all(_alive(pid) for pid in children)
        parent.kill()
        parent.wait(10)
        deadline = time.monotonic() + 3
        while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not any(_alive(pid) for pid in children)
    finally:
        if parent.poll() is None:
            parent.kill()
