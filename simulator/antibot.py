"""Anti-bot gates in front of whole hosts, after two patterns seen on government portals.

ruishu (瑞数): HTTP 412 with a script that computes a cookie from obfuscated numbers, then reloads.
jiasule (加速乐): HTTP 521 with a script that assembles `__jsl_clearance_s` from char-code arithmetic.
The expected cookie is a pure function of the seed and host, so the server can check it without state,
and nothing in the page holds the value literally: it exists only once the script has run.
"""
from __future__ import annotations

from .model import Request, Response
from .rand import rng

RUISHU_COOKIE = "FSSBBIl1UgzbN7N80T"
JSL_COOKIE = "__jsl_clearance_s"
_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def _base36(n: int) -> str:
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = _B36[r] + out
        if n == 0:
            return out


def _ruishu_numbers(seed: int, host: str) -> tuple[int, int, int, int]:
    r = rng(seed, host, "ruishu")
    return r.randint(0x1000, 0xFFFF), r.randint(0x100, 0xFFF), r.randint(0x10001, 0xFFFFF), r.randint(0x100, 0x7FFF)


def ruishu_value(seed: int, host: str) -> str:
    a, b, c, d = _ruishu_numbers(seed, host)
    return _base36(((a * b) % c + 0x1D3) ^ d)


def ruishu_page(seed: int, host: str) -> bytes:
    a, b, c, d = _ruishu_numbers(seed, host)
    # Hex digits written backwards, so the numbers cannot be read off the page without running it.
    arr = ",".join(f'"{format(x, "x")[::-1]}"' for x in (a, b, c))
    script = (
        f"var _$cK=[{arr}].map(function(_$s){{return parseInt(_$s.split('').reverse().join(''),16)}});"
        f"var _$vX=((_$cK[0]*_$cK[1])%_$cK[2]+0x1d3)^{d};"
        f"document.cookie='{RUISHU_COOKIE}='+_$vX.toString(36)+'; path=/';"
        "location.reload();"
    )
    return (f'<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
            f'<meta id="9DhefwqGPrzO" content="{rng(seed, host, "noise").getrandbits(64):x}">'
            f"<script type=\"text/javascript\">{script}</script></head><body></body></html>").encode()


def _jsl_chars(seed: int, host: str) -> list[tuple[int, int, int]]:
    r = rng(seed, host, "jsl")
    # Each character of the token is chr(base + x * y), with base + x*y in '0'..'9' or 'a'..'f'.
    out = []
    for _ in range(24):
        target = ord(r.choice("0123456789abcdef"))
        y = r.randint(2, 9)
        x = r.randint(1, 5)
        out.append((target - x * y, x, y))
    return out


def jsl_value(seed: int, host: str) -> str:
    return "1700000000.000|0|" + "".join(chr(b + x * y) for b, x, y in _jsl_chars(seed, host))


def jsl_page(seed: int, host: str) -> bytes:
    parts = "+".join(f"String.fromCharCode({b}+{x}*{y})" for b, x, y in _jsl_chars(seed, host))
    name = "+".join(f"('{c}')" for c in JSL_COOKIE)
    script = (f"document.cookie={name}+('=')+('1700000000.000|0|')+{parts}+(';max-age=3600;path=/');"
              "location.href=location.pathname+location.search")
    return f"<html><body><script>{script}</script></body></html>".encode()


def gate(kind: str, seed: int, req: Request) -> Response | None:
    """None when the request may pass; else the challenge response. robots.txt always passes."""
    if req.path == "/robots.txt":
        return None
    cookies = req.cookies
    if kind == "ruishu":
        if cookies.get(RUISHU_COOKIE) == ruishu_value(seed, req.host):
            return None
        return Response(412, ruishu_page(seed, req.host), [
            ("Content-Type", "text/html; charset=utf-8"),
            ("Set-Cookie", f"{RUISHU_COOKIE[:-1]}O={rng(seed, req.host, 'o').getrandbits(80):x}; Path=/; HttpOnly"),
        ], cacheable=False)
    if kind == "jiasule":
        if cookies.get(JSL_COOKIE) == jsl_value(seed, req.host):
            return None
        return Response(521, jsl_page(seed, req.host), [
            ("Content-Type", "text/html; charset=utf-8"),
            ("Set-Cookie", f"__jsluid_s={rng(seed, req.host, 'uid').getrandbits(128):032x}; max-age=31536000; path=/; HttpOnly"),
        ], cacheable=False)
    return None
