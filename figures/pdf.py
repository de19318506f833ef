"""PDF with a text layer: words by position (pdfplumber), grouped into lines, the trailing numbers as cells."""
from __future__ import annotations

import io
import re

from figures.lines import Cell, Line
from figures.numbers import is_filled_value, is_value

MAX_PAGES = 60
MAX_WORDS_PER_PAGE = 20000
_PAGE_NUMBER = re.compile(r"^[-－—\s]*\d{1,3}[-－—\s]*$|^第\d+页(共\d+页)?$|^\d+/\d+$")


def read_pdf(data: bytes) -> tuple[list[Line], list[str], str]:
    """Lines of every page, problems, and the plain text (for figures stated in sentences)."""
    import pdfplumber

    lines: list[Line] = []
    problems: list[str] = []
    texts: list[str] = []
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        pages = pdf.pages
        if len(pages) > MAX_PAGES:
            problems.append(f"{len(pages)} pages: only the first {MAX_PAGES} read")
        for number, page in enumerate(pages[:MAX_PAGES], 1):
            try:
                words = page.extract_words(x_tolerance=1.5, y_tolerance=2, keep_blank_chars=False)
                if len(words) > MAX_WORDS_PER_PAGE:
                    problems.append(f"page {number}: {len(words)} words, only {MAX_WORDS_PER_PAGE} read")
                    words = words[:MAX_WORDS_PER_PAGE]
                page_lines = _page(page, words, number, problems)
            except Exception as exc:  # noqa: BLE001 - one broken page is a problem line, not a failed report
                problems.append(f"page {number}: {type(exc).__name__}")
                continue
            finally:
                page.close()            # its parsed objects go now, not with the document (memory stays per page)
            texts.extend(line_text for line_text, _ in page_lines)
            lines.extend(line for _, line in page_lines)
    if not any(t.strip() for t in texts):
        problems.append("no text layer (a scan?)")
    return lines, problems, "\n".join(texts)


def _page(page, words: list[dict], number: int, problems: list[str]) -> list[tuple[str, Line]]:
    """Ruled tables cell by cell (a row band of the grid is one line); the words around them as lines."""
    try:
        tables = page.find_tables()
    except Exception as exc:  # noqa: BLE001
        problems.append(f"page {number}: tables not found ({type(exc).__name__})")
        tables = []
    placed: list[tuple[float, str, Line]] = []
    rest = list(words)
    for table in tables:
        inside, rest = _split(rest, table.bbox)
        placed.extend(_table_lines(table, inside, number))
    placed.extend(_lines(rest, number))      # a table the grid missed is still read by its lines
    placed.sort(key=lambda t: t[0])
    return [(text, line) for _, text, line in placed]


def _split(words: list[dict], bbox) -> tuple[list[dict], list[dict]]:
    x0, top, x1, bottom = bbox
    inside, outside = [], []
    for w in words:
        cx, cy = (w["x0"] + w["x1"]) / 2, (w["top"] + w["bottom"]) / 2
        (inside if x0 <= cx <= x1 and top <= cy <= bottom else outside).append(w)
    return inside, outside


def _table_lines(table, words: list[dict], number: int) -> list[tuple[float, str, Line]]:
    cells = sorted({tuple(c) for c in table.cells}, key=lambda c: (c[1], c[0]))
    texts: dict[tuple, list[dict]] = {c: [] for c in cells}
    for w in words:
        cx, cy = (w["x0"] + w["x1"]) / 2, (w["top"] + w["bottom"]) / 2
        holders = [c for c in cells if c[0] <= cx <= c[2] and c[1] <= cy <= c[3]]
        if holders:
            texts[min(holders, key=lambda c: (c[2] - c[0]) * (c[3] - c[1]))].append(w)
    bands: dict[float, list[tuple]] = {}
    for c in cells:
        key = next((t for t in bands if abs(t - c[1]) <= 1), c[1])
        bands.setdefault(key, []).append(c)
    out = []
    for top in sorted(bands):
        row = sorted(bands[top], key=lambda c: c[0])
        label, values, shown = "", [], []
        for c in row:
            text = _cell_text(texts[c])
            shown.append(text)
            if is_value(text) and (text.strip() or label):
                values.append(Cell(text, page=number, x=(c[0] + c[2]) / 2))
            elif text.strip():
                label += "".join(v.printed for v in values) + text
                values = []
        out.append((top, " ".join(shown), Line(label, values)))
    return out


def _cell_text(words: list[dict]) -> str:
    lines: list[list[dict]] = []
    for w in sorted(words, key=lambda w: (w["top"], w["x0"])):
        if lines and abs(lines[-1][0]["top"] - w["top"]) <= 3:
            lines[-1].append(w)
        else:
            lines.append([w])
    return "".join(" ".join(x["text"] for x in sorted(line, key=lambda x: x["x0"])) for line in lines)


def _lines(words: list[dict], page: int) -> list[tuple[float, str, Line]]:
    rows: list[list[dict]] = []
    for word in sorted(words, key=lambda w: (round(w["top"]), w["x0"])):
        mid = (word["top"] + word["bottom"]) / 2
        if rows and abs(rows[-1][0]["_mid"] - mid) <= 3:
            rows[-1].append(word)
        else:
            word["_mid"] = mid
            rows.append([word])
            continue
        word["_mid"] = mid
    out: list[tuple[float, str, Line]] = []
    for index, row in enumerate(rows):
        row.sort(key=lambda w: w["x0"])
        text = " ".join(w["text"] for w in row)
        if (index in (0, len(rows) - 1)) and _PAGE_NUMBER.match(text.replace(" ", "")):
            continue
        split = len(row)
        while split > 0 and is_filled_value(row[split - 1]["text"]):
            split -= 1
        label = "".join(w["text"] for w in row[:split])
        cells = [Cell(w["text"], page=page, x=(w["x0"] + w["x1"]) / 2) for w in row[split:]]
        out.append((row[0]["top"], text, Line(label, cells)))
    return out
