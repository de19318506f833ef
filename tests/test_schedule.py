from datetime import datetime, timedelta, timezone

import pytest

import simulator
from crawler.schedule import LastRun, is_due
from storage.catalogue import Catalogue
from tests.harness import nianbao, write_sites

NOW = datetime(2026, 3, 2, 3, 30, tzinfo=timezone.utc)     # a Monday
H = timedelta(hours=1)


@pytest.mark.parametrize("schedule,last,expected", [
    (None, None, False),                                             # no schedule: never due
    ("0 3 * * 1", None, True),                                       # never ran
    ("0 3 * * 1", LastRun(NOW - 2 * H, "ok"), True),                 # fired at 03:00 after last start
    ("0 3 * * 1", LastRun(NOW - 0.25 * H, "ok"), False),             # started after the fire
    ("0 3 * * 1", LastRun(NOW - 0.25 * H, "running"), False),        # still running
    ("0 4 * * 1", LastRun(NOW - 24 * H, "ok"), False),               # fires later today
    ("0 3 * * 1", LastRun(NOW - 0.5 * H, "failed"), False),          # failed, too recent to retry
    ("0 3 1 * *", LastRun(NOW - 2 * H, "partial", owed=3), True),     # files owed: retried after an hour
    ("0 3 1 * *", LastRun(NOW - 2 * H, "partial"), False),            # partial, nothing owed: next fire
    ("0 3 1 * *", LastRun(NOW - 0.5 * H, "partial", owed=3), False),  # owed, but too recent
    ("0 3 1 * *", LastRun(NOW - 2 * H, "interrupted"), True),        # died: retried after an hour
    ("*/15 * * * *", LastRun(NOW - 0.3 * H, "ok"), True),
])
def test_is_due(schedule, last, expected):
    assert is_due(schedule, last, NOW) is expected


def test_crawl_due_and_scheduler_once_survive_restart(tmp_path):
    world = simulator.World(seed=0, size="tiny")
    sites = tmp_path / "sites"
    write_sites(world, sites, families={"static"}, overrides={"politeness": {"delay": 0, "concurrency": 4},
                                                              "schedule": "0 0 1 1 *"})
    write_sites(world, sites, families={"trs"}, overrides={"politeness": {"delay": 0, "concurrency": 4}})
    catalogue = f"sqlite:///{tmp_path / 'cat.sqlite'}"
    store = (tmp_path / "objects").as_uri()
    with simulator.serve(world) as server:
        common = ["--sites-dir", str(sites), "--catalogue", catalogue, "--store", store]
        first = nianbao("crawl", "--due", "--proxy", server.proxy_url, *common)
        assert first.returncode == 0, first.stderr[-2000:]
        runs = Catalogue.open(catalogue).runs()
        assert [r.site_id for r in runs] == ["jiangyin-kjj"]          # scheduled and never run: due
        again = nianbao("crawl", "--due", *common)                      # a fresh process: state in catalogue
        assert again.returncode == 0 and "no site is due" in again.stdout
        once = nianbao("schedule", "--once", *common)
        assert once.returncode == 0 and "nothing due" in once.stdout


def test_scheduler_enqueues_for_workers(tmp_path, redis_url):
    """`schedule --enqueue` puts due sites on the shared Redis frontier instead of crawling."""
    import redis

    world = simulator.World(seed=0, size="tiny")
    sites = tmp_path / "sites"
    write_sites(world, sites, families={"static", "trs"}, overrides={"schedule": "0 0 1 1 *"})
    common = ["--sites-dir", str(sites), "--catalogue", f"sqlite:///{tmp_path / 'cat.sqlite'}",
              "--store", (tmp_path / "objects").as_uri(), "--redis", redis_url]
    first = nianbao("schedule", "--once", "--enqueue", *common)
    assert first.returncode == 0, first.stderr
    active = {m.decode() for m in redis.Redis.from_url(redis_url).smembers("nianbao:sites")}
    assert active == {"jiangyin-kjj", "huidong-fgw"}
    again = nianbao("schedule", "--once", "--enqueue", *common)     # already under way: not twice
    assert again.returncode == 0 and "nothing due" in again.stdout


def test_a_site_file_broken_while_the_scheduler_runs_is_skipped(tmp_path, caplog):
    """Site files are re-read every tick: one broken in between is named once in the log and left
    out; the others are still enqueued (no crawl is started: an enqueueing scheduler)."""
    import logging

    from crawler.schedule import Scheduler

    class Frontier:                   # records what the tick hands on
        def __init__(self):
            self.sites = []

        def enqueue(self, site):
            self.sites.append(site.id)
            return True

    sites = tmp_path / "sites"
    sites.mkdir()
    for name in ("a", "b"):
        (sites / f"{name}.yaml").write_text(
            f"id: {name}\nagency: 某局\nstart_urls: ['http://www.{name}.gov.cn/']\nschedule: '0 0 1 1 *'\n",
            encoding="utf-8")
    frontier = Frontier()
    scheduler = Scheduler(sites_dir=str(sites), catalogue_url=f"sqlite:///{tmp_path / 'c.sqlite'}",
                          store_url=(tmp_path / "o").as_uri(), frontier=frontier)
    assert sorted(scheduler.tick()) == ["a", "b"]
    (sites / "b.yaml").write_text("id: b\nagency: 某局\nschedule: every monday\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="crawler.schedule"):
        assert scheduler.tick() == ["a"]
        scheduler.tick()
    warnings = [r.getMessage() for r in caplog.records if "b.yaml" in r.getMessage()]
    assert len(warnings) == 1 and "schedule" in warnings[0] and "skipped" in warnings[0]
