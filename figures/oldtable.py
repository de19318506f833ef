"""The statistics table of the format before 2019 (政府信息公开情况统计表, 统计指标 / 单位 / 统计数), as its
text reads out of a report: a label line, a unit line, a value line. Best effort, marked source="text"."""
from __future__ import annotations

import re

from figures import Figure
from figures.numbers import normal, read

_UNIT = re.compile(r"^(条|件|次|个|人次|万元|元|项|篇|期|场|人|——|—)$")
_SECTION = re.compile(r"^([一二三四五六七八九十]+)、")
_GROUP = re.compile(r"^[（(]([一二三四五六七八九十]+)[)）]")
_ITEM = re.compile(r"^(\d+)[.．、]")
MAX_FIGURES = 300


def _clean(label: str) -> str:
    """The label without its counting rule in brackets: 「（一）主动公开政府信息数（不同渠道…计1条）」."""
    return re.sub(r"(?<=.)[（(][^（）()]*[）)]$", "", label)


def read_old_table(text: str) -> list[Figure]:
    lines = [normal(line) for line in text.split("\n")]
    lines = [line for line in lines if line]
    out: list[Figure] = []
    path: dict[str, str] = {}
    for i in range(len(lines) - 1):
        label, unit = lines[i], lines[i + 1]
        if "统计表" in label or label.startswith("统计指标"):
            path.clear()                          # the table starts: the report's own headings are not its rows
            continue
        if not _UNIT.match(unit) or _UNIT.match(label) or read(label)[0] != "text":
            if (_SECTION.match(label) or _GROUP.match(label)) and len(label) <= 40 and "。" not in label:
                _key(_clean(label), path)         # a heading row with no unit still opens its section
            continue
        if i > 0 and not (_SECTION.match(label) or _GROUP.match(label) or _ITEM.match(label)) \
                and label.startswith(("（", "(")) and read(lines[i - 1])[0] == "text" and not _UNIT.match(lines[i - 1]):
            label = lines[i - 1] + label          # a label wrapped over two lines: 「（一）…数」「（不同渠道…）」
        key = _key(_clean(label), path)
        value_text = lines[i + 2] if i + 2 < len(lines) else ""
        kind, value = read(value_text)
        if kind not in ("number", "dash"):
            continue                              # blank in the form: nothing stated
        out.append(Figure(table="text", row=f"统计表/{key}", column="", value=value,
                          unit="" if unit.startswith("—") else unit, printed=value_text, page=None, path=None,
                          source="text", evidence=f"{label[:200]} {unit} {value_text}"))
        if len(out) >= MAX_FIGURES:
            break
    return out


def _key(label: str, path: dict[str, str]) -> str:
    if _SECTION.match(label):
        path.clear()
        path["section"] = label
        return label
    if _GROUP.match(label):
        path.pop("item", None)
        path["group"] = label
        return "/".join(p for p in (path.get("section"), label) if p)
    if _ITEM.match(re.sub(r"^其中[:：]", "", label)):
        return "/".join(p for p in (path.get("section"), path.get("group"), label) if p)
    return "/".join(p for p in (path.get("section"), path.get("group"), label) if p)
