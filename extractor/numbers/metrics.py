"""Metric finder: counts, amounts and rates stated in report text.

`find_metrics` works on raw text as loaded (PDF line breaks, full-width digits, thousands
separators): it matches on `normalise(text, drop_whitespace=True)` and maps every span back,
so offsets always index the text it was given. The word lists and patterns live in
`extractor.numbers.vocabulary`; numerals are read by `extractor.numbers.numerals` (its
`parse_chinese_number` is re-exported here for existing callers).
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise
from typing import NamedTuple

from rapidfuzz import fuzz

from extractor.core.normalise import NormalisedText, normalise
from extractor.core.script import to_simplified
from extractor.numbers import vocabulary
from extractor.numbers.numerals import MULTIPLIERS, as_number, parse_chinese_number

__all__ = ["MetricMatch", "dedupe_repeats", "find_metrics", "parse_chinese_number"]


@dataclass(frozen=True, slots=True)
class MetricMatch:
    """One stated metric. All offsets are half-open and index the text given to `find_metrics`.

    `start:end` covers the number and its unit (not 约/近 before it); `evidence_start:
    evidence_end` covers the shortest clause holding both the name and the number.
    """

    name: str
    value: int | float
    unit: str
    start: int
    end: int
    evidence_start: int
    evidence_end: int


_BARE_MULTIPLIER_RE = re.compile(r"[百千万亿]+")
_APPROX_BEFORE_RE = re.compile(r"(逾|近|约|超过|上)$")
_CHANGE_TO_RE = re.compile(r"(提高|提升|增加|增长|上升|下降|减少|降低)(到|至)")
_CJK_RE = re.compile(r"[\u4e00-\u9fff]")
_LINE_ENDS = frozenset("。；;！!？?：:，,、）)》”」…")
_ENUMERATION_START_RE = re.compile(r"[(（]?[一二三四五六七八九十\d]{1,3}[)）、.．是]")


class _Candidate(NamedTuple):
    """An accepted number + unit in normalised coordinates. (A named tuple: made for every
    number a report states, and a tuple is built in a fraction of a frozen dataclass's
    instructions, which sets each field through `object.__setattr__`.)"""

    start: int
    end: int
    value: int | float
    unit: str


def _hard_line_breaks(text: str, nt: NormalisedText) -> list[int]:
    """Normalised indices before which a line break ends a clause.

    A break inside a wrapped paragraph (long line, no closing punctuation, next line not
    indented and not a new enumerated point) is treated as a PDF wrap and ignored.
    """
    if "\n" not in text:
        return []
    breaks: list[int] = []
    lines = text.split("\n")
    newline_at = -1
    for line, following in pairwise(lines):
        newline_at += len(line) + 1
        visible = line.strip()
        wrapped = (
            len(visible) >= 30
            and visible[-1] not in _LINE_ENDS
            and following[:1].strip() != ""
            and not _ENUMERATION_START_RE.match(following)
        )
        if not wrapped:
            breaks.append(bisect_left(nt.origin, newline_at))
    return breaks


def _rejected_by_context(s: str, start: int, end: int, unit: str, *, chinese: bool) -> bool:
    """True where the number is an ordinal, a range, a frequency, a duration, a rank, the start
    of an ordinary word, or (for Chinese numerals) anything but a count closing its clause."""
    before = s[max(0, start - 8) : start]
    if vocabulary.NOT_A_COUNT_BEFORE_RE.search(before) or vocabulary.INTENDED_BEFORE_RE.search(before):
        return True
    if unit in vocabulary.RANK_UNITS and vocabulary.RANK_BEFORE_RE.search(before):
        return True
    after = s[end : end + 4]
    if after.startswith(("以上的", "以下的", "以内的")):
        return True  # a threshold describing things (50万元以上的项目), not a result
    if before.endswith(("由", "从")) and _CHANGE_TO_RE.match(s, end, end + 6):
        return True  # the starting level of a change (由85%提高到96%): the result is the 96
    if after[:1] and after[0] in vocabulary.FORBIDDEN_AFTER_UNIT.get(unit, ""):
        return True
    if unit in vocabulary.FORBIDDEN_WORDS_AFTER_UNIT and after.startswith(
        vocabulary.FORBIDDEN_WORDS_AFTER_UNIT[unit]
    ):
        return True
    ends_clause = (
        not after or after[0] in vocabulary.BOUNDARY_CHARS or bool(vocabulary.BOUND_SUFFIX_RE.match(after))
    )
    if unit in vocabulary.CLAUSE_FINAL_UNITS and not ends_clause:
        return True
    if chinese:
        # Chinese numerals are trusted as a count closing its clause (受理案件三十件。,
        # 出庭应诉一次。) or right after an action (新建两个工作站); elsewhere, before a noun,
        # they name a set (三项举措, 两个确立, 五个到户) or are words (一次性, 一批).
        lone_one = s[start] == "一" and (end - start) <= 2
        if lone_one and not (ends_clause and _CJK_RE.match(s[start - 1 : start] or "x")):
            return True
        if not ends_clause and not (vocabulary.CN_COUNT_AFTER_ACTION_RE.search(before) and not lone_one):
            return True
        return vocabulary.CN_NOT_A_COUNT_BEFORE_RE.search(before) is not None
    return False


def _candidates(s: str) -> list[_Candidate]:
    """Every number + measure word in `s` that survives the exclusion rules, in text order."""
    numbers = list(vocabulary.METRIC_RE.finditer(s))
    if not numbers:
        return []  # many passages state no figure: no need to look for quotes in them
    quoted = (
        [(m.start(), m.end()) for m in vocabulary.QUOTED_RE.finditer(s)]
        if _holds_any(s, _QUOTE_OPENERS)
        else []
    )
    quoted_starts = [q[0] for q in quoted]
    found: list[_Candidate] = []
    for m in numbers:
        start, end = m.start(), m.end()
        index = bisect_right(quoted_starts, start) - 1
        if index >= 0 and start < quoted[index][1]:
            continue  # inside a title or a quoted name
        arabic, numeral = m.group("ar", "cn")
        if arabic:
            unit, alt = m.group("ar_unit", "ar_alt")
        elif numeral:
            if _BARE_MULTIPLIER_RE.fullmatch(numeral) and not _APPROX_BEFORE_RE.search(s, 0, start):
                continue  # 进万家, 千所联千企: words, not counts (逾千人次, 近万份 are)
            unit, alt = m.group("cn_unit", "cn_alt")
        else:
            unit, alt = "%", None
        if _rejected_by_context(s, start, end, unit, chinese=bool(numeral)):
            continue
        value: int | float | None
        if arabic:
            multiplier = MULTIPLIERS.get(m.group("ar_mult") or "", 1)
            digits = arabic.replace(",", "")
            # A whole number (most are) needs no Decimal: the product is the same int.
            value = (
                int(digits) * multiplier if digits.isdecimal() else as_number(Decimal(digits) * multiplier)
            )
        else:
            value = parse_chinese_number(numeral or m.group("pct_num"))
        if value is not None:
            found.append(_Candidate(start, end, value, unit + (alt or "")))
    return found


_BOUNDARIES_TO_NUL = str.maketrans(dict.fromkeys(vocabulary.BOUNDARY_CHARS, "\0"))
# The first characters of QUOTED_RE's and MASKED_PUNCTUATION_RE's spans: a passage holding
# none of them (a third of those with a figure) has no such span, and `in` says so sooner
# than the regex engine's scan of every position.
_QUOTE_OPENERS = '“《〈<「"〔['
_MASK_OPENERS = "(“《"


def _holds_any(s: str, characters: str) -> bool:
    return any(character in s for character in characters)


def _masked(m: re.Match[str]) -> str:
    """A bracketed or quoted span with its clause boundaries turned into NULs."""
    span = m.group()
    if span[0] == "(":
        # A bracket holds no digit (MASKED_PUNCTUATION_RE), so no comma or point in it can be
        # a thousands separator or a decimal point: every mark is a boundary, no lookaround.
        return span.translate(_BOUNDARIES_TO_NUL)
    return vocabulary.BOUNDARY_RE.sub("\0", span)


class _Clauses:
    """Clause boundaries of one normalised text, found on demand around each number.

    Boundaries are punctuation marks (`BOUNDARY_RE`, masked inside brackets and quotes:
    乡(镇、街道), “谁分管、谁负责”) and hard line breaks; a clause lies between two of them.
    """

    _WINDOW = 160

    def __init__(self, s: str, hard_breaks: list[int]) -> None:
        self.scan = vocabulary.MASKED_PUNCTUATION_RE.sub(_masked, s) if _holds_any(s, _MASK_OPENERS) else s
        self.length = len(s)
        self.breaks = hard_breaks
        self._around: dict[tuple[int, int], tuple[int, int]] = {}

    def start_of(self, pos: int) -> int:
        """Start of the clause holding the character at `pos`."""
        index = bisect_right(self.breaks, pos) - 1
        floor = self.breaks[index] if index >= 0 else 0
        low = pos
        while low > floor:
            # Look backwards in growing windows: clauses are short, reports are not.
            low = max(floor, low - self._WINDOW)
            mark = vocabulary.LAST_BOUNDARY_RE.match(self.scan, low, pos)
            if mark:
                return mark.end()
        return floor

    def end_of(self, pos: int) -> int:
        """End of the clause holding the character just before `pos`."""
        index = bisect_left(self.breaks, pos)
        ceiling = self.breaks[index] if index < len(self.breaks) else self.length
        mark = vocabulary.BOUNDARY_RE.search(self.scan, pos, ceiling)
        return mark.start() if mark else ceiling

    def around(self, start: int, end: int) -> tuple[int, int]:
        """The clause holding `start:end` (boundaries inside the span are ignored)."""
        found = self._around.get((start, end))
        if found is None:
            found = self._around[start, end] = (self.start_of(start), self.end_of(end))
        return found

    def previous(self, clause_start: int) -> tuple[int, int] | None:
        """The clause ending just before `clause_start`, or None at the start of the text."""
        if clause_start == 0:
            return None
        end = clause_start
        if vocabulary.BOUNDARY_RE.match(self.scan, clause_start - 1):
            end -= 1
        if end == 0:
            return None
        start = self.start_of(end - 1)
        return (start, end) if start < end else None


def _trim_name(s: str, start: int, end: int) -> tuple[int, int]:
    """Narrow `s[start:end]` to the counted thing by dropping connectors and quantity words.

    A name longer than `NAME_MAX` keeps its tail, cut after an unmatched closing quote or
    title mark so that no half title (…读本》等宣传资料) is left at its start.
    """
    while True:
        while start < end:
            m = vocabulary.LEADING_NOISE_RE.match(s, start, end)
            if not m or m.end() == start:
                break
            start = m.end()
        while start < end:
            m = vocabulary.TRAILING_NOISE_RE.search(s, start, end)
            if not m:
                break
            end = m.start()
        if end - start <= vocabulary.NAME_MAX:
            return start, end
        start = end - vocabulary.NAME_MAX
        closing = vocabulary.UNMATCHED_CLOSING_RE.match(s, start, end)
        if closing:
            start = closing.end()


def _post_name(s: str, end: int, clause_end: int, *, allow_de: bool) -> tuple[int, int] | None:
    """The noun right after a unit (共有44名律师 -> 律师), or None if no noun follows."""
    bound = vocabulary.BOUND_SUFFIX_RE.match(s, end, clause_end)
    if bound:  # 95%以上 names nothing
        end = bound.end()
    if end < clause_end and allow_de and s[end] == "的":
        end += 1
    if end >= clause_end or not _CJK_RE.match(s, end) or vocabulary.POST_NAME_VERB_START_RE.match(s, end):
        return None
    limit = min(clause_end, end + vocabulary.POST_NAME_MAX)
    stop = vocabulary.POST_NAME_STOP_RE.search(s, end + 1, limit)
    return (end, stop.start() if stop else limit)


def _list_names(s: str, clauses: _Clauses, clause_start: int) -> list[tuple[int, int]]:
    """Names listed before this clause and joined by 、 (参考率、合格率均达100%), first first."""
    names: list[tuple[int, int]] = []
    while clause_start > 0 and clauses.scan[clause_start - 1] == "、":
        previous = clauses.previous(clause_start)
        if previous is None:
            break
        start, end = _trim_name(s, *previous)
        if not start < end <= start + vocabulary.LIST_NAME_MAX or any(ch.isdigit() for ch in s[start:end]):
            break
        names.insert(0, (start, end))
        clause_start = previous[0]
    return names


def _name_and_evidence(
    s: str, clauses: _Clauses, found: list[_Candidate], index: int, previous_name: tuple[int, int] | None
) -> tuple[tuple[int, int] | None, int, int]:
    """Name span (None if nothing names it) and evidence span of one candidate."""
    c = found[index]
    clause_start, clause_end = clauses.around(c.start, c.end)
    pre_start = clause_start
    if index and found[index - 1].end > clause_start:
        # In a run (80份80人, 4个方面12个突出问题) neither the previous count nor the noun it
        # took as its name belongs to this one.
        pre_start = found[index - 1].end
        if previous_name and previous_name[0] >= pre_start:
            pre_start = min(previous_name[1], c.start)
    raw_pre = s[pre_start : c.start]
    name_start, name_end = _trim_name(s, pre_start, c.start)
    post = _post_name(s, c.end, clause_end, allow_de=False)
    name: tuple[int, int] | None = (name_start, name_end) if name_start < name_end else None
    if post and (
        name is None
        or vocabulary.PREPOSITIONED_BEFORE_RE.search(raw_pre)
        or vocabulary.PLACE_ONLY_RE.fullmatch(s, name_start, name_end)
    ):
        name = post
    if name is None:
        if pre_start > clause_start and previous_name:
            name = previous_name
        else:
            name = _post_name(s, c.end, clause_end, allow_de=True)
        if name is None and pre_start == clause_start:
            previous = clauses.previous(clause_start)
            if previous and not (index and found[index - 1].end > previous[0]):
                trimmed = _trim_name(s, *previous)
                name = trimmed if trimmed[0] < trimmed[1] else None
    evidence_start, evidence_end = clause_start, clause_end
    if name:
        evidence_start, evidence_end = min(evidence_start, name[0]), max(evidence_end, name[1])
    return name, evidence_start, evidence_end


def find_metrics(text: str, *, normalised: NormalisedText | None = None) -> list[MetricMatch]:
    """All metrics stated in `text`, in text order.

    Guarantees: offsets index `text` itself (so `text[m.evidence_start:m.evidence_end]` is
    verbatim and contains `text[m.start:m.end]`); value has 万/亿 folded in and 余/多/约/近
    dropped; unit is the measure word as written (NFKC), % for percentages. Numbers in
    quotes and titles, years, dates, ordinals, ranges, frequencies, durations and slogans
    are left out. A rate list sharing one number (参考率、合格率均达100%) gives one match
    per name, all with the same span.

    `normalised`: `normalise(text, drop_whitespace=True)` where the caller has it already
    (a slice of its document's view); read only for text in simplified script.
    """
    if not text:
        return []
    # Read traditional script as simplified (one to one: offsets hold); names and units are
    # then taken from the text as written.
    simplified = to_simplified(text)
    nt = (
        normalised
        if normalised is not None and simplified == text
        else normalise(simplified, drop_whitespace=True)
    )
    s = nt.text
    found = _candidates(s)
    if not found:
        return []
    written = _written(text, simplified, s)
    clauses = _Clauses(s, _hard_line_breaks(text, nt))
    results: list[MetricMatch] = []
    previous_name: tuple[int, int] | None = None
    respectively: list[tuple[int, int]] = []
    respectively_start = 0
    for index, c in enumerate(found):
        start, end = nt.to_original(c.start, c.end)
        clause_start, _ = clauses.around(c.start, c.end)
        names: list[tuple[int, int]]
        name: tuple[int, int] | None
        if respectively and clause_start == c.start and s[c.start - 1 : c.start] == "、":
            # 分别为98%、95%: the next bare number takes the next listed name.
            name = respectively.pop(0)
            names, evidence_start = [name], respectively_start
            evidence_end = clauses.around(c.start, c.end)[1]
        else:
            respectively = []
            name, evidence_start, evidence_end = _name_and_evidence(s, clauses, found, index, previous_name)
            names = [name] if name else []
            before = s[clause_start : c.start]
            shared = vocabulary.SHARED_VALUE_BEFORE_RE.search(before)
            each = not shared and vocabulary.RESPECTIVELY_BEFORE_RE.search(before)
            listed = _list_names(s, clauses, clause_start) if name and (shared or each) else []
            if listed and shared:
                names = [*listed, *names]
                evidence_start = min(evidence_start, listed[0][0])
            elif listed and name and _following_bare_count(s, clauses, found, index) == len(listed):
                respectively = [*listed[1:], name]
                respectively_start = listed[0][0]
                names, evidence_start = [listed[0]], listed[0][0]
        previous_name = names[-1] if names else None
        ev_start, ev_end = nt.to_original(evidence_start, evidence_end)
        name_spans: list[tuple[int, int] | None] = [*names] or [None]  # an unnamed metric is kept
        unit = c.unit if written is s else _as_written(c.unit, written, c.end)
        for name_span in name_spans:
            label = written[name_span[0] : name_span[1]] if name_span else ""
            results.append(MetricMatch(label, c.value, unit, start, end, ev_start, ev_end))
    return results


def _written(text: str, simplified: str, s: str) -> str:
    """The normalised text in the report's own script (`s` is that of `simplified`)."""
    return s if simplified == text else normalise(text, drop_whitespace=True).text


def _as_written(unit: str, written: str, end: int) -> str:
    """The unit ending at `end` as the report writes it (個 where the matcher read 个)."""
    original = written[end - len(unit) : end]
    return original if to_simplified(original) == unit else unit


def _following_bare_count(s: str, clauses: _Clauses, found: list[_Candidate], index: int) -> int:
    """How many later candidates follow `found[index]` as bare 、-joined numbers (98%、95%)."""
    count = 0
    for previous, current in pairwise(found[index:]):
        if (
            s[previous.end : current.start] != "、"
            or clauses.around(current.start, current.end)[0] != current.start
        ):
            break
        count += 1
    return count


def _similar_names(a: str, b: str) -> bool:
    """Names of the same thing: one holds the other and is at least half its length
    (行政复议案件 / 受理行政复议案件), or they are nearly equal (rapidfuzz ratio >= 80).
    Short names sharing a generic word (受理案件 / 办理信访案件) are not similar."""
    if not a or not b:
        return False
    shorter, longer = sorted((a, b), key=len)
    if shorter in longer and 2 * len(shorter) >= len(longer):
        return True
    return fuzz.ratio(a, b) >= 80


def dedupe_repeats(matches: list[MetricMatch]) -> list[MetricMatch]:
    """`matches` without later restatements, in their order: a match is dropped when an
    earlier kept one has the same value and unit and a similar name (see `_similar_names`).
    A match with an empty name is never dropped."""
    kept: list[MetricMatch] = []
    for match in matches:
        if any(
            k.value == match.value and k.unit == match.unit and _similar_names(k.name, match.name)
            for k in kept
        ):
            continue
        kept.append(match)
    return kept
