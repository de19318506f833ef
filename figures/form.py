"""The national format's tables (2019 and its 2021 revision): canonical rows, columns and the words that name them.

Every key the extractor emits is spelled here and nowhere else.
"""
from __future__ import annotations

import re

COLUMNS3 = ("自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计")

SECTIONS = {"一": "一、本年新收", "二": "二、上年结转", "四": "四、结转下年度继续办理"}
SECTION_WORDS = (("本年新收", "一"), ("上年结转", "二"), ("结转下年", "四"))

PARENTS = {"一": "（一）予以公开", "二": "（二）部分公开", "三": "（三）不予公开", "四": "（四）无法提供",
           "五": "（五）不予处理", "六": "（六）其他处理", "七": "（七）总计"}
PARENT_WORDS = (("予以公开", "一"), ("部分公开", "二"), ("不予公开", "三"), ("无法提供", "四"),
                ("不予处理", "五"), ("其他处理", "六"), ("总计", "七"))

ITEMS = {
    "三": ("1.属于国家秘密", "2.其他法律行政法规禁止公开", "3.危及“三安全一稳定”", "4.保护第三方合法权益",
          "5.属于三类内部事务信息", "6.属于四类过程性信息", "7.属于行政执法案卷", "8.属于行政查询事项"),
    "四": ("1.本机关不掌握相关政府信息", "2.没有现成信息需要另行制作", "3.补正后申请内容仍不明确"),
    "五": ("1.信访举报投诉类申请", "2.重复申请", "3.要求提供公开出版物", "4.无正当理由大量反复申请",
          "5.要求行政机关确认或重新出具已获取信息"),
    "六": ("1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
          "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请", "3.其他"),
}
# Words that name an item when its number is missing or misprinted.
ITEM_WORDS = {
    "三": ("国家秘密", "禁止公开", "三安全", "第三方", "内部事务", "过程性", "执法案卷", "行政查询"),
    "四": ("不掌握", "另行制作", "仍不明确"),
    "五": ("信访", "重复申请", "出版物", "大量反复", "重新出具"),
    "六": ("逾期不补正", "收费通知", None),
}

TABLE4_ROWS = ("行政复议", "行政诉讼/未经复议直接起诉", "行政诉讼/复议后起诉")
TABLE4_COLUMNS = ("结果维持", "结果纠正", "其他结果", "尚未审结", "总计")

# table 2: (canonical row, pattern on the normalised label), checked in order.
TABLE2_ROWS = (
    ("规章", re.compile(r"^规章")),
    ("行政规范性文件", re.compile(r"^(?:行政)?规范性文件")),
    ("行政许可", re.compile(r"^行政许可")),
    ("其他对外管理服务事项", re.compile(r"^其他对外管理服务事项")),
    ("行政处罚", re.compile(r"^行政处罚")),
    ("行政强制", re.compile(r"^行政强制")),
    ("行政事业性收费", re.compile(r"^行政事业性收费")),
    ("政府集中采购", re.compile(r"^政府集中采购")),
)
# table 2 header words -> (canonical column, unit); longest alternatives first.
TABLE2_COLUMNS = (
    (r"本年制发件数", "本年制发件数", "件"), (r"本年废止件数", "本年废止件数", "件"),
    (r"现行有效件数", "现行有效件数", "件"), (r"本年新制作数量", "本年新制作数量", "件"),
    (r"本年新公开数量", "本年新公开数量", "件"), (r"对外公开总数量", "对外公开总数量", "件"),
    (r"本年处理决定数量", "本年处理决定数量", "件"), (r"处理决定数量", "处理决定数量", "件"),
    (r"上一年项目数量", "上一年项目数量", "项"), (r"本年增[/／]?减", "本年增/减", "项"),
    (r"本年收费金额", "本年收费金额", "万元"), (r"采购项目数量", "采购项目数量", "项"),
    (r"采购总金额", "采购总金额", "万元"),
)
TABLE2_HEADER = re.compile("|".join(f"(?:{p})" for p, _, _ in TABLE2_COLUMNS))

# When a report prints no header for a row: the columns of its layout.
_T2_2021 = {"规章": ("本年制发件数", "本年废止件数", "现行有效件数"),
            "行政规范性文件": ("本年制发件数", "本年废止件数", "现行有效件数"),
            "行政许可": ("本年处理决定数量",), "行政处罚": ("本年处理决定数量",), "行政强制": ("本年处理决定数量",),
            "行政事业性收费": ("本年收费金额",)}
_T2_2019 = {"规章": ("本年新制作数量", "本年新公开数量", "对外公开总数量"),
            "行政规范性文件": ("本年新制作数量", "本年新公开数量", "对外公开总数量"),
            "行政许可": ("上一年项目数量", "本年增/减", "处理决定数量"),
            "其他对外管理服务事项": ("上一年项目数量", "本年增/减", "处理决定数量"),
            "行政处罚": ("上一年项目数量", "本年增/减", "处理决定数量"),
            "行政强制": ("上一年项目数量", "本年增/减", "处理决定数量"),
            "行政事业性收费": ("上一年项目数量", "本年增/减"), "政府集中采购": ("采购项目数量", "采购总金额")}
DEFAULT_TABLE2 = {"2021": _T2_2021, "2019": _T2_2019}
UNITS2 = {canon: unit for _, canon, unit in TABLE2_COLUMNS}


def table2_header(label: str) -> tuple[str, ...]:
    """The table-2 columns a header line names, in order."""
    out = []
    for m in TABLE2_HEADER.finditer(label):
        for pattern, canon, _ in TABLE2_COLUMNS:
            if re.fullmatch(pattern, m.group(0)):
                out.append(canon)
                break
    return tuple(out)


def table2_row(label: str) -> str | None:
    for key, pattern in TABLE2_ROWS:
        if pattern.search(label):
            return key
    return None


def layout_of_year(year: int | None) -> str | None:
    if year is None:
        return None
    return "pre2019" if year < 2019 else "2019" if year < 2021 else "2021"
