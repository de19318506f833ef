/* A small stand-in for avalon.js 2 and jQuery.getJSON, enough for the simulated Fujian-style
   pages: ms-controller scopes, ms-for lists, ms-attr, ms-html, {{ }} interpolation, ms-click.
   Real portals serve the real libraries; the crawler never reads this file, a browser runs it. */
(function () {
  function get(obj, path) {
    return path.split('.').reduce(function (o, k) { return o == null ? undefined : o[k]; }, obj);
  }
  function interpolate(text, scope) {
    return text.replace(/\{\{\s*@?([\w.]+)\s*\}\}/g, function (_, p) { var v = get(scope, p); return v == null ? '' : v; });
  }
  var templates = {};
  function render(vm) {
    var root = document.querySelector('[ms-controller="' + vm.$id + '"]');
    if (!root) return;
    if (!templates[vm.$id]) templates[vm.$id] = root.innerHTML;
    var box = document.createElement('div');
    box.innerHTML = templates[vm.$id];
    box.querySelectorAll('[ms-for]').forEach(function (el) {
      var m = el.getAttribute('ms-for').match(/(\w+)\s+in\s+@(\w+)/);
      var items = vm[m[2]] || [], html = '';
      el.removeAttribute('ms-for');
      var tpl = el.outerHTML;
      items.forEach(function (item) {
        var scope = {}; scope[m[1]] = item;
        var one = tpl.replace(/ms-attr="\{\s*(\w+)\s*:\s*([\w.]+)\s*\}"/g, function (_, attr, p) {
          return attr + '="' + (get(scope, p) || '') + '"';
        });
        html += interpolate(one, scope);
      });
      var holder = document.createElement('template');
      holder.innerHTML = html;
      el.replaceWith(holder.content);
    });
    box.querySelectorAll('[ms-html]').forEach(function (el) {
      el.innerHTML = get(vm, el.getAttribute('ms-html').replace(/^@/, '')) || '';
    });
    root.innerHTML = interpolate(box.innerHTML, vm);
    root.querySelectorAll('[ms-click]').forEach(function (el) {
      var expr = el.getAttribute('ms-click').match(/@(\w+)\((.*)\)/);
      el.setAttribute('href', 'javascript:void(0)');
      el.addEventListener('click', function () {
        var arg = expr[2].replace(/@(\w+)/g, function (_, k) { return JSON.stringify(vm[k]); });
        vm[expr[1]](Function('return (' + arg + ')')());
      });
    });
  }
  window.avalon = {
    define: function (spec) {
      var data = {}, vm = { $id: spec.$id };
      Object.keys(spec).forEach(function (k) {
        if (k === '$id') return;
        if (typeof spec[k] === 'function') { vm[k] = spec[k]; return; }
        data[k] = spec[k];
        Object.defineProperty(vm, k, {
          get: function () { return data[k]; },
          set: function (v) { data[k] = v; setTimeout(function () { render(vm); }, 0); }
        });
      });
      if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', function () { render(vm); });
      else render(vm);
      return vm;
    }
  };
  window.$ = window.jQuery = {
    getJSON: function (url, params, cb) {
      var q = Object.keys(params || {}).map(function (k) { return encodeURIComponent(k) + '=' + encodeURIComponent(params[k]); }).join('&');
      fetch(url + (q ? '?' + q : '')).then(function (r) { return r.json(); }).then(cb);
    }
  };
})();
