"""What a printed cell says: a number, a dash read as 0, a blank, or words."""
from __future__ import annotations

import re

_FULL = str.maketrans("０１２３４５６７８９．，－＋　", "0123456789.,-+ ")
DASHES = frozenset({"—", "——", "-", "--", "–", "－", "/", "／", "\\", "—-", "一一", "― ", "―", "─"})
_NUMBER = re.compile(r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$")
_UNIT = re.compile(r"(?:件|条|项|个|次|人次|万元|元)$")


def normal(text: str) -> str:
    """Full-width digits and punctuation as ASCII, whitespace gone (labels and cells alike)."""
    return re.sub(r"\s+", "", (text or "").translate(_FULL))


def read(printed: str) -> tuple[str, float | int | None]:
    """("number", v) | ("dash", 0) | ("blank", None) | ("text", None)."""
    text = normal(printed)
    if not text:
        return "blank", None
    if text in DASHES or text.strip("-—–－/／") == "":
        return "dash", 0
    bare = _UNIT.sub("", text)
    if _NUMBER.match(bare):
        bare = bare.replace(",", "")
        return "number", float(bare) if "." in bare else int(bare)
    return "text", None


def is_value(printed: str) -> bool:
    return read(printed)[0] in ("number", "dash", "blank")


def is_filled_value(printed: str) -> bool:
    return read(printed)[0] in ("number", "dash")
