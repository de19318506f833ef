"""Real places for the publisher families (simulator/families/deptdir.py, countymix.py): a
prefecture, one of its counties, the county's towns and 街道, and the departments of each level
with the short forms people write them in. Codes are GB/T 2260 (they resolve against
crawler/publishers/divisions.py; tests/test_publisher_families.py checks that). Township codes
are not modelled: a town's region code is its county's six digits, as the registry allows.

Each publisher is described by a dict, the `publisher` of simulator.model.TruthReport:
{"name": canonical name, "kind": "government" | "department" | "subdistrict",
 "level": "province" | "prefecture" | "county" | "township" | None,
 "region_code": the division's code for a government or 街道 (None for a department),
 "parent": the canonical name of the government above it}.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Place:
    province: str
    province_code: str
    prefecture: str
    prefecture_code: str
    prefecture_pinyin: str
    county: str
    county_code: str
    county_pinyin: str
    county_short: str                       # the place name alone, as titles write it: 嘉善
    towns: tuple[str, ...]                  # 镇 and 街道 of the county, real names
    # (name after the place, short forms) for the county's departments; short forms are what a
    # county column prints (住建局; with the level prefix 县住建局)
    county_departments: tuple[tuple[str, tuple[str, ...]], ...]
    # names after the place for the prefecture's departments on its disclosure platform
    prefecture_departments: tuple[str, ...]


PLACES: tuple[Place, ...] = (
    Place(province="浙江省", province_code="330000", prefecture="嘉兴市", prefecture_code="330400",
          prefecture_pinyin="jiaxing", county="嘉善县", county_code="330421", county_pinyin="jiashan",
          county_short="嘉善",
          towns=("魏塘街道", "罗星街道", "惠民街道", "西塘镇", "姚庄镇", "陶庄镇", "干窑镇", "天凝镇", "大云镇"),
          county_departments=(("住房和城乡建设局", ("住建局",)), ("卫生健康局", ("卫健局",)),
                              ("市场监督管理局", ("市场监管局",)), ("人力资源和社会保障局", ("人社局",)),
                              ("发展和改革局", ("发改局",)), ("财政局", ("财政局",)), ("民政局", ("民政局",))),
          prefecture_departments=("财政局", "教育局", "民政局", "住房和城乡建设局", "卫生健康委员会",
                                  "市场监督管理局", "人力资源和社会保障局", "发展和改革委员会", "生态环境局",
                                  "交通运输局", "统计局", "司法局")),
    Place(province="江苏省", province_code="320000", prefecture="徐州市", prefecture_code="320300",
          prefecture_pinyin="xuzhou", county="睢宁县", county_code="320324", county_pinyin="suining",
          county_short="睢宁",
          towns=("睢城街道", "金城街道", "睢河街道", "王集镇", "双沟镇", "岚山镇", "李集镇", "桃园镇", "官山镇",
                 "高作镇", "沙集镇", "凌城镇", "古邳镇", "姚集镇", "魏集镇", "庆安镇"),
          county_departments=(("住房和城乡建设局", ("住建局",)), ("卫生健康委员会", ("卫健委",)),
                              ("市场监督管理局", ("市场监管局",)), ("人力资源和社会保障局", ("人社局",)),
                              ("发展和改革委员会", ("发改委",)), ("财政局", ("财政局",)), ("民政局", ("民政局",))),
          prefecture_departments=("财政局", "教育局", "民政局", "住房和城乡建设局", "卫生健康委员会",
                                  "市场监督管理局", "人力资源和社会保障局", "发展和改革委员会", "生态环境局",
                                  "交通运输局", "统计局", "司法局")),
)


def government(name: str, level: str, code: str, parent: str | None) -> dict:
    return {"name": f"{name}人民政府", "kind": "government", "level": level, "region_code": code, "parent": parent}


def prefecture_government(p: Place) -> dict:
    return government(p.prefecture, "prefecture", p.prefecture_code, f"{p.province}人民政府")


def county_government(p: Place) -> dict:
    return government(p.county, "county", p.county_code, f"{p.prefecture}人民政府")


def department(place_name: str, dept: str, parent: str) -> dict:
    return {"name": place_name + dept, "kind": "department", "level": None, "region_code": None, "parent": parent}


def township(p: Place, town: str) -> dict:
    """嘉善县西塘镇人民政府 (a town's people's government) or 嘉善县魏塘街道办事处."""
    parent = f"{p.county}人民政府"
    if town.endswith("街道"):
        return {"name": f"{p.county}{town}办事处", "kind": "subdistrict", "level": "township",
                "region_code": p.county_code, "parent": parent}
    return {"name": f"{p.county}{town}人民政府", "kind": "government", "level": "township",
            "region_code": p.county_code, "parent": parent}


def for_seed(seed: int) -> Place:
    """The place of a seed's publisher families: both families use it (the county is the prefecture's)."""
    from .rand import rng
    return rng(seed, "adhoc-portal", "places").choice(PLACES)


def by_code(code: str) -> Place:
    return next(p for p in PLACES if code in (p.prefecture_code, p.county_code))
