"""Seeded chaos on the simulator, with a SeaweedFS store: the machinery of tests/test_chaos.py and
`python -m bench chaos`.

One seed is one story. `random.Random(seed)` draws 1 or 2 faulted harvest attempts, each with
1-3 faults at random points (after a random number of captures, polled from the SQLite
catalogue): the archiving process(es) SIGKILLed, SeaweedFS killed and started again after a
random delay, the store's disk filled (SeaweedFS's data directory is a tmpfs of its own; a
filler file takes every free byte, then is deleted after a random while), SIGINT once or twice
quickly, SIGKILL of the whole crawl. Then plain reruns (the same command, no --revisit-all)
until one exits 0 with every run of it closed "ok", at most `max_reruns` of them.

The archive left is then compared with a clean harvest of the same world (its own SeaweedFS
bucket and catalogue): the same reports, the same hashes for the truth files, fsck clean (every
capture's object present and hashing right, its WARC record readable, no orphans), no run left
running, nothing owed, no lease held.

Faults are applied one after another (a disk filled and freed, a server restarted and up again,
before the next fault's point is waited for): what is random is where they land in the crawl.
"""
from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import simulator
from storage.catalogue import Catalogue
from storage.maintenance import fsck
from storage.objects import open_store
from tests.harness import REPO, write_sites
from tests.hostile_server import crawl_env, wrapper_command
from tests.services import S3_ACCESS_KEY, S3_SECRET_KEY, Weed, _weed_binary

FAMILIES = {"hanweb", "trs", "static"}
POLITE = {"politeness": {"delay": 0.3, "concurrency": 1}}
KINDS = ("kill_archiver", "store_restart", "disk_full", "sigint", "sigint_twice", "sigkill")
TERMINAL = {"sigint", "sigint_twice", "sigkill"}      # the crawl ends with these
OUTAGE_WAIT = 60            # NIANBAO_STORE_OUTAGE_WAIT of every crawl (default 300: too long here)
ATTEMPT_TIMEOUT = 300       # a crawl still running after this is a hang: killed, and a problem
DISK_MB = 128               # the tmpfs under each chaos SeaweedFS
AWS = {"AWS_ACCESS_KEY_ID": S3_ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": S3_SECRET_KEY}


def available() -> str | None:
    """Why chaos cannot run here, or None."""
    if _weed_binary() is None:
        return "SeaweedFS (weed binary) is not available"
    return None


# ---- reading the catalogue while a crawl writes it --------------------------------------------

def count(catalogue_path: Path, table: str) -> int:
    if not catalogue_path.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{catalogue_path}?mode=ro", uri=True, timeout=1) as db:
            return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    except sqlite3.Error:
        return 0


def archiver_pids(crawl_pid: int) -> list[int]:
    """Archiving processes (multiprocessing spawn children) in the crawl's process group."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes()
            pgid = os.getpgid(int(entry))
        except (OSError, ProcessLookupError):
            continue
        if pgid == crawl_pid and b"multiprocessing" in cmd and b"spawn_main" in cmd:
            found.append(int(entry))
    return found


# ---- the plan --------------------------------------------------------------------------------

@dataclass
class Fault:
    kind: str
    after: int                      # captures of this attempt before it strikes
    pause: float = 0.0              # store_restart: seconds down; disk_full: seconds full (past the store
                                    # client's own retries, ~3 s); sigint_twice: gap
    applied: bool = False
    note: str = ""

    def describe(self) -> str:
        state = "applied" if self.applied else "not applied"
        extra = f" ({self.note})" if self.note else ""
        return f"{self.kind}@{self.after} {state}{extra}"


def plan(seed: int, clean_captures: int) -> list[list[Fault]]:
    """The faulted attempts of a seed: 1 or 2, each 1-3 faults sorted by where they strike
    (clean_captures: the pages and files a clean harvest captures); a terminal fault (SIGINT,
    SIGKILL) ends its attempt, so it is drawn last, at most once. A point past the crawl's own
    captures lands while the text renditions are made, after the spiders closed."""
    rng = random.Random(seed)
    attempts = []
    for n in range(rng.choice((1, 1, 2))):
        # The first attempt is a full harvest; a rerun after it archives far fewer files.
        span = max(4, int(clean_captures * (1.0 if n == 0 else 0.2)))
        faults = []
        for _ in range(rng.randint(1, 3)):
            kind = rng.choice(KINDS)
            if kind in TERMINAL and any(f.kind in TERMINAL for f in faults):
                kind = rng.choice([k for k in KINDS if k not in TERMINAL])
            pause = {"store_restart": rng.uniform(1, 8), "disk_full": rng.uniform(5, 20),
                     "sigint_twice": rng.uniform(0.05, 1.0)}.get(kind, 0.0)
            faults.append(Fault(kind, rng.randint(2, span), round(pause, 2)))
        faults.sort(key=lambda f: (f.kind in TERMINAL, f.after))
        terminal = [f for f in faults if f.kind in TERMINAL]
        if terminal:          # the terminal fault strikes after every other one
            terminal[0].after = max(terminal[0].after, *(f.after for f in faults))
        attempts.append(faults)
    return attempts


# ---- a store whose disk can fill ---------------------------------------------------------------

class FillableWeed(Weed):
    """SeaweedFS with its data directory on a tmpfs of its own (root can mount one here)."""

    def __init__(self, root: Path, *, disk_mb: int = DISK_MB):
        self.mounted = False
        self.mount_note = ""
        data = root / "data"
        data.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={disk_mb}m", "tmpfs", str(data)],
                              capture_output=True, text=True)
        if done.returncode == 0:
            self.mounted = True
        else:
            self.mount_note = f"cannot mount a tmpfs: {done.stderr.strip() or done.returncode}"
        super().__init__(root, data_dir=data)
        self.filler = data / "filler"

    def fill(self) -> int:
        """Take every free byte of the disk: bytes written."""
        written = 0
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            for size in (1 << 20, 4096):      # megabytes, then the last partial one
                block = b"\0" * size
                while True:
                    try:
                        n = os.write(fd, block)
                    except OSError:
                        break
                    written += n
                    if n < size:
                        break
        finally:
            os.close(fd)
        return written

    def free(self) -> None:
        try:
            self.filler.unlink()
        except FileNotFoundError:
            pass

    def close(self) -> None:
        self.stop()
        if self.mounted:
            subprocess.run(["umount", "-l", str(self.data_dir)], capture_output=True)
            self.mounted = False


# ---- one crawl in a child process -------------------------------------------------------------

@dataclass
class Attempt:
    label: str
    code: int | None
    seconds: float
    faults: list[Fault] = field(default_factory=list)
    outcomes: list[str] = field(default_factory=list)    # of the runs this attempt opened
    stderr_tail: str = ""


class Crawl:
    def __init__(self, args: list[str], env: dict, log: Path, *, outage_wait: float | None = None):
        self.log = log
        self.err = open(log, "w")
        patches = {"NIANBAO_STORE_OUTAGE_WAIT": OUTAGE_WAIT if outage_wait is None else outage_wait}
        self.proc = subprocess.Popen(wrapper_command(args, patches),
                                     cwd=REPO, env=crawl_env(env), text=True, stdout=subprocess.DEVNULL,
                                     stderr=self.err, start_new_session=True)
        self.started = time.monotonic()

    def signal(self, sig: int) -> None:
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            pass

    def alive(self) -> bool:
        return self.proc.poll() is None

    def wait(self, timeout: float) -> int | None:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def finish(self) -> str:
        """Kill what is left of the process group, close the log, return the stderr text."""
        self.signal(signal.SIGKILL)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        self.err.close()
        return self.log.read_text(errors="replace")


# ---- one archive: a SeaweedFS bucket and a SQLite catalogue ----------------------------------

class Archive:
    def __init__(self, root: Path, weed: Weed, bucket: str, sites: Path, proxy: str):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.weed = weed
        self.catalogue_path = root / "catalogue.sqlite"
        self.catalogue_url = f"sqlite:///{self.catalogue_path}"
        self.store_url = f"s3://{bucket}/archive?endpoint={weed.endpoint}&region=us-east-1"
        self.probe_url = f"s3://{bucket}/chaos-probe?endpoint={weed.endpoint}&region=us-east-1"
        self.env = dict(AWS, NIANBAO_SPOOL=str(root / "spool"), NIANBAO_DATA=str(root / "data"))
        self.args = ["crawl", "--all", "--sites-dir", str(sites), "--proxy", proxy, "--render", "never",
                     "--max-bytes", "2000000", "--catalogue", self.catalogue_url, "--store", self.store_url]
        weed.client().create_bucket(Bucket=bucket)
        self.logs = 0

    def crawl(self, *, outage_wait: float | None = None) -> Crawl:
        self.logs += 1
        return Crawl(self.args, self.env, self.root / f"crawl-{self.logs}.log", outage_wait=outage_wait)

    def captures(self) -> int:
        return count(self.catalogue_path, "capture")

    def max_run_id(self) -> int:
        if not self.catalogue_path.exists():
            return 0
        try:
            with sqlite3.connect(f"file:{self.catalogue_path}?mode=ro", uri=True, timeout=5) as db:
                return db.execute("SELECT coalesce(max(id), 0) FROM crawl_run").fetchone()[0]
        except sqlite3.Error:
            return 0

    def catalogue(self) -> Catalogue:
        return Catalogue.open(self.catalogue_url)

    def store(self):
        for k, v in AWS.items():          # boto3 reads credentials from the environment
            os.environ.setdefault(k, v)
        return open_store(self.store_url)


def snapshot(archive: Archive, truth_files: dict[str, str]) -> dict:
    """What two archives must agree on."""
    cat = archive.catalogue()
    reports = {(r.site_id, r.agency, r.year, r.url, r.removed_at is None) for r in cat.reports()}
    captures = cat.captures()
    hashes = {c.sha256 for c in captures}
    return {"reports": reports, "truth_hashes": {sha for sha in truth_files.values() if sha in hashes},
            "captures": len(captures),
            # pages and files: what the crawl archives (text renditions are made after it)
            "primary": sum(c.kind in ("page", "attachment") for c in captures),
            "texts": {c.sha256 for c in captures if c.kind == "text"}}


# ---- the clean harvest -----------------------------------------------------------------------

@dataclass
class Stage:
    """What every seed of one session shares: the world, its server, the site files, the clean
    archive's snapshot."""
    world: object
    proxy: str
    sites: Path
    truth_files: dict[str, str]
    clean: dict
    clean_seconds: float
    clean_problems: list[str]


def truth_files(world, families=FAMILIES) -> dict[str, str]:
    sites = {p.site_id for p in world.portals if p.family in families}
    return {url: sha for t in world.truth if t.site_id in sites for url, sha in t.sha256.items()}


def clean_harvest(world, proxy: str, root: Path, *, families=FAMILIES, overrides=POLITE) -> Stage:
    root.mkdir(parents=True, exist_ok=True)
    sites = root / "sites"
    write_sites(world, sites, families=families, overrides=overrides)
    weed = Weed(root / "weed-clean")
    weed.start()
    problems = []
    try:
        archive = Archive(root / "clean", weed, "clean", sites, proxy)
        t0 = time.monotonic()
        crawl = archive.crawl()
        code = crawl.wait(ATTEMPT_TIMEOUT)
        err = crawl.finish()
        seconds = time.monotonic() - t0
        if code != 0:
            problems.append(f"clean harvest exited {code}: {err[-2000:]}")
        truth = truth_files(world, families)
        clean = snapshot(archive, truth)
        report = fsck(archive.catalogue(), archive.store())
        if not report.ok:
            problems.append(f"clean harvest fsck: {report.summary()}")
        if clean["truth_hashes"] != set(truth.values()):
            problems.append(f"clean harvest lacks {len(set(truth.values()) - clean['truth_hashes'])} truth files")
    finally:
        weed.stop()
    return Stage(world, proxy, sites, truth, clean, seconds, problems)


# ---- one seed ----------------------------------------------------------------------------------

@dataclass
class SeedResult:
    seed: int
    attempts: list[Attempt] = field(default_factory=list)
    reruns: int = 0                       # plain reruns after the faulted attempts
    ok: bool = False                      # a rerun ended "ok" within the bound
    equal: bool = False                   # the final archive equals the clean one
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def faults(self) -> list[Fault]:
        return [f for a in self.attempts for f in a.faults]

    def applied(self) -> Counter:
        return Counter(f.kind for f in self.faults if f.applied)

    def lines(self) -> list[str]:
        out = [f"seed {self.seed}: {len(self.attempts) - self.reruns} faulted attempt(s), "
               f"{self.reruns} plain rerun(s), ok={self.ok}, equal to clean={self.equal}, {self.seconds:.0f}s"]
        for a in self.attempts:
            faults = "; ".join(f.describe() for f in a.faults) or "no faults"
            out.append(f"  {a.label}: exit {a.code} in {a.seconds:.0f}s, runs {','.join(a.outcomes) or '-'}: {faults}")
        out += [f"  note: {n}" for n in self.notes]
        out += [f"  PROBLEM: {p}" for p in self.problems]
        return out


def _apply(fault: Fault, crawl: Crawl, weed: FillableWeed, archive: Archive) -> None:
    if fault.kind == "kill_archiver":
        pids = archiver_pids(crawl.proc.pid)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        fault.applied = bool(pids)
        fault.note = f"{len(pids)} killed" if pids else "no archiving process found"
    elif fault.kind == "store_restart":
        weed.stop()
        time.sleep(fault.pause)
        weed.start()
        fault.applied = True
        fault.note = f"down {fault.pause:.1f}s"
    elif fault.kind == "disk_full":
        if not weed.mounted:
            fault.note = f"skipped: {weed.mount_note}"
            return
        written = weed.fill()
        refused = _probe_put_refused(archive)
        time.sleep(fault.pause)
        weed.free()
        fault.applied = True
        fault.note = (f"full {fault.pause:.1f}s ({written >> 20} MB filler), "
                      f"probe put {'refused' if refused else 'ACCEPTED'}")
    elif fault.kind == "sigint":
        crawl.signal(signal.SIGINT)
        fault.applied = True
    elif fault.kind == "sigint_twice":
        crawl.signal(signal.SIGINT)
        time.sleep(fault.pause)
        crawl.signal(signal.SIGINT)
        fault.applied = True
        fault.note = f"{fault.pause:.2f}s apart"
    elif fault.kind == "sigkill":
        crawl.signal(signal.SIGKILL)
        fault.applied = True
    else:
        raise ValueError(fault.kind)


def _probe_put_refused(archive: Archive) -> bool:
    """With the disk full, a put beside the archive (its own prefix: never an orphan of it)
    must fail, or the disk-full fault tests nothing."""
    from storage.objects import StoreError

    for k, v in AWS.items():          # boto3 reads credentials from the environment
        os.environ.setdefault(k, v)
    store = open_store(archive.probe_url)
    key = f"probe/{os.urandom(8).hex()}"
    try:
        store.put(key, os.urandom(200_000))
    except StoreError:
        return True
    except Exception:       # noqa: BLE001 - any refusal will do
        return True
    try:
        store.delete(key)
    except Exception:       # noqa: BLE001
        pass
    return False


def _traceback(err: str, limit: int = 1500) -> str:
    """The first traceback of a log: the line before it (what failed) and its last frames."""
    lines = err[:err.index("Traceback")].splitlines()[-1:]
    block = []
    for line in err[err.index("Traceback"):].splitlines()[1:]:
        if line[:4].isdigit() and line[4:5] == "-":        # the next log line
            break
        block.append(line)
    text = "\n".join(lines + ["..."] + block)
    return text if len(text) <= limit else text[:300] + "\n...\n" + text[-(limit - 300):]


def _run_attempt(label: str, faults: list[Fault], archive: Archive, weed: FillableWeed,
                 result: SeedResult) -> Attempt:
    before = archive.max_run_id()
    base = archive.captures()
    crawl = archive.crawl()
    attempt = Attempt(label, None, 0.0, faults)
    hung = False
    try:
        for fault in faults:
            while crawl.alive() and archive.captures() - base < fault.after:
                if time.monotonic() - crawl.started > ATTEMPT_TIMEOUT:
                    break
                time.sleep(0.2)
            if not crawl.alive():
                fault.note = "run ended before its point"
                continue
            if time.monotonic() - crawl.started > ATTEMPT_TIMEOUT:
                break
            _apply(fault, crawl, weed, archive)
            if fault.kind in TERMINAL:
                break
        left = ATTEMPT_TIMEOUT - (time.monotonic() - crawl.started)
        attempt.code = crawl.wait(max(left, 60 if any(f.kind in TERMINAL and f.applied for f in faults) else 1))
        hung = attempt.code is None
    finally:
        if not weed.running:           # never leave the store down for the next attempt
            weed.start()
        weed.free()
        err = crawl.finish()
    attempt.seconds = time.monotonic() - crawl.started
    attempt.stderr_tail = err[-3000:]
    if hung:
        result.problems.append(f"{label}: still running after {ATTEMPT_TIMEOUT}s (killed): {err[-1500:]}")
    killed = any(f.kind == "sigkill" and f.applied for f in faults)
    if "Traceback" in err:
        result.problems.append(f"{label}: traceback: {_traceback(err)}")
    if not killed and not hung and attempt.code not in (0, 4):
        result.problems.append(f"{label}: exit {attempt.code}: {err[-1500:]}")
    cat = archive.catalogue()
    attempt.outcomes = [r.outcome for r in sorted(cat.runs(limit=1000), key=lambda r: r.id) if r.id > before]
    if not killed and not hung:
        left_open = [o for o in attempt.outcomes if o == "running"]
        if left_open:
            result.problems.append(f"{label}: {len(left_open)} run(s) left running after the crawl exited")
        if attempt.code == 0 and cat.owed():
            result.problems.append(f"{label}: exit 0 with {len(cat.owed())} files owed")
    return attempt


def run_seed(seed: int, stage: Stage, root: Path, *, max_reruns: int = 6) -> SeedResult:
    t0 = time.monotonic()
    result = SeedResult(seed)
    root.mkdir(parents=True, exist_ok=True)
    weed = FillableWeed(root / "weed")
    if not weed.mounted:
        result.notes.append(f"disk_full faults skipped: {weed.mount_note}")
    try:
        weed.start()
        archive = Archive(root, weed, f"chaos-{seed}", stage.sites, stage.proxy)
        for n, faults in enumerate(plan(seed, stage.clean["primary"])):
            result.attempts.append(_run_attempt(f"faulted attempt {n + 1}", faults, archive, weed, result))
        for n in range(max_reruns):
            attempt = _run_attempt(f"rerun {n + 1}", [], archive, weed, result)
            result.attempts.append(attempt)
            result.reruns += 1
            if attempt.code == 0 and attempt.outcomes and all(o == "ok" for o in attempt.outcomes):
                result.ok = True
                break
        if not result.ok:
            result.problems.append(f"no rerun ended ok within {max_reruns}: last exit {result.attempts[-1].code}, "
                                   f"runs {result.attempts[-1].outcomes}: {result.attempts[-1].stderr_tail[-1500:]}")
        result.problems += compare(archive, stage, result.notes)
        result.equal = not any(p.startswith("archive:") for p in result.problems)
    finally:
        weed.close()
        result.seconds = time.monotonic() - t0
    return result


def compare(archive: Archive, stage: Stage, notes: list[str] | None = None) -> list[str]:
    """The final archive against the clean one; problems prefixed "archive:"."""
    problems = []
    notes = notes if notes is not None else []
    got = snapshot(archive, stage.truth_files)
    want = stage.clean
    if got["reports"] != want["reports"]:
        problems.append(f"archive: reports differ: missing {sorted(want['reports'] - got['reports'])[:5]}, "
                        f"extra {sorted(got['reports'] - want['reports'])[:5]}")
    if got["truth_hashes"] != want["truth_hashes"]:
        lost = {u for u, s in stage.truth_files.items() if s in want["truth_hashes"] - got["truth_hashes"]}
        problems.append(f"archive: {len(lost)} truth files lost: {sorted(lost)[:5]}")
    if got["texts"] != want["texts"]:
        # Not a loss: renditions are derived, made after each crawl for its own runs; a run cut
        # short leaves them to `nianbao texts` (crawler/renditions.py says so).
        notes.append(f"{len(want['texts'] - got['texts'])} text renditions of the clean archive not made "
                     f"(runs cut short; `nianbao texts` makes them)")
    cat = archive.catalogue()
    report = fsck(cat, archive.store())
    if not report.ok:
        problems.append(f"archive: fsck: {report.summary()}: " + " | ".join(report.lines()[:8]))
    running = [(r.id, r.site_id) for r in cat.runs(limit=1000) if r.outcome == "running" or r.finished_at is None]
    if running:
        problems.append(f"archive: runs left running: {running}")
    owed = cat.owed()
    if owed:
        problems.append(f"archive: {len(owed)} files still owed: {[o['url'] for o in owed][:5]}")
    leases = count(archive.catalogue_path, "site_lease")
    if leases:
        problems.append(f"archive: {leases} lease rows left")
    return problems


# ---- several seeds -----------------------------------------------------------------------------

def serve_stage(tmp: Path, *, world=None):
    """A context: (stage, server) for a session of seeds; the clean harvest done once."""
    from contextlib import contextmanager

    @contextmanager
    def ctx():
        w = world or simulator.World(seed=0, size="tiny")
        with simulator.serve(w) as server:
            yield clean_harvest(w, server.proxy_url, tmp)

    return ctx()


def summary(results: list[SeedResult]) -> dict:
    kinds = Counter()
    for r in results:
        kinds.update(r.applied())
    reruns = [r.reruns for r in results]
    return {
        "seeds": [r.seed for r in results],
        "faults_by_kind": dict(sorted(kinds.items())),
        "reruns": reruns,
        "reruns_max": max(reruns, default=0),
        "reruns_mean": round(sum(reruns) / len(reruns), 2) if reruns else 0,
        "equal_to_clean": {r.seed: r.equal for r in results},
        "ok": {r.seed: r.ok for r in results},
        "problems": {r.seed: r.problems for r in results if r.problems},
        "seconds": {r.seed: round(r.seconds) for r in results},
    }


__all__ = ["FAMILIES", "KINDS", "Fault", "SeedResult", "Stage", "available", "clean_harvest", "plan",
           "run_seed", "serve_stage", "summary"]
