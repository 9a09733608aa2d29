"""Leaf points of a section: the report's own enumeration, parsed into a tree.

Markers: 一、 / （一）(一) / 1. 1、 / （1）(1) / ① / 一是 二是. A marker at a paragraph start
always counts; inside a paragraph it must follow a sentence boundary and continue its
numbering (a 一是-style marker after a full stop counts even out of order: "a stray 二是
after 五是 does split"). The nesting is read from the order markers appear in, not assumed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

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
_INLINE = re.compile(
    r"(?<=[。；;:：！!？?，,\s])(?:"
    r"(?P<shi>[一二三四五六七八九十]{1,3}是)(?![的否])"
    r"|[(（](?P<pcn>[一二三四五六七八九十]{1,3})[)）]"
    r"|(?P<num>\d{1,2})(?:、|\.(?!\d))"
    r"|[(（](?P<pnum>\d{1,2})[)）]"
    r")"
)
_STRONG_BOUNDARY = set("。；;:：！!？?")
_SENTENCE_END = re.compile(r"[。；;！!？?]")
LEAD_END = re.compile(r"[。；;：:！!？?]")


def cn_ordinal(text: str) -> int:
    """The number a marker's numeral states (十一 -> 11); 0 when it is not one (十四五)."""
    return parse_cn_integer(text) or 0


def _kind_and_ordinal(m: re.Match[str]) -> tuple[str, int]:
    for kind in ("shi", "cn", "pcn", "num", "pnum", "circ", "di"):
        value = m.groupdict().get(kind)
        if value:
            if kind in ("num", "pnum"):
                return kind, int(value)
            if kind == "circ":
                return kind, _CIRCLED.index(value) + 1
            if kind == "shi":
                return kind, cn_ordinal(value[:-1])
            return kind, cn_ordinal(value)
    raise ValueError("no marker group")


@dataclass(frozen=True, slots=True)
class Chunk:
    """A run of one paragraph's text that belongs to a section."""

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
    chunk: int
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
    """One item's text: [start, end) of chunk `chunk` to [.., end_pos) of `end_chunk`."""

    chunk: int
    pos: int
    end_chunk: int
    end_pos: int
    marker: str | None
    lead: str | None
    context: list[str]


def marker_at_start(text: str) -> re.Match[str] | None:
    return _INITIAL.match(text)


def title_of(text: str) -> tuple[str, bool]:
    """(title, standalone): the run-in heading of a marked paragraph, or the whole line."""
    end = LEAD_END.search(text)
    if end is None:
        return text.strip(), len(text) <= 80
    return text[: end.start()].strip(), False


def find_tokens(chunks: list[Chunk], *, causes: list[tuple[int, int]] | None = None) -> list[Token]:
    """All enumeration markers of a section, validated.

    `causes`: (chunk, position) where a cause passage (究其原因…) starts. Inside a cause only
    the next point of the enclosing enumeration counts, and not once the cause has begun an
    enumeration of its own (究其原因，一是…二是… belongs to the one problem).
    """
    tokens: list[Token] = []
    last_ordinal: dict[str, int] = {}
    cause_starts = sorted(causes or [])
    for ci, chunk in enumerate(chunks):
        chunk_causes = [pos for c, pos in cause_starts if c == ci]
        text = chunk.para.text
        m = _INITIAL.match(text, chunk.start)
        if m and m.end() < chunk.end:
            kind, ordinal = _kind_and_ordinal(m)
            title, standalone = title_of(text[m.end() : chunk.end])
            standalone = standalone and chunk.at_paragraph_start
            tokens.append(Token(ci, chunk.start, kind, ordinal, m.group(0), standalone, title))
            last_ordinal[kind] = ordinal
        cause_from: int | None = None
        cause_runs: set[str] = set()
        for m in _INLINE.finditer(text, chunk.start + 1, chunk.end):
            kind, ordinal = _kind_and_ordinal(m)
            started = [
                pos for pos in chunk_causes if pos <= m.start() and (cause_from is None or pos > cause_from)
            ]
            if started:
                cause_from, cause_runs = started[-1], set()
            if cause_from is not None:
                enclosing = tokens[-1] if tokens else None
                continues = (
                    enclosing is not None
                    and enclosing.kind == kind
                    and enclosing.ordinal + 1 == ordinal
                    and kind not in cause_runs
                    and text[m.start() - 1] in _STRONG_BOUNDARY
                )
                if not continues:
                    cause_runs.add(kind)
                    continue
                cause_from = None
            boundary = text[m.start() - 1]
            expected = ordinal == 1 or last_ordinal.get(kind) == ordinal - 1
            if kind == "shi":
                ok = expected or (boundary in _STRONG_BOUNDARY and ordinal > 1 and kind in last_ordinal)
            else:
                ok = expected and boundary in _STRONG_BOUNDARY | {"\n"}
            if not ok or m.end() >= chunk.end:
                continue
            title, _ = title_of(text[m.end() : chunk.end])
            tokens.append(Token(ci, m.start(), kind, ordinal, m.group(0), False, title))
            last_ordinal[kind] = ordinal
    _build_tree(tokens, chunks)
    return tokens


def _build_tree(tokens: list[Token], chunks: list[Chunk]) -> None:
    stack: list[int] = []
    for index, token in enumerate(tokens):
        kinds = [tokens[i].kind for i in stack]
        if token.kind in kinds:
            del stack[kinds.index(token.kind) :]
        elif stack and tokens[stack[-1]].kind == "shi" and token.pos == chunks[token.chunk].start:
            # 一是 is the lowest level the spec knows: a list opening a new paragraph after a
            # 一是 point is its sibling, not its child (else the 一是 body would be lost).
            del stack[-1]
        if stack:
            token.parent = stack[-1]
            tokens[stack[-1]].children.append(index)
        stack.append(index)


def leaf_pieces(
    chunks: list[Chunk],
    tokens: list[Token],
    *,
    context: list[str],
    continues: Callable[[Chunk], bool] | None = None,
) -> list[LeafPiece]:
    """The items of a section: one per leaf, or one per paragraph where there are no markers."""
    if not tokens:
        return [
            LeafPiece(ci, c.start, ci, c.end, None, _lead(c.text), list(context))
            for ci, c in enumerate(chunks)
        ]
    pieces: list[LeafPiece] = []
    for index, token in enumerate(tokens):
        if token.children:
            continue
        end_chunk, end_pos = _end_of(index, tokens, chunks)
        ctx = list(context) + _ancestor_titles(token, tokens)
        if token.standalone and token.kind == "shi" and token.chunk < end_chunk:
            # 「一是…」 on a line of its own heads one point, however many paragraphs it has.
            body_start = chunks[token.chunk + 1]
            pieces.append(
                LeafPiece(
                    token.chunk + 1, body_start.start, end_chunk, end_pos, token.marker, token.title, ctx
                )
            )
            continue
        if token.standalone:
            # A heading line: each paragraph under it is one item; the heading is context.
            body = [ci for ci in range(token.chunk + 1, end_chunk + 1) if ci < len(chunks)]
            body = [ci for ci in body if ci < end_chunk or end_pos > chunks[ci].start]
            if not body:
                c = chunks[token.chunk]
                pieces.append(
                    LeafPiece(token.chunk, token.pos, token.chunk, c.end, token.marker, token.title, ctx)
                )
                continue
            for ci in body:
                c = chunks[ci]
                stop = end_pos if ci == end_chunk else c.end
                pieces.append(
                    LeafPiece(
                        ci, c.start, ci, stop, None, _lead(c.para.text[c.start : stop]), [*ctx, token.title]
                    )
                )
            continue
        if end_chunk == token.chunk or token.chunk >= end_chunk:
            pieces.append(
                LeafPiece(token.chunk, token.pos, end_chunk, end_pos, token.marker, token.title, ctx)
            )
            continue
        # A point ends with its paragraph: an unmarked paragraph after it is an item of its
        # own (the spec's "each separate paragraph is one item"), not the point's tail, unless
        # `continues` says it belongs to the point (a problem's 「原因：…」 paragraph).
        last = token.chunk
        while last < end_chunk and (
            chunks[last].text.rstrip().endswith((":", "："))
            or (continues is not None and continues(chunks[last + 1]))
        ):
            last += 1  # 「…情况如下：」 runs on into what follows; so does a problem's 原因 paragraph
        stop_here = end_pos if last == end_chunk else chunks[last].end
        pieces.append(LeafPiece(token.chunk, token.pos, last, stop_here, token.marker, token.title, ctx))
        for ci in range(last + 1, end_chunk + 1):
            c = chunks[ci]
            stop = end_pos if ci == end_chunk else c.end
            if stop > c.start:
                pieces.append(LeafPiece(ci, c.start, ci, stop, None, _lead(c.para.text[c.start : stop]), ctx))
    return pieces


def _end_of(index: int, tokens: list[Token], chunks: list[Chunk]) -> tuple[int, int]:
    if index + 1 < len(tokens):
        nxt = tokens[index + 1]
        if nxt.pos == chunks[nxt.chunk].start and nxt.chunk > 0:
            return nxt.chunk - 1, chunks[nxt.chunk - 1].end
        return nxt.chunk, nxt.pos
    return len(chunks) - 1, chunks[-1].end


def _ancestor_titles(token: Token, tokens: list[Token]) -> list[str]:
    titles: list[str] = []
    parent = token.parent
    while parent is not None:
        titles.append(tokens[parent].title)
        parent = tokens[parent].parent
    return titles[::-1]


def _lead(text: str) -> str:
    m = _INITIAL.match(text)
    body = text[m.end() :] if m else text
    end = LEAD_END.search(body)
    return (body[: end.start()] if end else body).strip()[:80]
