"""Figures stated in sentences (reports before the 2019 format): best effort, the sentence kept as evidence."""
from __future__ import annotations

import re

from figures import Figure
from figures.numbers import normal

# Traditional forms of the characters the rules below look for (two seed reports are in traditional script).
_SIMPLE = str.maketrans("開動請議複覆訴訟費條數統計總網門報廣電視臺處與為無發辦應機關務審規範項個實現經會決強讀專",
                        "开动请议复复诉讼费条数统计总网门报广电视台处与为无发办应机关务审规范项个实现经会决强读专")
_NUMBER = re.compile(r"(\d+(?:\.\d+)?)(条|件|项|次|起|万元|元)")
_BOUNDARY = re.compile(r"[。；;，,：:\n、]")
_CHANNELS = (("统一平台", "统一平台"), ("网站", "政府网站"), ("报刊", "报刊广播电视"), ("广播", "报刊广播电视"),
             ("电视", "报刊广播电视"), ("公报", "政府公报"), ("微博", "政务微博"), ("微信", "政务微信"),
             ("其他形式", "其他形式"), ("其他方式", "其他形式"))
MAX_TEXT = 400_000
MAX_FIGURES = 200


def _key(context: str, unit: str) -> str | None:
    """Which figure a clause states (the words before its number); None when it is not one we know."""
    c = context
    if "不同意公开" in c or "不予公开" in c:
        return "依申请公开/不同意公开" if "申请" in c or "答复" in c else None
    if "部分公开" in c and ("同意" in c or "答复" in c):
        return "依申请公开/同意部分公开"
    if "同意公开" in c:
        return "依申请公开/同意公开"
    if ("受理" in c or "收到" in c or "接到" in c) and "申请" in c:
        return "依申请公开/受理"
    if "答复" in c and "申请" in c:
        return "依申请公开/答复"
    if "行政复议" in c:
        return "行政复议"
    if "行政诉讼" in c:
        return "行政诉讼"
    if "申诉" in c:
        return "申诉"
    if unit in ("元", "万元") and "收" in c and "费" in c:
        return "收费"
    if "主动公开" in c or "公开信息" in c or "公开政府信息" in c:
        if any(w in c for w in ("合计", "共计", "总计", "共主动", "全年共", "累计", "总数")):
            return "主动公开/合计"
        for word, channel in _CHANNELS:
            if word in c:
                return f"主动公开/{channel}"
        if "主动公开" in c:
            return "主动公开/信息"
    return None


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[。；;!?！？])|\n", text) if s.strip()]


def read_text(text: str) -> list[Figure]:
    out: list[Figure] = []
    for sentence in sentences(text[:MAX_TEXT]):
        plain = normal(sentence).translate(_SIMPLE)
        last = 0
        for m in _NUMBER.finditer(plain):
            start = max((b.end() for b in _BOUNDARY.finditer(plain, last, m.start())), default=last)
            context = plain[start:m.start()]
            last = m.end()
            if re.search(r"\d$", context) or plain[m.start() - 1:m.start()] in ("第",) or "年" == plain[m.end():m.end() + 1]:
                continue
            before = plain[:m.start()]
            if before.count("（") + before.count("(") > before.count("）") + before.count(")"):
                continue            # 「（不同渠道和方式公开相同信息计1条）」: a rule of counting, not a figure
            key = _key(context, m.group(2))
            if key is None:
                continue
            value = float(m.group(1)) if "." in m.group(1) else int(m.group(1))
            out.append(Figure(table="text", row=key, column="", value=value, unit=m.group(2), printed=m.group(0),
                              page=None, path=None, source="text", evidence=sentence.strip()[:300]))
            if len(out) >= MAX_FIGURES:
                return out
    return out
