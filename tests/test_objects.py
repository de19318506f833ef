"""The object store contract, run against the filesystem and a real SeaweedFS S3 gateway."""

from __future__ import annotations

import hashlib
import io
import os

import pytest

from storage.objects import (
    FilesystemStore,
    ObjectNotFound,
    ObjectStore,
    S3Store,
    StoreError,
    StoreKeyError,
    StoreUnavailable,
    StoreURLError,
    content_key,
    open_store,
    put_content,
    validate_key,
)


@pytest.fixture(params=["fs", pytest.param("s3", marks=pytest.mark.services)])
def store(request, tmp_path) -> ObjectStore:
    if request.param == "fs":
        return open_store(str(tmp_path / "store"))
    return open_store(request.getfixturevalue("s3_url"))


def test_is_an_object_store(store):
    assert isinstance(store, ObjectStore)


def test_put_get_round_trip(store):
    store.put("a/b/c.pdf", b"%PDF-1.4 hello", content_type="application/pdf")
    assert store.get("a/b/c.pdf") == b"%PDF-1.4 hello"
    assert store.exists("a/b/c.pdf")
    assert store.size("a/b/c.pdf") == 14
    with store.open("a/b/c.pdf") as f:
        assert f.read() == b"%PDF-1.4 hello"


def test_put_replaces(store):
    store.put("k", b"first version")
    store.put("k", b"second")
    assert store.get("k") == b"second"
    assert store.size("k") == 6


def test_put_from_stream_starts_where_the_caller_left_it(store):
    stream = io.BytesIO(b"HEADERbody bytes")
    stream.read(6)
    store.put("streamed", stream)
    assert store.get("streamed") == b"body bytes"


def test_put_from_unseekable_stream(store):
    payload = os.urandom(20_000)  # fits in a pipe buffer, so one thread can fill it first
    r, w = os.pipe()
    with open(w, "wb") as wf:
        wf.write(payload)
    with open(r, "rb", buffering=0) as rf:
        store.put("from-pipe", rf)
    assert store.get("from-pipe") == payload


def test_missing_object(store):
    assert not store.exists("nope/x")
    assert store.size("nope/x") is None
    with pytest.raises(ObjectNotFound, match="nope/x"):
        store.get("nope/x")
    with pytest.raises(ObjectNotFound):
        store.open("nope/x")
    store.delete("nope/x")  # deleting what is not there is fine


def test_delete(store):
    store.put("d/x", b"1")
    store.delete("d/x")
    assert not store.exists("d/x")
    assert list(store.keys()) == []


def test_keys_with_prefix(store):
    for key in ["sha256/aa/x", "sha256/ab/y", "warc/1.warc.gz", "z"]:
        store.put(key, b"v")
    assert sorted(store.keys()) == ["sha256/aa/x", "sha256/ab/y", "warc/1.warc.gz", "z"]
    assert sorted(store.keys("sha256/")) == ["sha256/aa/x", "sha256/ab/y"]
    assert sorted(store.keys("sha256/aa")) == ["sha256/aa/x"]
    assert list(store.keys("none/")) == []


def test_uri_names_backend_and_key(store):
    uri = store.uri("sha256/aa/bb/x")
    assert uri.startswith(("file:///", "s3://"))
    assert uri.endswith("/sha256/aa/bb/x")


def test_put_content_is_content_addressed_and_skips_verified_existing(store, monkeypatch):
    data = b"annual report 2023"
    sha = hashlib.sha256(data).hexdigest()
    key, got_sha, size = put_content(store, data, content_type="text/plain")
    assert (key, got_sha, size) == (f"sha256/{sha[:2]}/{sha[2:4]}/{sha}", sha, len(data))
    assert store.get(key) == data
    # A second put of the same bytes reads the object, finds it right, and does not write.
    writes = []
    real_put = store.put
    monkeypatch.setattr(store, "put", lambda *a, **kw: (writes.append(a[0]), real_put(*a, **kw)))
    put_content(store, data)
    assert writes == []
    # A truncated earlier write (wrong size) is repaired.
    real_put(key, b"short")
    put_content(store, data)
    assert store.get(key) == data and writes == [key]


def test_put_content_rewrites_a_same_size_corruption(store):
    """A rotten byte keeps the size: only the hash tells, and the object is written again."""
    data = b"annual report 2023"
    key, _, _ = put_content(store, data)
    store.put(key, b"annual rep0rt 2023")          # same size, other bytes
    assert put_content(store, data)[0] == key
    assert store.get(key) == data


def _fast_retries(monkeypatch, attempts=2):
    from storage import objects

    monkeypatch.setattr(objects, "RETRY_ATTEMPTS", attempts)
    monkeypatch.setattr(objects, "RETRY_WAIT", objects.wait_random_exponential(multiplier=0.01, max=0.02))


def test_put_whose_bytes_read_back_wrong_fails_and_keeps_the_old_object(store, monkeypatch):
    """The store reads back what it stored and compares with the hash it was promised."""
    _fast_retries(monkeypatch)
    store.put("v/k", b"old bytes")
    with pytest.raises(StoreError, match="reads back as sha256"):
        store.put("v/k", b"new bytes", sha256=hashlib.sha256(b"other bytes").hexdigest())
    if isinstance(store, FilesystemStore):
        assert store.get("v/k") == b"old bytes"       # verified before the rename
        assert [p.name for p in store.root.rglob(".tmp-*")] == []
    store.put("v/k", b"new bytes", sha256=hashlib.sha256(b"new bytes").hexdigest())
    assert store.get("v/k") == b"new bytes"


def test_filesystem_write_damaged_on_disk_is_written_again(tmp_path, monkeypatch):
    """A disk (or an NFS/FUSE mount) that damages the first write: the read-back from the device
    sees it and the next attempt lands well."""
    _fast_retries(monkeypatch, attempts=3)
    damaged = []
    real_fadvise = os.posix_fadvise

    def rot_first_write(fd, offset, length, advice):
        if not damaged:
            path = os.readlink(f"/proc/self/fd/{fd}")
            with open(path, "r+b") as f:
                f.write(b"R")
            damaged.append(path)
        return real_fadvise(fd, offset, length, advice)

    monkeypatch.setattr(os, "posix_fadvise", rot_first_write)
    store = FilesystemStore(tmp_path)
    key, _, _ = put_content(store, b"the report's bytes")
    assert damaged and store.get(key) == b"the report's bytes"


BAD_KEYS = [
    ("", "non-empty"),
    ("/abs/key", "absolute"),
    ("a/../b", r"'\.\.'"),
    ("..", r"'\.\.'"),
    ("a//b", "empty"),
    ("a/./b", "'.'"),
    ("trailing/", "empty"),
    ("back\\slash", "backslash"),
    ("nul\x00byte", "control"),
    ("new\nline", "control"),
    ("a/.tmp-123", "reserved"),
]


@pytest.mark.parametrize("key,message", BAD_KEYS)
def test_bad_keys_are_refused_by_every_operation(store, key, message):
    with pytest.raises(StoreKeyError, match=message):
        validate_key(key)
    for op in (lambda: store.put(key, b"x"), lambda: store.get(key), lambda: store.exists(key),
               lambda: store.size(key), lambda: store.delete(key), lambda: store.uri(key)):
        with pytest.raises(StoreKeyError):
            op()
    assert list(store.keys()) == []


@pytest.mark.parametrize("key", ["a", "sha256/ab/cd/" + "0" * 64, "年报/2023 年.pdf", "a.b/c-d_e~f"])
def test_good_keys(key):
    assert validate_key(key) == key


@pytest.mark.parametrize("sha", ["", "ABC", "0" * 63, "A" * 64, "g" * 64, "0" * 65])
def test_content_key_rejects_non_sha256(sha):
    with pytest.raises(StoreKeyError, match="SHA-256"):
        content_key(sha)


class Boom(Exception):
    pass


class FailingStream(io.RawIOBase):
    """Yields some bytes, then fails: a download dying half-way."""

    def __init__(self):
        self.sent = False

    def readable(self):
        return True

    def seekable(self):
        return False

    def read(self, n=-1):
        if not self.sent:
            self.sent = True
            return b"partial bytes" * 1000
        raise Boom("connection lost mid-body")


def test_failed_write_leaves_nothing(store):
    with pytest.raises(Boom):
        store.put("atomic/x", FailingStream())
    assert not store.exists("atomic/x")
    assert list(store.keys()) == []


def test_failed_overwrite_keeps_the_old_object(store):
    store.put("atomic/y", b"old")
    with pytest.raises(Boom):
        store.put("atomic/y", FailingStream())
    assert store.get("atomic/y") == b"old"


def test_filesystem_failed_write_leaves_no_temp_file(tmp_path):
    store = FilesystemStore(tmp_path)
    with pytest.raises(Boom):
        store.put("a/b", FailingStream())
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == []


def test_filesystem_ignores_abandoned_temp_files(tmp_path):
    store = FilesystemStore(tmp_path)
    store.put("a/b", b"1")
    (tmp_path / "a" / ".tmp-abandoned").write_bytes(b"half")
    assert list(store.keys()) == ["a/b"]


@pytest.mark.parametrize(
    "url,kind,expect",
    [
        ("/tmp/nianbao-store", FilesystemStore, "file:///tmp/nianbao-store"),
        ("file:///tmp/nianbao-store", FilesystemStore, "file:///tmp/nianbao-store"),
        ("file://localhost/tmp/x", FilesystemStore, "file:///tmp/x"),
        ("s3://bucket/pre/fix?endpoint=http://127.0.0.1:1&region=us-east-1", S3Store,
         "s3://bucket/pre/fix?endpoint=http://127.0.0.1:1&region=us-east-1"),
        ("s3://bucket", S3Store, "s3://bucket/"),
    ],
)
def test_open_store_by_url(url, kind, expect):
    store = open_store(url)
    assert isinstance(store, kind)
    assert store.url == expect


def test_bare_relative_path_is_made_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    store = open_store("data/objects")
    assert store.url == (tmp_path / "data" / "objects").as_uri()


@pytest.mark.parametrize(
    "url,message",
    [
        ("ftp://host/x", "unknown store URL scheme 'ftp'"),
        ("gs://bucket/x", "unknown store URL scheme 'gs'"),
        ("", "non-empty"),
        ("file://otherhost/x", "names a host"),
        ("s3:///prefix", "no bucket"),
        ("s3://b/p?endpoint=127.0.0.1:9000", "endpoint must be http"),
        ("s3://b/p?endpont=http://x", "unknown parameters"),
        ("s3://b/a/../b", "bad prefix"),
    ],
)
def test_bad_store_urls(url, message):
    with pytest.raises(StoreURLError, match=message) as info:
        open_store(url)
    if url:
        assert url in str(info.value)


def test_s3_store_creates_bucket_when_asked(s3_env):
    import uuid

    bucket = f"c-{uuid.uuid4().hex[:12]}"
    url = f"s3://{bucket}/p?endpoint={s3_env.endpoint}&region={s3_env.region}&create=1"
    store = open_store(url)
    store.put("k", b"v")
    assert store.get("k") == b"v"
    open_store(url)  # a second time: the bucket exists, no error
    assert s3_env.client().get_object(Bucket=bucket, Key="p/k")["Body"].read() == b"v"


def test_s3_unreachable_endpoint_is_retried_then_reported(monkeypatch):
    import socket

    from storage import objects

    monkeypatch.setattr(objects, "RETRY_ATTEMPTS", 2)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "y")
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens here now
    store = open_store(f"s3://b/p?endpoint=http://127.0.0.1:{port}&region=us-east-1")
    with pytest.raises(StoreUnavailable, match="after 2 attempts"):
        store.put("k", b"v")


def test_s3_credentials_error_is_not_retried(seaweedfs, monkeypatch):
    from botocore.exceptions import ClientError

    from storage import objects

    calls = []
    monkeypatch.setattr(objects, "RETRY_ATTEMPTS", 3)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "wrong")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrong")
    store = open_store(f"s3://b/p?endpoint={seaweedfs.endpoint}&region=us-east-1")
    store.client.meta.events.register("before-call.s3.PutObject", lambda **kw: calls.append(1))
    with pytest.raises(ClientError) as info:
        store.put("k", b"v")
    # SeaweedFS answers an unknown key with 400 InvalidAccessKeyId, AWS with 403: both permanent.
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] in (400, 403)
    assert len(calls) == 1


def test_storage_package_knows_nothing_of_scrapy():
    """docs/design.md: storage/ knows nothing of Scrapy. Import every module and look."""
    import subprocess
    import sys

    code = (
        "import pkgutil, importlib, sys, storage\n"
        "for m in pkgutil.walk_packages(storage.__path__, 'storage.'):\n"
        "    if '.migrations' not in m.name: importlib.import_module(m.name)\n"
        "bad = sorted(n for n in sys.modules if n.split('.')[0] in ('scrapy', 'twisted', 'crawler', 'spiders'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


@pytest.mark.services
def test_s3_large_stream_goes_multipart_and_stays_open(s3_url, monkeypatch):
    from storage import objects

    monkeypatch.setattr(objects, "MULTIPART_THRESHOLD", 1024 * 1024)
    store = open_store(s3_url)
    payload = os.urandom(6 * 1024 * 1024)
    stream = io.BytesIO(payload)
    store.put("big/object.bin", stream)
    assert not stream.closed  # boto3 closes what it uploads; the caller's stream is not ours
    assert store.size("big/object.bin") == len(payload)
    assert hashlib.sha256(store.get("big/object.bin")).digest() == hashlib.sha256(payload).digest()


class ScriptedS3:
    """A loopback HTTP server answering each request with the next scripted status.

    Real sockets and real botocore parsing; only the server's answers are chosen,
    to show which statuses are retried and which are not.
    """

    def __init__(self, statuses):
        import http.server
        import threading

        self.statuses = list(statuses)
        self.seen = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                outer.seen.append(self.command)
                status = outer.statuses.pop(0) if outer.statuses else 200
                body = b"" if status == 200 else (
                    f"<Error><Code>{'SlowDown' if status == 503 else 'AccessDenied'}</Code>"
                    f"<Message>scripted</Message></Error>").encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("ETag", '"x"')
                self.end_headers()
                self.wfile.write(body)

            do_PUT = do_GET = do_HEAD = _answer

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize(
    "statuses,attempts,outcome",
    [
        ([200], 1, None),
        ([503, 500, 200], 3, None),          # throttled, then a server error, then fine
        ([503] * 5, 3, StoreUnavailable),    # never recovers within the bound
        ([403], 1, "ClientError"),           # permission: permanent, not retried
        ([400], 1, "ClientError"),
    ],
)
def test_s3_put_retries_transient_statuses_only(statuses, attempts, outcome, monkeypatch):
    from storage import objects

    monkeypatch.setattr(objects, "RETRY_ATTEMPTS", 3)
    monkeypatch.setattr(objects, "RETRY_WAIT", objects.wait_random_exponential(multiplier=0.01, max=0.05))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "y")
    server = ScriptedS3(statuses)
    try:
        store = open_store(f"s3://bucket/p?endpoint={server.endpoint}&region=us-east-1")
        if outcome is None:
            store.put("k", b"v")
        elif outcome is StoreUnavailable:
            with pytest.raises(StoreUnavailable, match="after 3 attempts"):
                store.put("k", b"v")
        else:
            from botocore.exceptions import ClientError

            with pytest.raises(ClientError) as info:
                store.put("k", b"v")
            assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == statuses[0]
        assert server.seen == ["PUT"] * attempts
    finally:
        server.close()
