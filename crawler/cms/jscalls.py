"""Where a click handler goes: page functions read by running them, not by pattern.

Real list rows are often `<a href="javascript:void(0)" onclick="showInfo('123')">`, with
`showInfo` defined in an inline or linked script as `window.open('/xxgk/content.html?id=' + id)`,
or `openDoc(3, 'P020...')`, `switchList('ndbg')` setting an iframe's src, `$('#f').attr('src', u)`.
A visitor's browser runs the function; so does this module, in an embedded V8 (mini-racer) with
no DOM and no network: the site's scripts define their functions inside a scope where every
unknown name (window, document, $, layer, ...) is a recorder, and the handler is called. Every
string the code hands to a navigation (window.open, location = / .href = / .replace(), an element's
src/href/action, jQuery attr/load/get/post/ajax) is a place the click leads.

Bounded: each evaluation has a time limit and the V8 heap a size limit, so a function calling
itself (RangeError) or looping forever (terminated) ends as a recorded failure.
"""
from __future__ import annotations

import json
import sys
import re
from dataclasses import dataclass, field

EVAL_TIMEOUT_MS = 300            # one script or one handler
PAGE_BUDGET_MS = 3000            # every evaluation for one page
MAX_SCRIPT_CHARS = 600_000       # script code evaluated for one page
MAX_HEAP_BYTES = 128 * 1024 * 1024

_PRELUDE = r"""
var __nav = [];
function __rec(path) {
  var f = function () {};
  return new Proxy(f, {
    get: function (t, k) {
      if (k === Symbol.toPrimitive || k === 'toString' || k === 'valueOf') return function () { return ''; };
      if (typeof k === 'symbol') return undefined;
      if (k === 'length') return 0;
      return __rec(path + '.' + k);
    },
    set: function (t, k, v) {
      if (typeof v === 'string' && /^(src|href|location|action|url)$/i.test(String(k))) __nav.push(v);
      return true;
    },
    apply: function (t, self, args) {
      var name = path.slice(path.lastIndexOf('.') + 1);
      if (/^(open|assign|replace|attr|prop|load|navigate|get|post|ajax|getJSON|showModalDialog|setAttribute|go|openWindow|href)$/i.test(name)) {
        for (var i = 0; i < args.length; i++) {
          var a = args[i];
          if (typeof a === 'string') __nav.push(a);
          else if (a && typeof a === 'object' && typeof a.url === 'string') __nav.push(a.url);
          else if (a && typeof a === 'object' && typeof a.content === 'string') __nav.push(a.content);
        }
      }
      return __rec(path + '()');
    },
    construct: function () { return __rec(path + '.new'); }
  });
}
var __location = __rec('location');
function __qs(o) {
  if (typeof o === 'string') return o;
  if (!o || typeof o !== 'object') return '';
  return Object.keys(o).map(function (k) { return encodeURIComponent(k) + '=' + encodeURIComponent(String(o[k])); }).join('&');
}
function __xhr(method, url, body) {
  __nav.push('__xhr__:' + JSON.stringify({method: String(method || 'GET').toUpperCase(), url: String(url), body: __qs(body)}));
}
function XMLHttpRequest() { this._m = 'GET'; this._u = ''; }
XMLHttpRequest.prototype.open = function (m, u) { this._m = m; this._u = u; };
XMLHttpRequest.prototype.send = function (b) { __xhr(this._m, this._u, b); };
XMLHttpRequest.prototype.setRequestHeader = function () {};
function ActiveXObject() { return new XMLHttpRequest(); }
var __jq = function () { return __rec('$()'); };
__jq.ajax = function (o, o2) {
  if (typeof o === 'string') { o2 = o2 || {}; o2.url = o; o = o2; }
  if (o && o.url) __xhr(o.type || o.method || 'GET', o.url, o.data);
  return __rec('$.ajax()');
};
__jq.post = function (u, d) { __xhr('POST', u, typeof d === 'function' ? '' : d); return __rec('$.post()'); };
__jq.get = function (u, d) { var q = typeof d === 'function' ? '' : __qs(d); __xhr('GET', q ? u + (String(u).indexOf('?') < 0 ? '?' : '&') + q : u, ''); return __rec('$.get()'); };
__jq.getJSON = __jq.get;
var $ = new Proxy(__jq, {get: function (t, k) { return k in t ? t[k] : __rec('$.' + String(k)); }});
var jQuery = $;
var __forms = [];
function __mkform(f) {
  var o = {action: f.action, method: f.method, id: f.id, name: f.name, elements: {}};
  Object.keys(f.fields).forEach(function (k) { var el = {name: k, value: f.fields[k]}; o.elements[k] = el; o[k] = el; });
  o.submit = function () {
    var data = {};
    Object.keys(o.elements).forEach(function (k) { data[k] = String(o.elements[k].value); });
    __nav.push('__form__:' + JSON.stringify({action: String(o.action || ''), method: String(o.method || 'get'), fields: data}));
  };
  return o;
}
function __setforms(list) {
  __forms = list.map(__mkform);
  __forms.forEach(function (f) { if (f.name) __forms[f.name] = f; });
}
function __formby(key) {
  for (var i = 0; i < __forms.length; i++) if (__forms[i].id === key || __forms[i].name === key) return __forms[i];
  return null;
}
var __document = new Proxy({}, {
  get: function (t, k) {
    if (k === 'forms') return __forms;
    if (k === 'getElementById' || k === 'querySelector') return function (id) {
      var f = __formby(String(id).replace(/^#/, '')); return f || __rec('document.element');
    };
    if (k === 'getElementsByName') return function (n) { var f = __formby(String(n)); return f ? [f] : [__rec('document.element')]; };
    if (typeof k === 'string' && __formby(k)) return __formby(k);
    return __rec('document.' + String(k));
  },
  set: function (t, k, v) { if (typeof v === 'string' && /^(location|URL)$/.test(String(k))) __nav.push(v); return true; }
});
var __names = {window: 1, self: 1, top: 1, parent: 1, document: 1, location: 1};
var __scope = new Proxy({}, {
  has: function (t, k) {
    if (typeof k !== 'string') return false;
    if (k in __names) return true;
    return !(k in globalThis);
  },
  get: function (t, k) {
    if (k === Symbol.unscopables) return undefined;
    if (k === 'location') return __location;
    if (k === 'document') return __document;
    if (k === 'window' || k === 'self' || k === 'top' || k === 'parent') return __window;
    return __rec(String(k));
  },
  set: function (t, k, v) {
    if (k === 'location' && typeof v === 'string') { __nav.push(v); return true; }
    globalThis[k] = v;
    return true;
  }
});
var __window = new Proxy(globalThis, {
  get: function (t, k) {
    if (k === 'location') return __location;
    if (k === 'document') return __document;
    if (typeof k === 'string' && k in globalThis) return globalThis[k];
    return __rec('window.' + String(k));
  },
  set: function (t, k, v) {
    if (k === 'location' && typeof v === 'string') { __nav.push(v); return true; }
    globalThis[k] = v;
    return true;
  }
});
function __call(code) {
  __nav = [];
  try {
    (new Function('__scope', 'with (__scope) { return (function () {' + code + '\n}).call(this); }')).call(__rec('this'), __scope);
  } catch (e) { __nav.push('__error__:' + String(e && e.name)); }
  return JSON.stringify(__nav);
}
"""

_URLISH = re.compile(r"^(?:https?://|//|/|\.{1,2}/|[\w\-%.\u4e00-\u9fff]+(?:/|\.[A-Za-z]{2,5}(?:$|[?#])|\?))")


@dataclass
class Outcome:
    targets: list[list[str]]   # per call, the URL strings it navigated to ("__form__:{json}" for a submitted form)
    errors: dict[str, int] = field(default_factory=dict)   # "timeout", "script", "RangeError", ...


def available() -> bool:
    try:
        import py_mini_racer  # noqa: F401
    except ImportError:
        return False
    return True


_POOL = None


def resolve(calls: list[str], scripts: list[str], forms: list[dict] | None = None) -> Outcome:
    """Run scripts (inline and linked, in page order), then each handler; the URLs each reached.

    mini-racer refuses its time limits inside a running event loop (the crawl's reactor), so
    there the work runs in a worker thread while the caller waits (bounded by the budgets)."""
    import asyncio
    import concurrent.futures

    global _POOL
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return _resolve(calls, scripts, forms or [])
    if _POOL is None:
        _POOL = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="jscalls")
    return _POOL.submit(_resolve, calls, scripts, forms or []).result()


def _quiet_late_callbacks() -> None:
    """mini-racer answers an eval cut short (a timeout, the heap limit) by a callback from V8's
    thread that can arrive after the context closed its event loop; Python then prints it as an
    "Exception ignored ... Traceback" on stderr, though nothing is lost (the eval already failed
    and was counted). Only that one message is silenced; every other unraisable is printed."""
    previous = sys.unraisablehook
    if getattr(previous, "_nianbao", False):
        return

    def hook(unraisable):
        exc = unraisable.exc_value
        where = repr(getattr(unraisable, "object", None))
        if isinstance(exc, RuntimeError) and "Event loop is closed" in str(exc) and "mr_callback" in where:
            return
        previous(unraisable)

    hook._nianbao = True
    sys.unraisablehook = hook


def _resolve(calls: list[str], scripts: list[str], forms: list[dict]) -> Outcome:
    from py_mini_racer import MiniRacer
    from py_mini_racer import JSEvalException, JSTimeoutException

    _quiet_late_callbacks()

    errors: dict[str, int] = {}

    def err(kind: str) -> None:
        errors[kind] = errors.get(kind, 0) + 1

    ctx = MiniRacer()
    try:
        try:
            ctx.set_hard_memory_limit(MAX_HEAP_BYTES)
        except Exception:  # older builds: the time limits still bound the work
            pass
        ctx.eval(_PRELUDE)
        # The page's forms, so that goPage(3) setting a hidden field and calling submit() is the
        # request it makes (recorded as __form__:{action, method, fields}).
        ctx.eval(f"__setforms({json.dumps(forms[:20], ensure_ascii=False)})")
        spent = 0
        budget_chars = MAX_SCRIPT_CHARS
        for code in scripts:
            if not code or budget_chars <= 0:
                continue
            code = code[:budget_chars]
            budget_chars -= len(code)
            if spent >= PAGE_BUDGET_MS:
                err("budget")
                break
            try:
                # Sloppy-mode `with`: the script's own free names resolve to recorders, and its
                # function declarations still land on the global object (Annex B).
                ctx.eval("with (__scope) {\n" + code + "\n}", timeout=EVAL_TIMEOUT_MS)
            except JSTimeoutException:
                err("timeout")
                spent += EVAL_TIMEOUT_MS
            except JSEvalException:
                err("script")
        targets: list[list[str]] = []
        for code in calls:
            if spent >= PAGE_BUDGET_MS:
                err("budget")
                targets.append([])
                continue
            try:
                raw = ctx.eval(f"__call({json.dumps(code)})", timeout=EVAL_TIMEOUT_MS)
                found = json.loads(raw) if isinstance(raw, str) else []
            except JSTimeoutException:
                err("timeout")
                spent += EVAL_TIMEOUT_MS
                found = []
            except (JSEvalException, ValueError):
                err("handler")
                found = []
            urls = []
            for value in found:
                if isinstance(value, str) and value.startswith("__error__:"):
                    err(value.split(":", 1)[1] or "error")
                elif isinstance(value, str) and value.startswith(("__form__:", "__xhr__:")):
                    urls.append(value)
                elif isinstance(value, str) and _URLISH.match(value.strip()):
                    urls.append(value.strip())
            targets.append(urls)
        return Outcome(targets, errors)
    finally:
        try:
            ctx.close()
        except Exception:
            pass
