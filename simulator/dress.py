"""What a real portal's page template puts around every page, applied by the server to a portal's
HTML answers by quirk, whatever its family:

- "dressed": the template of the 2018-2023 provincial 集约化 rebuilds (reconstructed from a
  Fujian portal's 年报 column: TRS articles inside avalon markup): 3 stylesheets (one loading a
  web font), 4 scripts (jQuery, avalon, the site's common.js, a visit counter that calls the
  server by XHR), 26 images (banner, icons, QR codes, the 党政机关 and 纠错 badges) on every page,
  and avalon markup (`ms-controller`, `ms-attr`, `ms-text`, `{{@hits}}`) that draws no link:
  the body and the links are in the HTML as the server sends it.
- "noisy": a clock and a visit counter in every page (JSP/ASP portals print both), so the bytes
  of a page differ on every request although nothing in it changed.

The requisites are served under /static/ and /stat/ of any dressed portal (`requisite`).
"""
from __future__ import annotations

import itertools
import threading
import time

from .model import Request, Response

STYLES = ["/static/css/base.css", "/static/css/layout.css", "/static/css/theme.css"]
FONT = "/static/fonts/fzxbs.woff2"
SCRIPTS = ["/static/js/jquery.min.js", "/static/js/avalon.js", "/static/js/common.js", "/static/js/stat.js"]
IMAGES = ([f"/static/images/banner{i}.jpg" for i in range(1, 5)] + [f"/static/images/icon{i:02d}.png" for i in range(1, 19)]
          + ["/static/images/qr-wx.png", "/static/images/qr-app.png", "/static/images/dzjg.png", "/static/images/jiucuo.png"])
HIT = "/stat/hit"

_counter = itertools.count(10_000)
_lock = threading.Lock()

_HEAD = "".join(f'<link rel="stylesheet" href="{u}">' for u in STYLES) + "".join(
    f'<script src="{u}"></script>' for u in SCRIPTS[:2])
_TOP = ('<div ms-controller="page"><div class="top-banner" ms-attr="{title: @siteName}">'
        + "".join(f'<img src="{u}" alt="">' for u in IMAGES[:4])
        + '</div><div class="tools">' + "".join(f'<img src="{u}" alt="">' for u in IMAGES[4:22]) + "</div>")
_BOTTOM = ('<div class="foot-badges">' + "".join(f'<img src="{u}" alt="">' for u in IMAGES[22:])
           + '<span class="hits">&#35775;&#38382;&#37327;&#65306;<b ms-text="@hits">{{@hits}}</b></span></div></div>'
           + "".join(f'<script src="{u}"></script>' for u in SCRIPTS[2:])
           + '<script>var vm = avalon.define({$id: "page", siteName: document.title, hits: 0});</script>')


def dress(body: bytes) -> bytes:
    """The template around a page (ASCII only: it fits any page encoding)."""
    body = body.replace(b"</head>", _HEAD.encode() + b"</head>", 1)
    body = body.replace(b"<body>", b"<body>" + _TOP.encode(), 1)
    return body.replace(b"</body>", _BOTTOM.encode() + b"</body>", 1)


def noise(body: bytes) -> bytes:
    """A clock and a visit counter, different on every request (numeric references: any encoding)."""
    with _lock:
        n = next(_counter)
    stamp = time.strftime("%Y-%m-%d %H:%M:%S") + f".{time.time_ns() % 1_000_000:06d}"
    tail = (f'<div class="tongji">&#24403;&#21069;&#26102;&#38388;&#65306;{stamp} '
            f'&#35775;&#38382;&#37327;&#65306;{n}</div>').encode()
    return body.replace(b"</body>", tail + b"</body>", 1)


_JS = {
    "/static/js/jquery.min.js": "window.$ = window.jQuery = {ajax: function (o) { var x = new XMLHttpRequest();"
                                " x.open(o.type || 'GET', o.url); x.onload = function () { o.success &&"
                                " o.success(JSON.parse(x.responseText)); }; x.send(); }};",
    "/static/js/avalon.js": "window.avalon = {define: function (o) { return o; }, scan: function () {}};",
    "/static/js/common.js": "document.documentElement.className += ' js';",
    "/static/js/stat.js": f"$.ajax({{url: '{HIT}?u=' + encodeURIComponent(location.pathname), success:"
                          " function (r) { var b = document.querySelector('.hits b'); if (b) b.textContent = r.n; }});",
}


def is_requisite(path: str) -> bool:
    return path.startswith("/static/") or path == HIT


def requisite(req: Request) -> Response:
    """A dressed portal's static files and its visit counter."""
    path = req.path
    if path == HIT:
        with _lock:
            n = next(_counter)
        return Response(200, f'{{"n": {n}}}'.encode(), [("Content-Type", "application/json")], cacheable=False)
    if path in _JS:
        return Response(200, _JS[path].encode(), [("Content-Type", "application/javascript")])
    if path in STYLES:
        css = "body{margin:0}.hits{color:#666}"
        if path.endswith("theme.css"):
            css += f"@font-face{{font-family:FZXBS;src:url({FONT}) format('woff2')}}h1{{font-family:FZXBS,serif}}"
        return Response(200, css.encode(), [("Content-Type", "text/css")])
    if path == FONT:
        return Response(200, b"wOF2" + bytes(2048), [("Content-Type", "font/woff2")])
    if path in IMAGES:
        png = (b"\x89PNG\r\n\x1a\n" + bytes(600)) if path.endswith(".png") else (b"\xff\xd8\xff\xe0" + bytes(4000))
        return Response(200, png, [("Content-Type", "image/png" if path.endswith(".png") else "image/jpeg")])
    return Response(404, b"<html><body>404</body></html>", [("Content-Type", "text/html")], cacheable=False)
