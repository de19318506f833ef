"""Session fixtures for real services: SeaweedFS (S3), PostgreSQL, Redis.

A missing service skips its tests on a developer machine, but fails them when the
environment variable CI is set: in CI a skipped integration test is a silent hole.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

PG_ADMIN_URL = os.environ.get("NIANBAO_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
# One Redis db per pytest-xdist worker (gw0 -> 13, gw1 -> 14): each test flushes its own.
_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").lstrip("gw") or 0)
REDIS_URL = os.environ.get("NIANBAO_TEST_REDIS", f"redis://127.0.0.1:6379/{13 + _WORKER % 3}")

S3_ACCESS_KEY = "nianbao-test"
S3_SECRET_KEY = "nianbao-test-secret"


def _unavailable(what: str) -> None:
    """Skip locally, fail in CI."""
    if os.environ.get("CI"):
        pytest.fail(f"{what} is not available, and CI is set", pytrace=False)
    pytest.skip(f"{what} is not available")


def _free_ports(n: int) -> list[int]:
    """n distinct free loopback ports, held open together so none repeats.

    Ports above 55535 are refused: SeaweedFS would derive gRPC ports as port+10000.
    (We pass gRPC ports explicitly, but a stray default must not overflow either.)
    """
    socks: list[socket.socket] = []
    ports: list[int] = []
    try:
        while len(ports) < n:
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
            socks.append(s)
            if port < 55535:
                ports.append(port)
    finally:
        for s in socks:
            s.close()
    return ports


def _weed_binary() -> str | None:
    here = Path(sys.executable).parent / "weed"
    if here.exists():
        return str(here)
    return shutil.which("weed")


@dataclass(frozen=True)
class SeaweedFS:
    endpoint: str
    access_key: str
    secret_key: str
    region: str = "us-east-1"

    def client(self):
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=self.region,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            config=Config(retries={"max_attempts": 2}, s3={"addressing_style": "path"}),
        )


def _s3_ready(endpoint: str) -> bool:
    """True once the S3 gateway answers a signed ListBuckets."""
    try:
        SeaweedFS(endpoint, S3_ACCESS_KEY, S3_SECRET_KEY).client().list_buckets()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory) -> Iterator[SeaweedFS]:
    weed = _weed_binary()
    if weed is None:
        _unavailable("SeaweedFS (weed binary)")
    root = tmp_path_factory.mktemp("seaweedfs")
    config = root / "s3.json"
    config.write_text(
        json.dumps(
            {
                "identities": [
                    {
                        "name": "admin",
                        "credentials": [{"accessKey": S3_ACCESS_KEY, "secretKey": S3_SECRET_KEY}],
                        "actions": ["Admin", "Read", "List", "Tagging", "Write"],
                    }
                ]
            }
        )
    )
    data = root / "data"
    data.mkdir()
    (master, master_g, volume, volume_g, filer, filer_g, s3, s3_g) = _free_ports(8)
    args = [
        weed, "server",
        "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
        f"-dir={data}",
        f"-master.port={master}", f"-master.port.grpc={master_g}",
        "-master.volumeSizeLimitMB=64",
        f"-volume.port={volume}", f"-volume.port.grpc={volume_g}",
        "-volume.max=0",
        "-filer", f"-filer.port={filer}", f"-filer.port.grpc={filer_g}",
        f"-filer.localSocket={root / 'filer.sock'}",
        "-s3", f"-s3.port={s3}", f"-s3.port.grpc={s3_g}",
        f"-s3.config={config}",
        # Side services with fixed default ports would clash between parallel runs.
        "-s3.port.iceberg=0", "-s3.port.lance=0",
    ]
    log = open(root / "weed.log", "wb")
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, cwd=root)
    endpoint = f"http://127.0.0.1:{s3}"
    deadline = time.monotonic() + 60
    try:
        while not _s3_ready(endpoint):
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                tail = (root / "weed.log").read_text(errors="replace")[-3000:]
                pytest.fail(f"SeaweedFS did not start (exit {proc.poll()}):\n{tail}", pytrace=False)
            time.sleep(0.3)
        yield SeaweedFS(endpoint, S3_ACCESS_KEY, S3_SECRET_KEY)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture
def s3_env(seaweedfs, monkeypatch) -> SeaweedFS:
    """Credentials in the boto3 environment, for this test only."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", seaweedfs.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", seaweedfs.secret_key)
    monkeypatch.setenv("AWS_DEFAULT_REGION", seaweedfs.region)
    return seaweedfs


@pytest.fixture
def s3_url(s3_env) -> Iterator[str]:
    """An s3:// store URL on a fresh, empty bucket; the bucket is emptied and removed after."""
    bucket = f"t-{uuid.uuid4().hex[:16]}"
    client = s3_env.client()
    client.create_bucket(Bucket=bucket)
    yield f"s3://{bucket}/archive?endpoint={s3_env.endpoint}&region={s3_env.region}"
    try:
        paginator = client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket):
            for obj in page.get("Contents", []):
                client.delete_object(Bucket=bucket, Key=obj["Key"])
        client.delete_bucket(Bucket=bucket)
    except Exception:
        pass  # cleanup is best effort; a leftover bucket in a temp dir harms nobody


def _pg_admin():
    import psycopg

    try:
        return psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError:
        return None


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A SQLAlchemy URL to a fresh PostgreSQL database, dropped after the test."""
    admin = _pg_admin()
    if admin is None:
        _unavailable(f"PostgreSQL at {PG_ADMIN_URL}")
    name = f"nianbao_t_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    yield f"{base}/{name}"
    admin = _pg_admin()
    if admin is not None:
        with admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A Redis URL on a dedicated db number, flushed before and after the test."""
    try:
        import redis
    except ImportError:
        _unavailable("the redis client package")
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    try:
        client.flushdb()
    except redis.exceptions.ConnectionError:
        _unavailable(f"Redis at {REDIS_URL}")
    yield REDIS_URL
    try:
        client.flushdb()
    finally:
        client.close()


class Weed:
    """A SeaweedFS server of a test's own, on fixed ports, that the test may stop and restart
    (the session's `seaweedfs` fixture is shared, so stopping it would hurt other tests).

    data_dir: where the volumes and the filer's metadata live (default root/data), e.g. a small
    tmpfs the test fills; extra: more `weed server` flags (-volume.minFreeSpace=...)."""

    def __init__(self, root: Path, *, data_dir: Path | None = None, extra: list[str] | tuple = ()):
        self.root = root
        self.data_dir = data_dir or (root / "data")
        self.extra = list(extra)
        self.ports = _free_ports(8)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (root / "s3.json").write_text(json.dumps({"identities": [{
            "name": "admin", "credentials": [{"accessKey": S3_ACCESS_KEY, "secretKey": S3_SECRET_KEY}],
            "actions": ["Admin", "Read", "List", "Tagging", "Write"]}]}))
        self.proc = None
        self.endpoint = f"http://127.0.0.1:{self.ports[6]}"

    def start(self, timeout: float = 60) -> None:
        m, mg, v, vg, f, fg, s3, s3g = self.ports
        args = [_weed_binary(), "server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-dir={self.data_dir}",
                f"-master.port={m}", f"-master.port.grpc={mg}", "-master.volumeSizeLimitMB=64",
                f"-volume.port={v}", f"-volume.port.grpc={vg}", "-volume.max=0",
                "-filer", f"-filer.port={f}", f"-filer.port.grpc={fg}", f"-filer.localSocket={self.root / 'filer.sock'}",
                "-s3", f"-s3.port={s3}", f"-s3.port.grpc={s3g}", f"-s3.config={self.root / 's3.json'}",
                "-s3.port.iceberg=0", "-s3.port.lance=0", *self.extra]
        log = open(self.root / "weed.log", "ab")
        self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, cwd=self.root)
        log.close()
        deadline = time.monotonic() + timeout
        while not _s3_ready(self.endpoint):
            if self.proc.poll() is not None:
                raise AssertionError(f"SeaweedFS exited ({self.proc.returncode}): {self.log_tail()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for SeaweedFS to answer: {self.log_tail()}")
            time.sleep(0.2)

    def log_tail(self, n: int = 3000) -> str:
        try:
            return (self.root / "weed.log").read_text(errors="replace")[-n:]
        except OSError:
            return ""

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()               # an outage, not a shutdown
            self.proc.wait(timeout=30)

    def client(self):
        return SeaweedFS(self.endpoint, S3_ACCESS_KEY, S3_SECRET_KEY).client()
