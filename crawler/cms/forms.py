"""Forms as the pagers and pickers they are.

Real portals hide list pages and older years behind forms a visitor submits by clicking:
- ASP.NET WebForms pagers and pickers (AspNetPager, GridView, DropDownList AutoPostBack): the link
  is `javascript:__doPostBack('ctl00$Main$Pager','3')` and page 3 exists only as the answer to a
  POST carrying the page's own `__VIEWSTATE`, `__EVENTVALIDATION`... with `__EVENTTARGET` and
  `__EVENTARGUMENT` set, which is what the browser sends;
- GET forms with a year or column `<select>` (历年年报 pickers, 按年度查看): one URL per option;
- year fields (`<input name="year">`): one URL per plausible year.

Pure functions of the parsed page: they return `Follow`s (bounded per page); the spider decides
which to take and counts them against the list budget.
"""
from __future__ import annotations

import re
from datetime import date
from urllib.parse import urlencode, urlsplit, urlunsplit

import lxml.html

from .model import Follow
from .page import absolute, anchor_text, norm

MAX_POSTBACKS = 12       # post-back follows read from one page (a pager shows ten or so; the rest come from the next page)
MAX_FORM_CHOICES = 40    # submissions of one GET form
FIRST_YEAR = 2008        # the Regulation took effect in 2008: no report is older

_POSTBACK = re.compile(
    r"""__doPostBack\(\s*\\?['"]([^'"\\]*)\\?['"]\s*,\s*\\?['"]([^'"\\]*)\\?['"]\s*\)|"""
    r"""WebForm_PostBackOptions\(\s*\\?['"]([^'"\\]*)\\?['"]\s*,\s*\\?['"]([^'"\\]*)\\?['"]""")
_YEARISH_NAME = re.compile(r"year|nian|niandu|nd$|^nd|nf$|^nf|yr", re.I)
_YEAR_VALUE = re.compile(r"^(?:19|20)\d{2}$")
_SEARCH = re.compile(r"search|sousuo|jiansuo|query|搜索|检索|查询", re.I)
_KEYWORD_NAME = re.compile(r"^(?:q|wd|kw|key|keys|keyword|keywords|searchword|searchkey|word|text|title|content)$", re.I)


def _fields(form) -> dict[str, str]:
    """What the browser submits from a form as it stands: named inputs, selects, textareas."""
    data: dict[str, str] = {}
    for el in form.iter("input", "select", "textarea"):
        name = el.get("name")
        if not name or el.get("disabled") is not None:
            continue
        if el.tag == "input":
            kind = (el.get("type") or "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                continue
            if kind in ("checkbox", "radio") and el.get("checked") is None:
                continue
            data.setdefault(name, el.get("value") or "")
        elif el.tag == "select":
            options = el.findall(".//option")
            chosen = next((o for o in options if o.get("selected") is not None), options[0] if options else None)
            if chosen is not None:
                data.setdefault(name, chosen.get("value") if chosen.get("value") is not None else norm(chosen.text_content()))
        else:
            data.setdefault(name, el.text or "")
    return data


def _form_of(el):
    node = el
    while node is not None and node.tag != "form":
        node = node.getparent()
    return node


def _state_form(root):
    """The WebForms form: the one carrying __VIEWSTATE (or __EVENTTARGET), else the only form."""
    forms = list(root.iter("form"))
    for form in forms:
        if form.xpath(".//input[@name='__VIEWSTATE' or @name='__EVENTTARGET']"):
            return form
    return forms[0] if len(forms) == 1 else None


def postbacks(root: lxml.html.HtmlElement, base: str, encoding: str | None = None, *,
              text: str | None = None) -> list[Follow]:
    """Every post-back a visitor can click on the page, as the POST the browser would send."""
    out: list[Follow] = []
    if text is not None and "PostBack" not in text:
        return out
    default_form = _state_form(root)
    seen: set[str] = set()

    def add(form, target: str, argument: str, text: str, extra: dict[str, str] | None = None) -> None:
        if form is None or len(out) >= MAX_POSTBACKS:
            return
        action = absolute(base, form.get("action") or base, encoding) or absolute(base, base)
        if not action:
            return
        data = _fields(form)
        data.update(extra or {})
        data["__EVENTTARGET"] = target
        data["__EVENTARGUMENT"] = argument
        key = f"postback {action} {target} {argument} {sorted((extra or {}).items())}"
        if key in seen:
            return
        seen.add(key)
        out.append(Follow(action, method="POST", formdata=data, kind="list", key=key, text=text,
                          headers={"Content-Type": "application/x-www-form-urlencoded"}))

    for el in root.iter("a", "input", "button", "span", "td", "li", "img"):
        code = " ".join(v for k, v in el.attrib.items() if k.lower() in ("href", "onclick"))
        if "PostBack" not in code:
            continue
        m = _POSTBACK.search(code)
        if not m:
            continue
        target = m.group(1) if m.group(1) is not None else m.group(3)
        argument = m.group(2) if m.group(2) is not None else m.group(4)
        text = anchor_text(el) if el.tag == "a" else norm(el.get("value") or el.text_content())[:100]
        form = _form_of(el)
        add(form if form is not None else default_form, target, argument, text)

    # DropDownList AutoPostBack: each option is posted back with the select as the target.
    for select in root.iter("select"):
        handler = select.get("onchange") or ""
        name = select.get("name")
        if "PostBack" not in handler or not name:
            continue
        for opt in select.findall(".//option")[:MAX_FORM_CHOICES]:
            value = opt.get("value")
            if value is None or opt.get("selected") is not None:
                continue
            form = _form_of(select)
            add(form if form is not None else default_form, name, "", norm(opt.text_content()), {name: value})
    return out


def _is_search(form, fields: dict[str, str]) -> bool:
    words = " ".join([form.get("action") or "", form.get("id") or "", form.get("name") or "",
                      form.get("class") or "", norm(form.text_content())[:200]])
    empty_keyword = any(_KEYWORD_NAME.match(k) and not v for k, v in fields.items())
    return empty_keyword or bool(_SEARCH.search(words) and not any(_YEARISH_NAME.search(k) for k in fields))


def get_forms(root: lxml.html.HtmlElement, base: str, encoding: str | None = None,
              this_year: int | None = None) -> list[Follow]:
    """GET forms with a picker, submitted once per choice: each option of its year (or only)
    <select>, or each plausible year of a year field."""
    out: list[Follow] = []
    this_year = this_year or date.today().year
    for form in root.iter("form"):
        if (form.get("method") or "get").lower() != "get" or form.xpath(".//input[@name='__VIEWSTATE']"):
            continue
        fields = _fields(form)
        if not fields or _is_search(form, fields):
            continue
        action = absolute(base, form.get("action") or base, encoding)
        if not action:
            continue
        choices: list[tuple[str, str, str]] = []   # (field, value, text)
        selects = [s for s in form.iter("select") if s.get("name")]
        pick = next((s for s in selects if _YEARISH_NAME.search(s.get("name") or "")
                     or any(_YEAR_VALUE.match(o.get("value") or "") for o in s.findall(".//option"))), None)
        pick = pick if pick is not None else (selects[0] if len(selects) == 1 else None)
        if pick is not None:
            for opt in pick.findall(".//option"):
                value = opt.get("value")
                if value is None:
                    value = norm(opt.text_content())
                choices.append((pick.get("name"), value, norm(opt.text_content())))
        else:
            year_inputs = [el for el in form.iter("input") if el.get("name") and _YEARISH_NAME.search(el.get("name"))
                           and (el.get("type") or "text").lower() in ("text", "number", "hidden", "search")]
            if year_inputs:
                name = year_inputs[0].get("name")
                choices = [(name, str(y), f"{y}年") for y in range(this_year, FIRST_YEAR - 1, -1)]
        parts = urlsplit(action)
        for field, value, text in choices[:MAX_FORM_CHOICES]:
            data = dict(fields)
            data[field] = value
            query = urlencode(list(data.items()), encoding=encoding or "utf-8", errors="replace")
            url = urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))
            out.append(Follow(url, kind="list", key=url, text=text))
    return out


def describe(root: lxml.html.HtmlElement, base: str, encoding: str | None = None) -> list[dict]:
    """The page's forms as a script sees them (id, name, action, method, current fields), for
    click handlers that fill a hidden form and submit it (goPage(3), searchByYear(2016))."""
    out = []
    for form in root.iter("form"):
        action = absolute(base, form.get("action") or base, encoding) or base
        out.append({"id": form.get("id") or "", "name": form.get("name") or "", "action": action,
                    "method": (form.get("method") or "get").lower(), "fields": _fields(form)})
        if len(out) >= 20:
            break
    return out
