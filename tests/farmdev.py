"""The development farm in ../shared/farm-dev, crawled ad hoc as a new user would.

Used by tests/test_farmdev.py and runnable by hand:

    .venv/bin/python -m tests.farmdev [--portal p09 ...] [--keep DIR]

For every portal of the farm's manifest: `nianbao crawl --start-url URL --agency NAME --allow
HOST...` (the first manifest agency, no site file, default settings), then `nianbao export`, then
the farm's own scorer. The farm's code and data stay in ../shared: it runs from there, under its
own venv (.venv-farm, built from its requirements.txt when missing).
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
from tests.shared import SHARED  # noqa: E402

FARM = Path(os.environ.get("NIANBAO_FARM_DEV", SHARED / "farm-dev"))
FARM_VENV = Path(os.environ.get("EVAL_VENV", ROOT / ".venv-farm"))
NIANBAO = Path(sys.executable).parent / "nianbao"


def available() -> bool:
    return (FARM / "farm.py").exists()


def ensure_venv() -> Path:
    """The farm's interpreter, its pinned document libraries installed (once)."""
    python = FARM_VENV / "bin" / "python"
    stamp = FARM_VENV / ".installed-stamp"
    if not stamp.exists():
        if not python.exists():
            subprocess.run([sys.executable, "-m", "venv", str(FARM_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "-r", str(FARM / "requirements.txt")],
                       check=True)
        stamp.touch()
    return python


def _free_base(span: int = 12) -> int:
    """A base port with span free ports above it, from a random start: farms started at once
    (--parallel) must not all pick the first free range."""
    import random

    first = 18400 + 37 * random.randrange(300)
    for base in [*range(first, 30000, 37), *range(18400, first, 37)]:
        ok = True
        for port in range(base, base + span):
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    ok = False
                    break
        if ok:
            return base
    raise RuntimeError("no free port range for the farm")


class Farm:
    """One farm process serving every portal; fresh per crawl (some portals keep state)."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.python = ensure_venv()
        self.base = _free_base()
        self.manifest_path = workdir / "farm.json"
        self.log_path = workdir / "farm-requests.jsonl"
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "Farm":
        for attempt in range(5):
            try:
                return self._start()
            except RuntimeError as exc:
                # Another server took a port between the check and the bind: another range.
                if "Address already in use" not in str(exc) or attempt == 4:
                    raise
                self.base = _free_base()
        raise AssertionError("unreachable")

    def _start(self) -> "Farm":
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.manifest_path.unlink(missing_ok=True)
        env = {**os.environ, "EVAL_VENV": str(FARM_VENV)}
        self.proc = subprocess.Popen(
            [str(self.python), str(FARM / "farm.py"), "serve", "--base-port", str(self.base),
             "--out", str(self.manifest_path), "--log", str(self.log_path)],
            cwd=str(FARM), env=env, stdout=subprocess.DEVNULL, stderr=open(self.workdir / "farm.err", "wb"))
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.manifest_path.exists() and self._listening():
                break
            if self.proc.poll() is not None:
                raise RuntimeError(f"the farm exited: {(self.workdir / 'farm.err').read_text()[-2000:]}")
            time.sleep(0.3)
        else:
            raise RuntimeError("the farm did not start within 120 s")
        self.manifest = json.loads(self.manifest_path.read_text())
        truth = subprocess.run([str(self.python), str(FARM / "farm.py"), "truth", "--base-port", str(self.base)],
                               cwd=str(FARM), env=env, check=True, capture_output=True)
        self.truth_path = self.workdir / "truth.json"
        self.truth_path.write_bytes(truth.stdout)
        return self

    def _listening(self) -> bool:
        try:
            manifest = json.loads(self.manifest_path.read_text())
        except (OSError, ValueError):
            return False
        for portal in manifest.get("portals", []):
            host, port = portal["allowed_hosts"][0].split(":")
            with socket.socket() as s:
                s.settimeout(0.5)
                if s.connect_ex((host, int(port))) != 0:
                    return False
        return True

    def __exit__(self, *exc) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def crawl_portal(portal: dict, data: Path, *, timeout: float = 900, extra: list[str] | None = None) -> dict:
    """One ad hoc crawl of a portal into its own, new archive; returns the process's outcome."""
    import shutil

    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True, exist_ok=True)
    args = [str(NIANBAO), "crawl", "--start-url", portal["start_url"], "--agency", portal["agencies"][0]]
    for host in portal["allowed_hosts"]:
        args += ["--allow", host]
    args += ["--store", str(data / "objects"), "--catalogue", f"sqlite:///{data}/catalogue.db"]
    args += extra or []
    env = {**os.environ, "NIANBAO_DATA": str(data)}
    started = time.monotonic()
    proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env, cwd=str(data))
    (data / "crawl.out").write_text(proc.stdout + "\n---stderr---\n" + proc.stderr)
    export = data / "export.jsonl"
    subprocess.run([str(NIANBAO), "export", "-o", str(export), "--store", str(data / "objects"),
                    "--catalogue", f"sqlite:///{data}/catalogue.db"], check=True, capture_output=True, env=env,
                   cwd=str(data))
    return {"returncode": proc.returncode, "seconds": round(time.monotonic() - started, 1), "export": export}


def score(farm: Farm, exports: list[Path], out: Path) -> dict:
    merged = out.with_suffix(".export.jsonl")
    with open(merged, "w", encoding="utf-8") as fh:
        for path in exports:
            fh.write(path.read_text(encoding="utf-8"))
    result = out.with_suffix(".score.json")
    proc = subprocess.run([sys.executable, str(FARM / "score.py"), "--truth", str(farm.truth_path),
                           "--export", str(merged), "--requests-log", str(farm.log_path), "--json", str(result)],
                          capture_output=True, text=True)
    (out.with_suffix(".score.txt")).write_text(proc.stdout + proc.stderr)
    return json.loads(result.read_text())


_PORTS_LOCK = None


def _one(pid: str, workdir: Path) -> tuple[dict, dict]:
    global _PORTS_LOCK
    import threading

    if _PORTS_LOCK is None:
        _PORTS_LOCK = threading.Lock()
    with _PORTS_LOCK:   # one farm starts at a time, so two never pick the same free ports
        farm = Farm(workdir / pid).__enter__()
    try:
        portal = next(p for p in farm.manifest["portals"] if p["id"] == pid)
        outcome = crawl_portal(portal, workdir / pid / "data")
        return score(farm, [outcome["export"]], workdir / pid / "score"), outcome
    finally:
        farm.__exit__(None, None, None)


def portal_ids(workdir: Path) -> list[str]:
    with Farm(workdir / "probe") as probe:
        return [p["id"] for p in probe.manifest["portals"]]


def run(portals: list[str] | None, workdir: Path, *, parallel: int = 3) -> tuple[dict, dict]:
    """Crawl each portal on a fresh farm of its own (a few at once); (scores, crawl outcomes) by portal id."""
    from concurrent.futures import ThreadPoolExecutor

    ids = portals or portal_ids(workdir)
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        results = dict(zip(ids, pool.map(lambda pid: _one(pid, workdir), ids)))
    return {pid: r[0] for pid, r in results.items()}, {pid: r[1] for pid, r in results.items()}


def portal_row(result: dict, pid: str) -> dict:
    for key in ("per_portal", "portals"):
        table = result.get(key)
        if isinstance(table, dict) and pid in table:
            return table[pid]
        if isinstance(table, list):
            for row in table:
                if row.get("portal") == pid or row.get("id") == pid:
                    return row
    return {}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--portal", action="append")
    ap.add_argument("--keep", type=Path, default=Path("/tmp/nianbao-farmdev"))
    ap.add_argument("--parallel", type=int, default=3)
    args = ap.parse_args(argv)
    scores, outcomes = run(args.portal, args.keep, parallel=args.parallel)
    for pid, result in scores.items():
        row = portal_row(result, pid)
        print(pid, f"exit={outcomes[pid]['returncode']}", f"{outcomes[pid]['seconds']}s",
              json.dumps({k: v for k, v in row.items() if not isinstance(v, (list, dict))}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
