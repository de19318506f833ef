"""Word 97 / WPS binaries, best effort without a library: their text is kept as UTF-16LE, table cells end in BEL."""
from __future__ import annotations

import re

from figures.lines import Line
from figures.readers import row_line

_UNIT = rb"(?:[\x20-\x7e\x07\x09\x0d]\x00|[\x00-\xff][\x4e-\x9f]|[\x00-\x3f]\x30|[\x00-\xef]\xff|[\x10-\x27]\x20)"
_RUN = re.compile(_UNIT + rb"{6,}")
_CJK = re.compile(r"[\u4e00-\u9fff]")


def doc_text(data: bytes) -> str:
    runs = []
    for m in _RUN.finditer(data):
        start = m.start() - (m.start() % 2)
        text = data[start:m.end() - ((m.end() - start) % 2)].decode("utf-16-le", "ignore")
        if len(_CJK.findall(text)) >= max(2, len(text) // 4):
            runs.append(text)
    return "".join(runs)


def read_doc(data: bytes) -> tuple[list[Line], list[str], str]:
    text = doc_text(data)
    if not text:
        return [], ["doc: no text found in the binary"], ""
    lines: list[Line] = []
    for piece in text.split("\r"):
        if "\x07" not in piece:
            if piece.strip():
                lines.append(Line(piece.strip(), []))
            continue
        for row in piece.split("\x07\x07"):
            texts = row.split("\x07")
            if any(t.strip() for t in texts):
                lines.append(row_line([t.strip() for t in texts], [None] * len(texts)))
    return lines, [], text.replace("\x07", " ").replace("\r", "\n")
