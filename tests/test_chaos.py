"""Seeded chaos on the simulator (SeaweedFS store), the issue "Nothing lost, ever": a harvest
during which the archiving process is killed, the store's disk fills, SeaweedFS stops and
starts, SIGINT/SIGKILL arrive at random points; then plain reruns until a run ends "ok". The
final archive must equal a clean harvest's, within a bounded number of reruns.

The machinery is tests/chaos.py (`python -m bench chaos --seeds N` runs more seeds)."""
from __future__ import annotations

import time

import pytest

import simulator
from tests import chaos
from tests.harness import write_sites

# Between them: archiver kills, SIGKILL, two faulted attempts (5); a full disk, SeaweedFS restarted,
# two quick SIGINTs (9). `python -m bench chaos --seeds N` runs seeds 0..N-1.
SEEDS = [5, 9]
MAX_RERUNS = 6


@pytest.fixture(scope="module")
def served():
    why = chaos.available()
    if why:
        pytest.skip(why)
    world = simulator.World(seed=0, size="tiny")
    with simulator.serve(world) as server:
        yield world, server.proxy_url


@pytest.fixture(scope="module")
def stage(served, tmp_path_factory):
    world, proxy = served
    stage = chaos.clean_harvest(world, proxy, tmp_path_factory.mktemp("chaos"))
    assert stage.clean_problems == [], stage.clean_problems
    return stage


def test_disk_full_seaweedfs_refuses_a_put_and_takes_it_again_once_freed(tmp_path):
    """The disk-full fault is real: SeaweedFS on a full tmpfs answers a put with a 500
    (InternalError), which the store client raises (retried, then StoreUnavailable); once the
    filler is gone, puts succeed again at once."""
    why = chaos.available()
    if why:
        pytest.skip(why)
    weed = chaos.FillableWeed(tmp_path / "weed", disk_mb=64)
    if not weed.mounted:
        pytest.skip(weed.mount_note)
    try:
        weed.start()
        weed.client().create_bucket(Bucket="full")
        archive_probe = type("P", (), {"probe_url": f"s3://full/p?endpoint={weed.endpoint}&region=us-east-1"})
        assert not chaos._probe_put_refused(archive_probe), "a put on a disk with room must succeed"
        assert weed.fill() > 0
        assert chaos._probe_put_refused(archive_probe), "SeaweedFS accepted a put on a full disk"
        weed.free()
        assert not chaos._probe_put_refused(archive_probe), "a put after the disk was freed must succeed"
    finally:
        weed.close()


@pytest.mark.parametrize("seed", SEEDS)
def test_chaos_then_plain_reruns_equal_a_clean_harvest(stage, tmp_path, seed):
    result = chaos.run_seed(seed, stage, tmp_path / f"seed-{seed}", max_reruns=MAX_RERUNS)
    print()
    print("\n".join(result.lines()))
    assert any(f.applied for f in result.faults), "no fault landed: the seed tests nothing"
    assert result.problems == [], "\n".join(result.lines())
    assert result.ok and result.equal
    assert result.reruns <= MAX_RERUNS


def test_store_disk_full_past_the_outage_deadline_stops_the_run(served, tmp_path):
    """The disk stays full longer than the run's patience: the run must stop within the deadline,
    interrupted, its files owed (as for a store that is down), not wait for ever."""
    weed = chaos.FillableWeed(tmp_path / "weed", disk_mb=64)
    if not weed.mounted:
        pytest.skip(weed.mount_note)
    sites = tmp_path / "sites"
    world, proxy = served
    write_sites(world, sites, families={"hanweb"}, overrides=chaos.POLITE)
    try:
        weed.start()
        archive = chaos.Archive(tmp_path / "a", weed, "deadline", sites, proxy)
        crawl = archive.crawl(outage_wait=8)
        try:
            while crawl.alive() and archive.captures() < 5:
                time.sleep(0.2)
            weed.fill()
            code = crawl.wait(45)          # 8 s of patience, a few seconds of retries, closing
        finally:
            weed.free()
            err = crawl.finish()
        assert code == 4, f"still running 45 s into a full disk with an 8 s deadline: {err[-2000:]}"
        assert "Traceback" not in err
        cat = archive.catalogue()
        assert cat.owed() and all(r.outcome == "interrupted" for r in cat.runs())
    finally:
        weed.close()
