"""Logical paragraphs of a report, rebuilt from whatever line structure the file has.

Text copied out of a PDF breaks lines mid-sentence (even inside a number: `1\n2个`) and
carries page footers (`— 3 —`); web pages carry chrome (索引号, 发布时间, 【打印】). This stage
undoes that, giving NFKC paragraphs whose every character maps back to the original text.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from itertools import chain, pairwise

from extractor.core.document import HeadingHint, normalised_view
from extractor.load.chrome import is_chrome_line

TERMINAL = "。！？!?；;：:"
_CLOSERS = "”’」』）)】"

# A web page's list of other articles ends the report: everything after it is the site's.
_RELATED = re.compile(r"^(相关文章|相关链接|相关阅读|推荐阅读|相关新闻|相关信息|热点新闻)")


# A line opening with a short sentence and going on (「公共法律服务触手可及。全乡…」) or with
# a verb-led one (「深化信用监管。」): a lead phrase. Not one that starts with a word that
# continues a sentence (的, 和, 并 …).
@cache
def _lead_phrase() -> re.Pattern[str]:
    # Compiled on first use (1.4 ms): only text without indents, wrapped on a full stop, asks.
    return re.compile(
        r"^(?![的了和与及或等并而但也都就是在为对向从将把被让使以于之其])[\u4e00-\u9fff“”]{4,18}。\S"
        r"|^(强化|深化|加强|推进|推动|健全|完善|创新|优化|落实|提升|严格|规范|坚持|聚焦|夯实|筑牢|打造|构建|"
        r"抓好|做好|做实|持续|全面|扎实|狠抓|拓展|统筹|突出|注重|加快|着力|压实|建立|开展)[^，。；,;]{1,10}。"
    )


# The 版记 of an official document (抄送/主送 lines, the 印发 line) is never part of the text before.
_IMPRINT = re.compile(r"^(抄送|主送|抄报)[:：]|印发$")
_SHI_START = re.compile(r"^[一二三四五六七八九十]{1,3}是")
_PARAGRAPH_MARKER = re.compile(
    r"^([一二三四五六七八九十]{1,3}[、.]|[(（][一二三四五六七八九十\d]{1,3}[)）]|\d{1,2}[.、](?!\d)|第[一二三四五六七八九十]+[章部分节]|[①-⑳])"
)
_TITLEISH_END = re.compile(
    r"(报告|总结|情况|计划|安排|打算|思路|重点|成效|不足|问题|原因|举措|措施|工作|目录|】)$"
)
_ORG_END = re.compile(r"(局|政府|委员会|委|办公室|院|中心|所|乡|镇|街道|公司|部|厅|处|室)$")
DATE_LINE = re.compile(
    r"^[(（]?(\d{4}\s*年\s*\d{1,2}\s*月(\s*\d{1,2}\s*日)?|\d{4}[-./]\d{1,2}[-./]\d{1,2}"
    r"|[〇零一二三四五六七八九]{4}年[一二三四五六七八九十]{1,2}月([一二三四五六七八九十]{1,3}日)?)[)）]?$"
)


@dataclass(frozen=True, slots=True)
class Paragraph:
    """`text` is NFKC, line joins removed, trimmed; `origin[i]` indexes the original text."""

    text: str
    origin: tuple[int, ...]
    #: The outline level the file styles this paragraph as a heading with (Word), if any.
    heading_level: int | None = None

    @property
    def start(self) -> int:
        return self.origin[0]

    @property
    def end(self) -> int:
        return self.origin[-1] + 1

    def span_of(self, a: int, b: int) -> tuple[int, int]:
        """Original half-open interval covering paragraph characters [a, b)."""
        a = max(0, min(a, len(self.text) - 1))
        b = max(a + 1, min(b, len(self.text)))
        return self.origin[a], self.origin[b - 1] + 1


@dataclass(slots=True)  # not frozen: made once per line of every report, and never changed
class _Line:
    text: str
    origin: Sequence[int]
    blank_before: bool
    indented: bool
    heading: HeadingHint | None = None  # the styled heading the line belongs to


def _is_heading_like(line: str) -> bool:
    if _PARAGRAPH_MARKER.match(line) and len(line) <= 60:
        return True
    if _SHI_START.match(line) and len(line) <= 30 and not any(c in TERMINAL for c in line):
        return True  # 「一是压实主体责任」 on a line of its own
    if len(line) <= 40 and _TITLEISH_END.search(line):
        return True
    return len(line) <= 25 and bool(_ORG_END.search(line) or DATE_LINE.match(line))


def _wrap_width(lines: list[_Line]) -> int | None:
    """The fixed width of hard-wrapped text, if most long lines share one length."""
    lengths = [len(line.text) for line in lines if len(line.text) >= 12]
    if len(lengths) < 6:
        return None
    width, _ = Counter(lengths).most_common(1)[0]
    near = sum(1 for n in lengths if width - 3 <= n <= width)
    return width if near >= 0.4 * len(lengths) and width <= 120 else None


def _should_join(prev: _Line, nxt: _Line, width: int | None, *, indents: bool = False) -> bool:
    """Whether `nxt` goes on with the paragraph `prev` ends (a wrapped line), given the wrap
    width of hard-wrapped text and whether the text marks paragraphs by indents."""
    if nxt.blank_before or not prev.text:
        return False
    if prev.heading is not nxt.heading:
        return False  # a heading the file styles is a paragraph of its own, whatever its wording
    if prev.heading is not None:
        return True  # one styled heading broken over lines
    if nxt.text.startswith("|") or prev.text.startswith("|"):
        return nxt.text.startswith("|")  # a table copied as text: its rows stay with the text before
    if _opens_paragraph(prev, nxt, width):
        return False
    full_width = width is not None and len(prev.text) >= width - 3
    if _ends_sentence(prev.text):
        # A wrapped line can end on a full stop by chance; only a full-width one continues.
        # (A marked line with a full stop inside is a run-in heading plus body, not a heading.)
        pure_heading = _is_heading_like(prev.text) and not any(c in TERMINAL for c in prev.text[:-1])
        # Without indents to mark paragraphs, a line opening with a short lead phrase
        # (「深化信用监管。」) starts one.
        return full_width and not pure_heading and (indents or not _lead_phrase().match(nxt.text))
    if full_width:
        return True
    return not _is_heading_like(prev.text) and not _is_heading_like(nxt.text)


def _opens_paragraph(prev: _Line, nxt: _Line, width: int | None) -> bool:
    """`nxt` starts a paragraph of its own, however `prev` ends: a marker, a date, a bullet or
    heading after a full stop, an indent in hard-wrapped text, a 一是 list under a heading."""
    if _PARAGRAPH_MARKER.match(nxt.text) or DATE_LINE.match(nxt.text) or _IMPRINT.search(nxt.text):
        return True
    if nxt.text.startswith(("——", "【", "●", "■", "◆", "▲", "★", "•")) and prev.text[-1] in TERMINAL:
        return True  # a bullet, 【lead】 or 「——」 opener after a full stop
    if width is not None and nxt.indented:
        return True  # hard-wrapped text marks a new paragraph by its indent
    short = width is None or len(nxt.text) < width - 3
    heading_next = _is_heading_like(nxt.text) and not any(c in TERMINAL for c in nxt.text)
    if short and heading_next and prev.text[-1] in TERMINAL:
        return True  # a heading line (【存在问题】, 下步工作) after a full stop
    # After a heading line that happens to be nearly full width.
    return bool(
        _SHI_START.match(nxt.text)
        and _is_heading_like(prev.text)
        and not any(c in TERMINAL for c in prev.text)
    )


def _ends_sentence(text: str) -> bool:
    """The line ends on sentence punctuation, or on a closing quote or bracket right after it."""
    return text[-1] in TERMINAL or (text[-1] in _CLOSERS and len(text) > 1 and text[-2] in TERMINAL)


def split_paragraphs(text: str, *, headings: Sequence[HeadingHint] = ()) -> list[Paragraph]:
    """Rebuild logical paragraphs; drop footers and chrome lines. Offsets stay exact.

    `headings`: lines the file styles as headings (in text order): each is a paragraph of
    its own, never joined to the text around it, and carries its `heading_level`."""
    heading_starts = [h.start for h in headings]
    norm = normalised_view(text, keep_circled=True)  # shared with every stage reading this text
    lines: list[_Line] = []
    blank = False
    pos = 0
    ntext = norm.text
    while pos <= len(ntext):
        nl = ntext.find("\n", pos)
        if nl < 0:
            nl = len(ntext)
        raw = ntext[pos:nl]
        stripped = raw.strip()
        if pos > len(ntext) // 2 and _RELATED.match(stripped):
            break  # the page's list of other articles: the report has ended
        if stripped and not is_chrome_line(stripped):
            lead = len(raw) - len(raw.lstrip())
            origin = norm.origin[pos + lead : pos + lead + len(stripped)]
            heading = _heading_at(headings, heading_starts, origin[0]) if headings else None
            lines.append(_Line(stripped, origin, blank, lead >= 2, heading))
            blank = False
        elif not stripped:
            blank = True
        pos = nl + 1
    if not lines:
        return []
    width = _wrap_width(lines)
    indents = sum(line.indented for line in lines) >= 3
    paragraphs: list[Paragraph] = []
    first = lines[0]
    buf_text = [first.text]
    buf_origin = [first.origin]
    for prev, nxt in pairwise(lines):
        if _should_join(prev, nxt, width, indents=indents):
            buf_text.append(nxt.text)
            buf_origin.append(nxt.origin)
        else:
            paragraphs.append(_paragraph(buf_text, buf_origin, first.heading))
            first, buf_text, buf_origin = nxt, [nxt.text], [nxt.origin]
    paragraphs.append(_paragraph(buf_text, buf_origin, first.heading))
    return paragraphs


def _paragraph(texts: list[str], origins: list[Sequence[int]], heading: HeadingHint | None) -> Paragraph:
    # The lines' origins are copied once, straight into the paragraph's tuple.
    origin = tuple(origins[0]) if len(origins) == 1 else tuple(chain.from_iterable(origins))
    return Paragraph("".join(texts), origin, heading.level if heading is not None else None)


def _heading_at(headings: Sequence[HeadingHint], starts: list[int], offset: int) -> HeadingHint | None:
    """The styled heading whose span holds the original offset `offset`, if any."""
    at = bisect.bisect_right(starts, offset) - 1
    return headings[at] if at >= 0 and offset < headings[at].end else None
