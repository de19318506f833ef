"""TRS WCM: static list pages index.html, index_1.html, ... drawn by a pager script.

Classic templates call createPageHTML(countPage, currentPage, "index", "html") with a
0-based current page: pages are index.html then index_1 ... index_{N-1}. Newer ones call
createPageHTML('page_div', N, current, 'index', 'html', total) with a 1-based current
page: index.html then index_2 ... index_N. The numbers are often variables
(var countPage = 5) or quoted strings. Articles are ./201901/t20190131_4567890.html and
attachments ./P0201901...pdf, which ordinary link extraction already finds.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin

from .model import Follow

MAX_PAGES = 2000  # a sane cap: real columns rarely pass a few hundred pages

_CALL = re.compile(r"\b(createPageHTML|createPage|createPageHtml|createPageHTML2|createpage)\s*\(([^()]*)\)")
_VAR = re.compile(r"([A-Za-z_$][\w$]*)\s*=\s*(['\"]?)(\d+)\2(?![\d.])")
_TRS_MARKS = re.compile(r"createPageHTML|createPage\s*\(|/t(?:19|20)\d{6}_\d+\.s?html|/P0(?:19|20)\d{6,}|"
                        r"<meta\s+name=[\"'](?:ColumnName|ColumnType|SiteName|SiteDomain)|trs_|TRS\s*WCM", re.I)


def looks_like(url: str, text: str) -> bool:
    return bool(_TRS_MARKS.search(text))


def _variables(text: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for m in _VAR.finditer(text):
        out.setdefault(m.group(1), int(m.group(3)))
    return out


def _arg(raw: str, variables: dict[str, int]) -> int | str | None:
    raw = raw.strip()
    if re.fullmatch(r"['\"]?\d+['\"]?", raw):
        return int(raw.strip("'\""))
    if re.fullmatch(r"['\"].*['\"]", raw):
        return raw[1:-1]
    m = re.fullmatch(r"(?:parseInt|Number)\s*\(\s*([\w$]+)\s*\)|([\w$]+)", raw)
    name = m and (m.group(1) or m.group(2))
    if name and name in variables:
        return variables[name]
    return None


def pager(text: str) -> tuple[int, str, str, int] | None:
    """(page count, prefix, suffix, number of the second page) from the pager call, if any."""
    variables = _variables(text)
    for m in _CALL.finditer(text):
        args = [_arg(a, variables) for a in _split_args(m.group(2))]
        if not args:
            continue
        first_page_is_one = isinstance(args[0], str) and not str(args[0]).isdigit()
        if first_page_is_one:
            args = args[1:]  # createPageHTML('page_div', N, cur, prefix, suffix, total)
        count = args[0] if args and isinstance(args[0], int) else None
        if count is None:
            continue
        prefix = args[2] if len(args) > 2 and isinstance(args[2], str) else "index"
        suffix = args[3] if len(args) > 3 and isinstance(args[3], str) else "html"
        return min(count, MAX_PAGES), prefix, suffix.lstrip("."), (2 if first_page_is_one else 1)
    # Pager drawn without a call we know, but the page count is a variable.
    for name in ("countPage", "pageCount", "totalPage", "page_count"):
        if name in variables and re.search(r"\bindex_\"?\s*\+|\"_\"\s*\+|'_'\s*\+", text):
            return min(variables[name], MAX_PAGES), "index", "html", 1
    return None


def _split_args(raw: str) -> list[str]:
    return [a for a in re.findall(r"""'[^']*'|"[^"]*"|[^,]+""", raw) if a.strip()]


def list_pages(url: str, text: str) -> list[Follow]:
    """Every other page of a TRS list, relative to the list page's directory."""
    found = pager(text)
    if not found:
        return []
    count, prefix, suffix, second = found
    directory = urljoin(url, "./")
    # createPageHTML(N, ...) with N pages: the first is prefix.suffix, the rest numbered.
    numbers = range(second, count + (1 if second == 2 else 0))
    pages = [f"{directory}{prefix}.{suffix}"] + [f"{directory}{prefix}_{n}.{suffix}" for n in numbers]
    here = url.split("#")[0].split("?")[0]
    return [Follow(p) for p in pages if p != here and not (here.endswith("/") and p == here + f"{prefix}.{suffix}")]
