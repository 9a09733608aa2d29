"""Word automatic list numbering, rendered into the paragraph text.

Word keeps "一、", "（二）", "1." of an automatically numbered list in numbering.xml, not in the
run text, so a report typed with automatic numbering loses its enumeration when read as
text. `ListNumbering` computes each numbered paragraph's label the way Word shows it: the
level's number format (decimal, chineseCounting, chineseCountingThousand,
ideographTraditional, decimalEnclosedCircle, letters, roman) and its lvlText ("%1、",
"（%2）", "%1.%2"), counters per list restarting deeper levels, start values and overrides.
Numbering may come from the paragraph itself or from its style.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from docx.oxml.ns import qn

_CN_DIGITS = "零一二三四五六七八九"
_STEMS = "甲乙丙丁戊己庚辛壬癸"
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
_ROMAN: tuple[tuple[int, str], ...] = (
    (1000, "M"),
    (900, "CM"),
    (500, "D"),
    (400, "CD"),
    (100, "C"),
    (90, "XC"),
    (50, "L"),
    (40, "XL"),
    (10, "X"),
    (9, "IX"),
    (5, "V"),
    (4, "IV"),
    (1, "I"),
)


def chinese_count(n: int) -> str:
    """一, 十, 十一, 二十三, 一百零五 (Word's chineseCounting, 1–9999)."""
    if n <= 0:
        return str(n)
    if n < 10:
        return _CN_DIGITS[n]
    if n < 20:
        return "十" + (_CN_DIGITS[n - 10] if n > 10 else "")
    parts: list[str] = []
    zero = False
    for unit, name in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit, n = divmod(n, unit)
        if digit:
            if zero and parts:
                parts.append("零")
            parts.append(_CN_DIGITS[digit] + name)
            zero = False
        elif parts:
            zero = True
    return "".join(parts)


def _roman(n: int) -> str:
    out = []
    for value, letters in _ROMAN:
        count, n = divmod(n, value)
        out.append(letters * count)
    return "".join(out)


def format_number(n: int, fmt: str) -> str:
    """`n` in Word's number format `fmt` (decimal for formats not listed)."""
    # LibreOffice writes its Chinese numbering (一, 二, 三) as taiwaneseCountingThousand.
    if fmt in {
        "chineseCounting",
        "chineseCountingThousand",
        "chineseLegalSimplified",
        "taiwaneseCounting",
        "taiwaneseCountingThousand",
    }:
        return chinese_count(n)
    if fmt == "ideographTraditional" and 1 <= n <= len(_STEMS):
        return _STEMS[n - 1]
    if fmt in {"decimalEnclosedCircle", "decimalEnclosedCircleChinese"} and 1 <= n <= len(_CIRCLED):
        return _CIRCLED[n - 1]
    if fmt in {"lowerLetter", "upperLetter"} and n >= 1:
        letter = chr(ord("a") + (n - 1) % 26)
        return letter.upper() if fmt == "upperLetter" else letter
    if fmt in {"lowerRoman", "upperRoman"} and n >= 1:
        roman = _roman(n)
        return roman.lower() if fmt == "lowerRoman" else roman
    if fmt == "decimalFullWidth":
        return "".join(chr(ord(c) + 0xFEE0) for c in str(n))
    return str(n)


@dataclass(frozen=True, slots=True)
class _Level:
    fmt: str
    text: str
    start: int


def _val(element: Any, tag: str, default: str = "") -> str:
    child = element.find(qn(tag)) if element is not None else None
    return child.get(qn("w:val"), default) if child is not None else default


@dataclass
class ListNumbering:
    """The numbering definitions of one document, and the running counters."""

    levels: dict[str, dict[int, _Level]] = field(default_factory=dict)  # numId -> ilvl -> level
    counters: dict[str, dict[int, int]] = field(default_factory=dict)

    @classmethod
    def of(cls, document: Any) -> ListNumbering:
        try:
            root = document.part.numbering_part.element
        except (KeyError, NotImplementedError, AttributeError):
            return cls()  # no numbering part: nothing is numbered automatically
        abstract: dict[str, dict[int, _Level]] = {}
        for node in root.findall(qn("w:abstractNum")):
            abstract[node.get(qn("w:abstractNumId"))] = {
                int(lvl.get(qn("w:ilvl"), "0")): _Level(
                    fmt=_val(lvl, "w:numFmt", "decimal"),
                    text=_val(lvl, "w:lvlText"),
                    start=int(_val(lvl, "w:start", "1") or 1),
                )
                for lvl in node.findall(qn("w:lvl"))
            }
        numbering = cls()
        for num in root.findall(qn("w:num")):
            levels = dict(abstract.get(_val(num, "w:abstractNumId"), {}))
            for override in num.findall(qn("w:lvlOverride")):
                ilvl = int(override.get(qn("w:ilvl"), "0"))
                start = _val(override, "w:startOverride")
                if start and ilvl in levels:
                    level = levels[ilvl]
                    levels[ilvl] = _Level(level.fmt, level.text, int(start))
            numbering.levels[num.get(qn("w:numId"))] = levels
        return numbering

    def label(self, paragraph: Any) -> str:
        """The automatic label Word shows before `paragraph` ("" when it has none)."""
        num_id, ilvl = _num_pr(paragraph)
        levels = self.levels.get(num_id or "")
        if not levels or ilvl not in levels:
            return ""
        counters = self.counters.setdefault(num_id or "", {})
        counters[ilvl] = counters.get(ilvl, levels[ilvl].start - 1) + 1
        for deeper in [k for k in counters if k > ilvl]:
            del counters[deeper]  # a deeper level restarts under a new parent
        if levels[ilvl].fmt in {"bullet", "none"}:
            return ""
        text = levels[ilvl].text
        for k, level in levels.items():
            if f"%{k + 1}" in text:
                value = counters.get(k, level.start)
                text = text.replace(f"%{k + 1}", format_number(value, level.fmt))
        return text


def _num_pr(paragraph: Any) -> tuple[str | None, int]:
    """(numId, ilvl) from the paragraph's own properties, else from its style's."""
    for holder in (paragraph._p, getattr(paragraph.style, "element", None)):
        ppr = holder.find(qn("w:pPr")) if holder is not None else None
        num_pr = ppr.find(qn("w:numPr")) if ppr is not None else None
        if num_pr is not None:
            num_id = _val(num_pr, "w:numId") or None
            if num_id == "0":
                return None, 0  # numbering explicitly switched off
            return num_id, int(_val(num_pr, "w:ilvl", "0") or 0)
    return None, 0
