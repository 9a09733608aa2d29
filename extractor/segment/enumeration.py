"""Leaf points of a section: the report's own enumeration, parsed into a tree.

Markers: 一、 / （一）(一) / 1. 1、 / （1）(1) / 一是 二是. A marker at a paragraph start
always counts; inside a paragraph it must follow a sentence boundary and continue its
numbering (a 一是-style marker after a full stop counts even out of order: "a stray 二是
after 五是 does split"). The nesting is read from the order markers appear in, not assumed.
Circled numbers (①②③) are no marker anywhere: the spec keeps the points they number inside
the item whose marker contains them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from extractor.numbers.numerals import parse_cn_integer
from extractor.segment.paragraphs import Paragraph

_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"

# Initial markers (paragraph start). Order of the alternatives matters: 一是 before 一、.
_INITIAL = re.compile(
    r"(?P<shi>[一二三四五六七八九十]{1,3}是)"
    r"|(?P<cn>[一二三四五六七八九十]{1,3})(?:、|\.(?!\d))"
    r"|[(（](?P<pcn>[一二三四五六七八九十]{1,3})[)）]"
    r"|(?P<num>\d{1,2})(?:、|\.(?!\d)|\s(?=\D))"
    r"|[(（](?P<pnum>\d{1,2})[)）]"
    r"|(?P<circ>[" + _CIRCLED + r"])"
    r"|第(?P<di>[一二三四五六七八九十]{1,3})[,，、是]"
)
# Inline markers: after a sentence boundary (or a comma for 一是-style, checked later).
# ① inside a paragraph is not one: the spec counts only （一）, 1., （1） and 一是.
# A match is the boundary character and the marker after it (`_add_inline_tokens` reads
# the marker from the second character). A pattern opening with a lookbehind is tried in
# full at every position; one opening with a class of plain characters lets the engine skip
# to the next boundary with one bitmap lookup a character. No marker ends on a boundary
# character, so two markers never share one and `finditer` finds the same markers.
#: Every character `str.isspace` (and the regex `\s`) accepts, spelled out: a `\s` in the
#: class would be tested character by character after the bitmap.
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_INLINE = re.compile(
    f"[。；;:：！!？?，,{re.escape(WHITESPACE)}](?:"
    r"(?P<shi>[一二三四五六七八九十]{1,3}是)(?![的否])"
    r"|[(（](?P<pcn>[一二三四五六七八九十]{1,3})[)）]"
    r"|(?P<num>\d{1,2})(?:、|\.(?!\d))"
    r"|[(（](?P<pnum>\d{1,2})[)）]"
    r")"
)
# The characters an initial marker can open with, besides a decimal digit (the regex `\d`).
_INITIAL_FIRST = frozenset("一二三四五六七八九十(（第" + _CIRCLED)
_STRONG_BOUNDARY = set("。；;:：！!？?")
_SENTENCE_END = re.compile(r"[。；;！!？?]")
LEAD_END = re.compile(r"[。；;：:！!？?]")


@lru_cache(maxsize=256)
def cn_ordinal(text: str) -> int:
    """The number a marker's numeral states (十一 -> 11); 0 when it is not one (十四五)."""
    return parse_cn_integer(text) or 0


def _kind_and_ordinal(m: re.Match[str]) -> tuple[str, int]:
    # Each alternative of the marker patterns holds exactly one named group (the rest are
    # non-capturing), so the one that matched is the last group closed.
    kind = m.lastgroup
    if kind is None:
        raise ValueError("no marker group")
    value = m.group(kind)
    if kind in ("num", "pnum"):
        return kind, int(value)
    if kind == "circ":
        return kind, _CIRCLED.index(value) + 1
    if kind == "shi":
        return kind, cn_ordinal(value[:-1])
    return kind, cn_ordinal(value)


@dataclass(frozen=True, slots=True)
class ParagraphSlice:
    """The part [start, end) of one paragraph's text that belongs to a section: what the
    enumeration scans for markers. A paragraph with a run-in heading gives only its body."""

    para: Paragraph
    start: int
    end: int

    @property
    def at_paragraph_start(self) -> bool:
        return self.start == 0

    @property
    def text(self) -> str:
        return self.para.text[self.start : self.end]


@dataclass(slots=True)
class Token:
    slice_index: int
    pos: int  # offset in the paragraph text
    kind: str
    ordinal: int
    marker: str
    standalone: bool  # the marker opens a heading line with nothing else in its paragraph
    title: str
    children: list[int] = field(default_factory=list)
    parent: int | None = None


@dataclass(slots=True)
class LeafPiece:
    """One item's text: from `pos` in slice `slice_index` to `end_pos` in slice `end_slice`."""

    slice_index: int
    pos: int
    end_slice: int
    end_pos: int
    marker: str | None
    lead: str | None
    context: list[str]


def marker_at_start(text: str, pos: int = 0) -> re.Match[str] | None:
    """`_INITIAL.match(text, pos)`: the enumeration marker `text` opens with at `pos`, if any.
    A text whose first character opens no marker is answered without trying the pattern's
    seven alternatives (most paragraphs and point texts)."""
    if pos >= len(text):
        return None
    first = text[pos]
    if first not in _INITIAL_FIRST and not first.isdecimal():
        return None
    return _INITIAL.match(text, pos)


def inline_markers(text: str, start: int, stop: int) -> list[tuple[int, str, re.Match[str]]]:
    """The inline markers of `text[start:stop]`, each as (where it starts, the boundary
    character before it, its match): those after a sentence boundary (whitespace or
    。；;:：！!？?，,), never at `start` itself."""
    return [(m.start() + 1, m.group()[0], m) for m in _INLINE.finditer(text, start, stop)]


def title_of(text: str) -> tuple[str, bool]:
    """(title, standalone): the run-in heading of a marked paragraph, or the whole line."""
    return title_between(text, 0, len(text))


def title_between(text: str, start: int, stop: int) -> tuple[str, bool]:
    """`title_of(text[start:stop])`, without copying the rest of the paragraph first."""
    stop = min(stop, len(text))
    end = LEAD_END.search(text, start, stop)
    if end is None:
        return text[start:stop].strip(), max(0, stop - start) <= 80
    return text[start : end.start()].strip(), False


def find_tokens(slices: list[ParagraphSlice], *, causes: list[tuple[int, int]] | None = None) -> list[Token]:
    """All enumeration markers of a section, validated.

    `causes`: (slice index, position) where a cause passage (究其原因…) starts. Inside a cause
    only the next point of the enclosing enumeration counts, and not once the cause has begun
    an enumeration of its own (究其原因，一是…二是… belongs to the one problem).
    """
    tokens: list[Token] = []
    last_ordinal: dict[str, int] = {}
    cause_starts: dict[int, list[int]] = {}
    for ci, pos in sorted(causes or []):
        cause_starts.setdefault(ci, []).append(pos)
    for ci, part in enumerate(slices):
        first = _initial_token(ci, part)
        if first is not None:
            tokens.append(first)
            last_ordinal[first.kind] = first.ordinal
        starts = cause_starts.get(ci)
        # A slice with no cause in it has no scope: no marker of it is a cause's own.
        _add_inline_tokens(ci, part, _CauseScope(starts) if starts else None, tokens, last_ordinal)
    _build_tree(tokens, slices)
    return tokens


def _initial_token(ci: int, part: ParagraphSlice) -> Token | None:
    """The marker the slice opens with, if any text follows it (never a circled number)."""
    text = part.para.text
    m = marker_at_start(text, part.start)
    level = part.para.heading_level
    if m is None and level is not None and part.at_paragraph_start:
        # A heading the file styles (Word's Heading 2) heads the points under it like （一）.
        return Token(ci, part.start, f"styled{level}", 0, "", True, part.text.strip())
    if not m or m.end() >= part.end:
        return None
    kind, ordinal = _kind_and_ordinal(m)
    if kind == "circ":
        return None
    title, standalone = title_between(text, m.end(), part.end)
    standalone = standalone and part.at_paragraph_start
    return Token(ci, part.start, kind, ordinal, m.group(0), standalone, title)


@dataclass(slots=True)
class _CauseScope:
    """Where a slice's cause passages start, and the one the scan is inside (if any)."""

    starts: list[int]
    inside_from: int | None = None
    own_runs: set[str] = field(default_factory=set)  # marker kinds the cause enumerates itself

    def swallows(self, at: int, boundary: str, kind: str, ordinal: int, enclosing: Token | None) -> bool:
        """True if the marker at `at` (after the character `boundary`) belongs to a cause's own
        text, not the section's enumeration."""
        started = [
            pos for pos in self.starts if pos <= at and (self.inside_from is None or pos > self.inside_from)
        ]
        if started:
            self.inside_from, self.own_runs = started[-1], set()
        if self.inside_from is None:
            return False
        continues = (
            enclosing is not None
            and enclosing.kind == kind
            and enclosing.ordinal + 1 == ordinal
            and kind not in self.own_runs
            and boundary in _STRONG_BOUNDARY
        )
        if not continues:
            self.own_runs.add(kind)
            return True
        self.inside_from = None  # the enclosing enumeration goes on: the cause has ended
        return False


def _inline_marker_counts(kind: str, ordinal: int, boundary: str, last_ordinal: dict[str, int]) -> bool:
    """An inline marker continues its numbering after a sentence boundary (一是-style ones may
    follow a comma, and after a full stop count even out of order)."""
    expected = ordinal == 1 or last_ordinal.get(kind) == ordinal - 1
    if kind == "shi":
        return expected or (boundary in _STRONG_BOUNDARY and ordinal > 1 and kind in last_ordinal)
    return expected and boundary in _STRONG_BOUNDARY | {"\n"}


def _add_inline_tokens(
    ci: int,
    part: ParagraphSlice,
    scope: _CauseScope | None,
    tokens: list[Token],
    last_ordinal: dict[str, int],
) -> None:
    text = part.para.text
    for at, boundary, m in inline_markers(text, part.start, part.end):
        kind, ordinal = _kind_and_ordinal(m)
        if scope is not None and scope.swallows(at, boundary, kind, ordinal, tokens[-1] if tokens else None):
            continue
        if not _inline_marker_counts(kind, ordinal, boundary, last_ordinal) or m.end() >= part.end:
            continue
        title, _ = title_between(text, m.end(), part.end)
        tokens.append(Token(ci, at, kind, ordinal, m.group()[1:], False, title))
        last_ordinal[kind] = ordinal


def _build_tree(tokens: list[Token], slices: list[ParagraphSlice]) -> None:
    stack: list[int] = []
    for index, token in enumerate(tokens):
        kinds = [tokens[i].kind for i in stack]
        if token.kind in kinds:
            del stack[kinds.index(token.kind) :]
        elif stack and tokens[stack[-1]].kind == "shi" and token.pos == slices[token.slice_index].start:
            # 一是 is the lowest level the spec knows: a list opening a new paragraph after a
            # 一是 point is its sibling, not its child (else the 一是 body would be lost).
            del stack[-1]
        if stack:
            token.parent = stack[-1]
            tokens[stack[-1]].children.append(index)
        stack.append(index)


def leaf_pieces(
    slices: list[ParagraphSlice],
    tokens: list[Token],
    *,
    context: list[str],
    continues: Callable[[ParagraphSlice], bool] | None = None,
) -> list[LeafPiece]:
    """The items of a section: one per leaf, or one per paragraph where there are no markers."""
    if not tokens:
        return [
            LeafPiece(ci, c.start, ci, c.end, None, _lead(c.text), list(context))
            for ci, c in enumerate(slices)
        ]
    pieces: list[LeafPiece] = []
    for index, token in enumerate(tokens):
        if token.children:
            continue
        end_slice, end_pos = _end_of(index, tokens, slices)
        ctx = list(context) + _ancestor_titles(token, tokens)
        if token.standalone and token.kind == "shi" and token.slice_index < end_slice:
            # 「一是…」 on a line of its own heads one point, however many paragraphs it has.
            body_start = slices[token.slice_index + 1]
            pieces.append(
                LeafPiece(
                    token.slice_index + 1,
                    body_start.start,
                    end_slice,
                    end_pos,
                    token.marker,
                    token.title,
                    ctx,
                )
            )
        elif token.standalone:
            pieces += _heading_line_pieces(token, slices, end_slice, end_pos, ctx)
        elif token.slice_index >= end_slice:
            pieces.append(
                LeafPiece(token.slice_index, token.pos, end_slice, end_pos, token.marker, token.title, ctx)
            )
        else:
            pieces += _point_and_paragraphs_after(token, slices, end_slice, end_pos, ctx, continues)
    return pieces


def _heading_line_pieces(
    token: Token, slices: list[ParagraphSlice], end_slice: int, end_pos: int, ctx: list[str]
) -> list[LeafPiece]:
    """A heading line: each paragraph under it is one item; the heading is context."""
    body = [
        ci
        for ci in range(token.slice_index + 1, end_slice + 1)
        if ci < end_slice or end_pos > slices[ci].start
    ]
    if not body:
        c = slices[token.slice_index]
        return [
            LeafPiece(
                token.slice_index, token.pos, token.slice_index, c.end, token.marker or None, token.title, ctx
            )
        ]
    pieces = []
    for ci in body:
        c = slices[ci]
        stop = end_pos if ci == end_slice else c.end
        pieces.append(
            LeafPiece(ci, c.start, ci, stop, None, _lead(c.para.text[c.start : stop]), [*ctx, token.title])
        )
    return pieces


def _point_and_paragraphs_after(
    token: Token,
    slices: list[ParagraphSlice],
    end_slice: int,
    end_pos: int,
    ctx: list[str],
    continues: Callable[[ParagraphSlice], bool] | None,
) -> list[LeafPiece]:
    """A point ends with its paragraph: an unmarked paragraph after it is an item of its own
    (the spec's "each separate paragraph is one item"), not the point's tail, unless it opens
    with a circled number (①: a sub-point of the point) or `continues` says it belongs to the
    point (a problem's 「原因：…」 paragraph)."""
    last = token.slice_index
    while last < end_slice and (
        slices[last].text.rstrip().endswith((":", "："))
        or _opens_with_circled_number(slices[last + 1])
        or (continues is not None and continues(slices[last + 1]))
    ):
        last += 1  # 「…情况如下：」 runs on into what follows; so does a problem's 原因 paragraph
    stop_here = end_pos if last == end_slice else slices[last].end
    pieces = [LeafPiece(token.slice_index, token.pos, last, stop_here, token.marker, token.title, ctx)]
    for ci in range(last + 1, end_slice + 1):
        c = slices[ci]
        stop = end_pos if ci == end_slice else c.end
        if stop > c.start:
            pieces.append(LeafPiece(ci, c.start, ci, stop, None, _lead(c.para.text[c.start : stop]), ctx))
    return pieces


def _opens_with_circled_number(part: ParagraphSlice) -> bool:
    """The slice opens with ①…⑳: a sub-point, never a point of its own after a marked one."""
    return part.start < part.end and part.para.text[part.start] in _CIRCLED


def _end_of(index: int, tokens: list[Token], slices: list[ParagraphSlice]) -> tuple[int, int]:
    if index + 1 < len(tokens):
        nxt = tokens[index + 1]
        if nxt.pos == slices[nxt.slice_index].start and nxt.slice_index > 0:
            return nxt.slice_index - 1, slices[nxt.slice_index - 1].end
        return nxt.slice_index, nxt.pos
    return len(slices) - 1, slices[-1].end


def _ancestor_titles(token: Token, tokens: list[Token]) -> list[str]:
    titles: list[str] = []
    parent = token.parent
    while parent is not None:
        titles.append(tokens[parent].title)
        parent = tokens[parent].parent
    return titles[::-1]


def _lead(text: str) -> str:
    m = marker_at_start(text)
    body = text[m.end() :] if m else text
    end = LEAD_END.search(body)
    return (body[: end.start()] if end else body).strip()[:80]
