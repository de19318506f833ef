"""The tables check themselves: what the form says must add up. Nothing is corrected, only flagged."""
from __future__ import annotations

from figures import Check, Figure
from figures import form

_EPS = 1e-6


def _sum(cells: dict, keys: list[tuple[str, str, str]]) -> float | None:
    values = [cells.get(k) for k in keys]
    if not values or any(v is None for v in values):
        return None
    return sum(values)


def _check(out: list[Check], name: str, expected, actual, keys) -> None:
    if expected is None or actual is None:
        return
    out.append(Check(name=name, ok=abs(expected - actual) <= _EPS, expected=expected, actual=actual,
                     cells=tuple("/".join(k) for k in keys)))


def checks(figures: list[Figure] | tuple[Figure, ...]) -> tuple[Check, ...]:
    cells = {(f.table, f.row, f.column): f.value for f in figures if f.source == "table"}
    rows3 = {r for t, r, _ in cells if t == "table3"}
    out: list[Check] = []
    if rows3:
        _table3(cells, rows3, out)
    if any(t == "table4" for t, _, _ in cells):
        for row in form.TABLE4_ROWS:
            parts = [("table4", row, c) for c in form.TABLE4_COLUMNS[:4]]
            total = ("table4", row, "总计")
            _check(out, f"table4:{row}:total", _sum(cells, parts), cells.get(total), parts + [total])
    return tuple(out)


def _group(cells: dict, rows3: set[str], parent: str, column: str) -> tuple[float | None, list]:
    """A group's number for the (七) sum: its printed subtotal, else the sum of its sub-items."""
    name = form.PARENTS[parent]
    items = [("table3", f"{name}/{i}", column) for i in form.ITEMS.get(parent, ()) if f"{name}/{i}" in rows3]
    if name in rows3:
        return cells.get(("table3", name, column)), [("table3", name, column)]
    if items:
        return _sum(cells, items), items
    return None, []


def _table3(cells: dict, rows3: set[str], out: list[Check]) -> None:
    new, old, carry = form.SECTIONS["一"], form.SECTIONS["二"], form.SECTIONS["四"]
    total7 = form.PARENTS["七"]
    for column in form.COLUMNS3:
        left = [("table3", new, column), ("table3", old, column)]
        right = [("table3", total7, column), ("table3", carry, column)]
        _check(out, f"table3:勾稽关系:{column}", _sum(cells, left), _sum(cells, right), left + right)
        parts, keys, whole = 0.0, [], True
        for parent in "一二三四五六":
            value, used = _group(cells, rows3, parent, column)
            if value is None:
                whole = False
                break
            parts += value
            keys += used
        if whole:
            _check(out, f"table3:（七）总计:parts:{column}", parts, cells.get(("table3", total7, column)),
                   keys + [("table3", total7, column)])
        for parent, labels in form.ITEMS.items():
            name = form.PARENTS[parent]
            items = [("table3", f"{name}/{i}", column) for i in labels if f"{name}/{i}" in rows3]
            if name in rows3 and items:
                _check(out, f"table3:{name}:subitems:{column}", _sum(cells, items), cells.get(("table3", name, column)),
                       items + [("table3", name, column)])
    for row in sorted(rows3):
        parts = [("table3", row, c) for c in form.COLUMNS3[:6]]
        total = ("table3", row, "总计")
        _check(out, f"table3:row_total:{row}", _sum(cells, parts), cells.get(total), parts + [total])
