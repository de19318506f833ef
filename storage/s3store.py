"""The S3 backend of the object store (SeaweedFS in tests, any S3 in production).

Split from storage/objects.py, which keeps the protocol, keys, retries and the filesystem
backend; `storage.objects.S3Store` still names this class.
"""

from __future__ import annotations

from typing import BinaryIO, Callable, Iterator

from storage import objects
from storage.objects import (
    ObjectNotFound,
    StoreIntegrityError,
    StoreUnavailable,
    StoreURLError,
    T,
    _retrying,
    _rewindable,
    hash_stream,
    validate_key,
)

# --- S3 ---------------------------------------------------------------------------------

_S3_THROTTLE = {
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottled",
    "SlowDown", "RequestLimitExceeded", "TooManyRequestsException", "RequestTimeout",
    "InternalError", "ServiceUnavailable",
}


def _s3_transient(exc: BaseException) -> bool:
    from botocore.exceptions import ClientError, ConnectionError as BotoConnectionError, HTTPClientError

    if isinstance(exc, (BotoConnectionError, HTTPClientError)):
        return True  # refused, reset, timed out: the server may be back in a moment
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return status >= 500 or status == 429 or err.get("Code") in _S3_THROTTLE
    return False


def _s3_missing(exc: BaseException) -> bool:
    from botocore.exceptions import ClientError

    if not isinstance(exc, ClientError):
        return False
    code = exc.response.get("Error", {}).get("Code")
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return code in ("404", "NoSuchKey", "NotFound") or status == 404


class S3Store:
    """Objects in an S3 bucket under a key prefix. An S3 PUT is atomic by itself."""

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        client=None,
        create_bucket: bool = False,
    ):
        if not bucket:
            raise StoreURLError("S3 store needs a bucket name")
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        if self.prefix:
            validate_key(self.prefix)
        self.endpoint_url = endpoint_url
        self.region = region
        if client is None:
            import boto3
            from botocore.config import Config

            client = boto3.client(
                "s3",
                endpoint_url=endpoint_url,
                region_name=region,
                # One attempt per call: the retry policy is ours (_retrying), not botocore's,
                # so that it is the same for both backends and bounded in one place.
                config=Config(
                    retries={"total_max_attempts": 1, "mode": "standard"},
                    s3={"addressing_style": "path"} if endpoint_url else None,
                    connect_timeout=10,
                    read_timeout=60,
                ),
            )
        self.client = client
        query = "&".join(
            f"{k}={v}" for k, v in (("endpoint", endpoint_url), ("region", region)) if v
        )
        self.url = f"s3://{bucket}/{self.prefix}" + (f"?{query}" if query else "")
        if create_bucket:
            self.ensure_bucket()

    def __repr__(self) -> str:
        return f"S3Store({self.url!r})"

    def _key(self, key: str) -> str:
        validate_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        return _retrying(fn, transient=_s3_transient, what=f"{what} in {self.url}")

    def check(self) -> None:
        """Fail fast, before a crawl, when the bucket cannot be reached."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._call("head bucket", lambda: self.client.head_bucket(Bucket=self.bucket))
        except ClientError as exc:
            raise StoreUnavailable(f"bucket {self.bucket!r}: {exc.response.get('Error', {}).get('Code', exc)}") from None
        except BotoCoreError as exc:
            raise StoreUnavailable(f"bucket {self.bucket!r}: {exc}") from None

    def ensure_bucket(self) -> None:
        """Create the bucket unless it exists already."""
        from botocore.exceptions import ClientError

        try:
            self._call("head bucket", lambda: self.client.head_bucket(Bucket=self.bucket))
            return
        except ClientError as exc:
            if not _s3_missing(exc):
                raise
        try:
            self._call("create bucket", lambda: self.client.create_bucket(Bucket=self.bucket))
        except ClientError as exc:
            # Another worker created it between our HEAD and our CREATE.
            if exc.response.get("Error", {}).get("Code") not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise

    def put(self, key: str, data: bytes | BinaryIO, *, content_type: str | None = None,
            durable: bool = True, sha256: str | None = None) -> None:
        """sha256: the object is read back after the PUT and must hash to it, else it is written
        again (a bounded number of times). An S3 gateway in front of failing volumes (SeaweedFS,
        MinIO on a bad disk) acknowledges a PUT it then serves differently; only a read proves it."""
        full = self._key(key)     # S3 acknowledges a PUT once it is stored: always durable
        body = _rewindable(data)
        extra = {"ContentType": content_type} if content_type else {}

        def upload() -> None:
            send()
            if sha256 is not None:
                got, size = hash_stream(self._get_object(key)["Body"])
                if got != sha256:
                    raise StoreIntegrityError(f"{key!r} in {self.url} reads back as sha256 {got} "
                                              f"({size} bytes), not {sha256}")

        def send() -> None:
            body.seek(0)
            if body.length() < objects.MULTIPART_THRESHOLD:
                self.client.put_object(Bucket=self.bucket, Key=full, Body=body.read(), **extra)
            else:
                from boto3.s3.transfer import TransferConfig

                self.client.upload_fileobj(
                    body, self.bucket, full, ExtraArgs=extra or None,
                    Config=TransferConfig(multipart_threshold=objects.MULTIPART_THRESHOLD),
                )

        # A read-back mismatch is retried like a transient failure: the next PUT may land well.
        _retrying(upload, transient=lambda e: _s3_transient(e) or isinstance(e, StoreIntegrityError),
                  what=f"put {key!r} in {self.url}")

    def get(self, key: str) -> bytes:
        def read() -> bytes:
            return self._get_object(key)["Body"].read()

        return self._call(f"get {key!r}", read)

    def open(self, key: str) -> BinaryIO:
        return self._call(f"open {key!r}", lambda: self._get_object(key)["Body"])

    def _get_object(self, key: str) -> dict:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))
        except Exception as exc:
            if _s3_missing(exc):
                raise ObjectNotFound(f"no object {key!r} in {self.url}") from None
            raise

    def size(self, key: str) -> int | None:
        full = self._key(key)

        def head() -> int | None:
            try:
                return self.client.head_object(Bucket=self.bucket, Key=full)["ContentLength"]
            except Exception as exc:
                if _s3_missing(exc):
                    return None
                raise

        return self._call(f"head {key!r}", head)

    def exists(self, key: str) -> bool:
        return self.size(key) is not None

    def delete(self, key: str) -> None:
        full = self._key(key)
        self._call(f"delete {key!r}", lambda: self.client.delete_object(Bucket=self.bucket, Key=full))

    def keys(self, prefix: str = "") -> Iterator[str]:
        base = f"{self.prefix}/" if self.prefix else ""
        token: str | None = None
        while True:
            kwargs = {"Bucket": self.bucket, "Prefix": base + prefix}
            if token:
                kwargs["ContinuationToken"] = token
            page = self._call("list", lambda: self.client.list_objects_v2(**kwargs))
            for obj in page.get("Contents", []):
                yield obj["Key"][len(base):]
            if not page.get("IsTruncated"):
                return
            token = page["NextContinuationToken"]

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._key(key)}"
