"""`python -m bench chaos [--seeds N] [--first-seed S]`: the chaos test of tests/test_chaos.py
over more seeds.

Each seed: a fresh SeaweedFS on a tmpfs of its own, a harvest of the simulator's plain families
hurt at random points (archiving process killed, disk filled, SeaweedFS killed and restarted,
SIGINT once or twice, SIGKILL), then plain reruns until one ends "ok" (at most 6). One clean
harvest of the same world for all seeds. Printed per seed: the faults and where they landed,
reruns needed, the archive equal to the clean one or the differences; then faults by kind and
reruns (max, mean)."""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

MAX_RERUNS = 6


def run(seeds: int = 4, first_seed: int = 0) -> dict:
    from tests import chaos

    why = chaos.available()
    if why:
        raise SystemExit(f"chaos: {why}")
    results = []
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="nianbao-chaos-") as tmp:
        with chaos.serve_stage(Path(tmp) / "stage") as stage:
            print(f"chaos: clean harvest in {stage.clean_seconds:.0f}s, {stage.clean['primary']} pages and files, "
                  f"{len(stage.clean['reports'])} reports", flush=True)
            if stage.clean_problems:
                raise SystemExit(f"chaos: the clean harvest is not clean: {stage.clean_problems}")
            for seed in range(first_seed, first_seed + seeds):
                result = chaos.run_seed(seed, stage, Path(tmp) / f"seed-{seed}", max_reruns=MAX_RERUNS)
                results.append(result)
                print("\n".join(result.lines()), flush=True)
    out = chaos.summary(results)
    out["clean_seconds"] = round(stage.clean_seconds)
    out["max_reruns_allowed"] = MAX_RERUNS
    out["faults_planned"] = sum(len(r.faults) for r in results)
    out["faults_not_applied"] = [f"seed {r.seed}: {f.describe()}" for r in results for f in r.faults if not f.applied]
    out["notes"] = {r.seed: r.notes for r in results if r.notes}
    out["total_seconds"] = round(time.monotonic() - t0)
    return out


def headline(r: dict) -> str:
    equal = ", ".join(f"{s}: {'yes' if e else 'no'}" for s, e in r["equal_to_clean"].items())
    kinds = ", ".join(f"{k} {n}" for k, n in r["faults_by_kind"].items())
    return (f"{len(r['seeds'])} seeds; faults applied: {kinds}; reruns needed max {r['reruns_max']}, "
            f"mean {r['reruns_mean']} (bound {r['max_reruns_allowed']}); archive equal to clean: {equal}; "
            f"{len(r['problems'])} seed(s) with problems")
