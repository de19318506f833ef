"""Attachment filenames: read them from Content-Disposition or the URL, make them safe.

Chinese servers write filenames every way there is: RFC 5987 `filename*=UTF-8''...`,
raw GBK or UTF-8 bytes inside `filename="..."`, percent-encoded GBK or UTF-8 (Java's
URLEncoder, with `+` for spaces), RFC 2047 encoded words, or nothing at all with the
name in a `downfile.jsp?filename=...` query. Bytes are always decoded strict UTF-8
first, then GB18030: valid multi-byte UTF-8 is almost never GBK by accident.
"""

from __future__ import annotations

import email.header
import re
import unicodedata
from urllib.parse import unquote_to_bytes, urlsplit

_EXT_PARAM = re.compile(rb"""filename\*\s*=\s*(?:"([^"]*)"|([^;\s]+))""", re.I)
_PLAIN_PARAM = re.compile(rb"""(?<![\w*])filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|([^;]+))""", re.I)
_PERCENT = re.compile(rb"%[0-9A-Fa-f]{2}")
# Query keys that carry the real name in download handlers (downfile.jsp?filename=...).
_NAME_KEYS = ("filename", "file_name", "fname", "realname", "downname", "attachname", "name", "title", "file", "filepath", "path")
_MAX_BYTES = 200
_RESERVED = re.compile(r'[<>:"/\\|?*]')
_WINDOWS_DEVICES = re.compile(r"^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$", re.I)


def _to_bytes(value: bytes | str) -> bytes:
    if isinstance(value, bytes):
        return value
    # HTTP libraries hand header bytes over as latin-1 text; undo that to see raw GBK/UTF-8.
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8")


def decode_name_bytes(raw: bytes, charset: str | None = None) -> str:
    """Bytes of a filename to text: the named charset if it fits, else UTF-8, else GB18030."""
    tries = []
    if charset:
        cs = charset.strip().lower()
        tries.append("gb18030" if cs in ("gb2312", "gbk", "cp936") else cs)
    tries += ["utf-8", "gb18030"]
    for codec in tries:
        try:
            return raw.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
    return raw.decode("gb18030", errors="replace")


def _decode_percent(raw: bytes, *, plus_is_space: bool) -> str:
    if plus_is_space:
        raw = raw.replace(b"+", b" ")
    return decode_name_bytes(unquote_to_bytes(raw))


def _from_ext_value(value: bytes) -> str | None:
    # RFC 5987: charset'language'percent-encoded
    parts = value.split(b"'", 2)
    if len(parts) == 3:
        charset = parts[0].decode("ascii", "ignore") or None
        name = decode_name_bytes(unquote_to_bytes(parts[2]), charset)
    else:
        name = decode_name_bytes(unquote_to_bytes(value))
    return name.strip() or None


def _from_plain_value(value: bytes) -> str | None:
    value = value.strip()
    if value.startswith(b"=?") and b"?=" in value:
        try:
            pieces = email.header.decode_header(value.decode("ascii"))
            text = "".join(
                p.decode(cs or "utf-8", errors="replace") if isinstance(p, bytes) else p for p, cs in pieces
            )
            if text.strip():
                return text.strip()
        except (UnicodeDecodeError, ValueError, LookupError):
            pass
    if _PERCENT.search(value):
        return _decode_percent(value, plus_is_space=True).strip() or None
    return decode_name_bytes(value.replace(b'\\"', b'"')).strip() or None


def filename_from_disposition(content_disposition: bytes | str | None) -> str | None:
    """The filename a Content-Disposition header names, decoded; None when it names none."""
    if not content_disposition:
        return None
    raw = _to_bytes(content_disposition)
    ext = _EXT_PARAM.search(raw)
    if ext:
        name = _from_ext_value(ext.group(1) or ext.group(2))
        if name:
            return name
    plain = _PLAIN_PARAM.search(raw)
    if plain:
        value = next(g for g in plain.groups() if g is not None)
        return _from_plain_value(value)
    return None


def _query_pairs(query: str) -> dict[str, str]:
    # Not parse_qsl: it decodes %XX as UTF-8 with replacement, losing GBK-encoded names.
    out: dict[str, str] = {}
    for pair in query.split("&"):
        key, _, value = pair.partition("=")
        if value:
            out.setdefault(key.strip().lower(), _decode_percent(value.encode("utf-8"), plus_is_space=True))
    return out


def filename_from_url(url: str) -> str | None:
    """A name from a `filename=`-like query parameter, else from the last path segment."""
    parts = urlsplit(url.strip())
    query = _query_pairs(parts.query)
    for key in _NAME_KEYS:
        value = query.get(key)
        if value:
            name = re.split(r"[/\\]", value)[-1].strip()
            # Generic keys (name, title, path) count only when they look like a file.
            if name and ("." in name or key in ("filename", "file_name", "fname", "realname")):
                return name
    segment = parts.path.rsplit("/", 1)[-1]
    if not segment:
        return None
    name = decode_name_bytes(unquote_to_bytes(segment)).strip()
    return name or None


def filename_from_headers(content_disposition: bytes | str | None, url: str) -> str | None:
    """The attachment's own name: Content-Disposition first, then the URL; not yet made safe."""
    return filename_from_disposition(content_disposition) or filename_from_url(url)


def _cap_bytes(text: str, limit: int) -> str:
    encoded = text.encode("utf-8")[:limit]
    return encoded.decode("utf-8", errors="ignore")


def safe_filename(name: str | None, *, max_bytes: int = _MAX_BYTES) -> str:
    """A name safe to write on any filesystem: one segment, no controls, Chinese kept."""
    name = unicodedata.normalize("NFC", name or "")
    # Directory parts: both separators, drive letters and traversal all go.
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp"))
    name = _RESERVED.sub("_", name)
    name = re.sub(r"\s+", " ", name).strip(" .")
    if _WINDOWS_DEVICES.match(name):
        name = "_" + name
    if not name or set(name) <= {"_", "."}:
        return "file"
    if len(name.encode("utf-8")) > max_bytes:
        stem, dot, ext = name.rpartition(".")
        if dot and stem and 0 < len(ext) <= 10 and ext.isalnum():
            keep = max_bytes - len(ext.encode("utf-8")) - 1
            name = _cap_bytes(stem, keep).rstrip(" .") + "." + ext
        else:
            name = _cap_bytes(name, max_bytes).rstrip(" .")
    return name or "file"
