"""Who may change state, and how downloaded names and types are made safe.

The UI is read-only unless a token is configured (NIANBAO_TOKEN); every state-changing
route calls `require_token`. Nothing from a request names a store key or a file: routes
take integer capture ids, and the key comes from the catalogue row.
"""
from __future__ import annotations

import hmac
from urllib.parse import quote

from fastapi import HTTPException, Request

from crawler.filenames import filename_from_url, safe_filename

TOKEN_HEADER = "X-Nianbao-Token"
# Types a browser may show inline (screenshots, text renditions). Archived HTML never is:
# it is hostile content from the point of view of this origin.
INLINE_TYPES = ("image/png", "image/jpeg", "image/webp", "text/plain")


def token_matches(configured: str | None, given: str | None) -> bool:
    """Constant-time comparison; no configured token means nothing matches (read-only)."""
    if not configured or not given:
        return False
    return hmac.compare_digest(configured.encode("utf-8"), given.encode("utf-8"))


def request_token(request: Request, form_token: str | None = None) -> str | None:
    auth = request.headers.get("Authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.headers.get(TOKEN_HEADER) or form_token


def require_token(request: Request, form_token: str | None = None) -> None:
    configured = request.app.state.ctx.token
    if not configured:
        raise HTTPException(403, "read-only: no token is configured (set NIANBAO_TOKEN)")
    if not token_matches(configured, request_token(request, form_token)):
        raise HTTPException(403, "a valid token is needed to change anything")


def download_name(capture) -> str:
    name = capture.filename or filename_from_url(capture.final_url or capture.url or "") or ""
    name = safe_filename(name)
    return name if name != "file" else f"capture-{capture.id}"


def content_disposition(filename: str, *, inline: bool = False) -> str:
    """RFC 6266 with an ASCII fallback and the real (Chinese) name as RFC 5987 filename*."""
    name = safe_filename(filename)
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\;%' else "_" for ch in name)
    disposition = "inline" if inline else "attachment"
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def safe_content_type(content_type: str | None) -> str:
    ct = (content_type or "").strip()
    # A header value must not carry line breaks; anything odd becomes opaque bytes.
    if not ct or any(ch in ct for ch in "\r\n\x00") or len(ct) > 200:
        return "application/octet-stream"
    return ct


def may_inline(content_type: str | None) -> bool:
    return safe_content_type(content_type).split(";")[0].strip().lower() in INLINE_TYPES
