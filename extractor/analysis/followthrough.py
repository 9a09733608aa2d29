"""Plan follow-through: was what an issuer planned for year N+1 reported as done in N+1?

For each issuer with an annual report for year N (its plans) and one for the plans' year
(its achievements), each plan is compared with each achievement of that later report:
cosine similarity of character 1-2-gram TF-IDF vectors of their wordings, plus a bonus when
the areas agree. The best achievement is the match. Then:
- similarity below `match_min`: 未见提及 (no achievement carries the plan out);
- else 已落实 when at least `full_share` of the plan's clauses are found in the match
  (share of a clause's character bigrams >= `clause_min`) and the match does not say the
  work is unfinished (尚未, 正在, 其余… : `INCOMPLETE_CUES`);
- else 部分.
The thresholds are calibrated on hand-labelled plans (eval/analysis_eval.py).
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from extractor.analysis.records import ItemRef, SourcedRecord, item_wording
from extractor.analysis.tfidf import char_tfidf, pair_similarities
from extractor.core.normalise import bigram_coverage
from extractor.core.schema import Achievement, ListName, Plan

Verdict = Literal["已落实", "部分", "未见提及"]
VERDICTS: tuple[Verdict, ...] = ("已落实", "部分", "未见提及")

#: Words with which a report says a piece of work is under way but not finished.
INCOMPLETE_CUES = (
    "尚未",
    "正在",
    "其余",
    "仍在",
    "推进中",
    "筹建",
    "筹备",
    "未完成",
    "部分",
    "启动",
    "初步",
    "逐步",
)
_CLAUSE_SPLIT = re.compile(r"[，,；;。：:]")
_MIN_CLAUSE_CHARS = 4


@dataclass(frozen=True)
class FollowSettings:
    match_min: float = 0.35
    clause_min: float = 0.4
    full_share: float = 0.4
    area_bonus: float = 0.05


@dataclass(frozen=True)
class PlanMatch:
    """A plan, the achievement of the next year most like it, and the evidence for a verdict."""

    source: SourcedRecord
    ref: ItemRef
    plan: Plan
    next_source: SourcedRecord
    #: The best achievement (None when the next report has none).
    matched_ref: ItemRef | None
    matched: Achievement | None
    similarity: float
    #: Per plan clause: the share of its character bigrams found in the matched achievement.
    clause_coverage: tuple[float, ...]
    #: The first unfinished-work word in the matched achievement, if any.
    incomplete_cue: str | None


@dataclass(frozen=True)
class FollowThrough:
    match: PlanMatch
    verdict: Verdict

    @property
    def shown_match(self) -> Achievement | None:
        """The achievement shown beside the plan (none for 未见提及)."""
        return None if self.verdict == "未见提及" else self.match.matched


@dataclass(frozen=True)
class IssuerRate:
    issuer: str
    region: str
    plan_year: int
    counts: dict[str, int]

    @property
    def plans(self) -> int:
        return sum(self.counts.values())

    @property
    def done_rate(self) -> float:
        """Share of plans fully carried out."""
        return self.counts.get("已落实", 0) / self.plans if self.plans else 0.0

    @property
    def progress_rate(self) -> float:
        """Share of plans carried out at least in part."""
        return (self.counts.get("已落实", 0) + self.counts.get("部分", 0)) / self.plans if self.plans else 0.0


def report_pairs(records: Sequence[SourcedRecord]) -> list[tuple[SourcedRecord, list[SourcedRecord]]]:
    """(report with plans, the same issuer's annual reports of the plans' year), oldest first."""
    by_issuer_year: dict[tuple[str, int], list[SourcedRecord]] = defaultdict(list)
    for sourced in records:
        if sourced.is_annual and sourced.year is not None:
            by_issuer_year[(sourced.issuer_key, sourced.year)].append(sourced)
    pairs = []
    for sourced in sorted(records, key=lambda r: (r.issuer_key, r.year or 0, r.doc_id)):
        if not sourced.record.plans or sourced.year is None:
            continue
        target = sourced.record.meta.plan_year or sourced.year + 1
        later = by_issuer_year.get((sourced.issuer_key, target), [])
        if target > sourced.year and later:
            pairs.append((sourced, later))
    return pairs


def match_plans(
    records: Sequence[SourcedRecord], *, area_bonus: float = FollowSettings.area_bonus
) -> list[PlanMatch]:
    """Every plan that has a next-year report, with its best achievement there."""
    pairs = report_pairs(records)
    if not pairs:
        return []
    wording_row: dict[str, int] = {}
    for sourced, laters in pairs:
        for item in [*sourced.record.plans, *(a for later in laters for a in later.record.achievements)]:
            wording_row.setdefault(item_wording(item.text, item.evidence), len(wording_row))
    # One vocabulary and one transform for everything compared: the same records give the same scores.
    vectors = char_tfidf(list(wording_row))
    out = []
    for sourced, laters in pairs:
        candidates = [
            (later, index, item) for later in laters for index, item in enumerate(later.record.achievements)
        ]
        wordings = [item_wording(a.text, a.evidence) for _, _, a in candidates]
        plans = sourced.record.plans
        plan_rows = [wording_row[item_wording(p.text, p.evidence)] for p in plans]
        similarity = (
            pair_similarities(vectors, plan_rows, [wording_row[w] for w in wordings]) if candidates else None
        )
        for index, plan in enumerate(plans):
            ref = ItemRef(sourced.doc_id, ListName.PLANS, index)
            if similarity is None:
                out.append(PlanMatch(sourced, ref, plan, laters[0], None, None, 0.0, (), None))
                continue
            scores = [
                float(similarity[index][c]) + (area_bonus if a.area == plan.area else 0.0)
                for c, (_, _, a) in enumerate(candidates)
            ]
            best = max(range(len(candidates)), key=lambda c: (scores[c], -c))
            later, a_index, achievement = candidates[best]
            out.append(
                PlanMatch(
                    source=sourced,
                    ref=ref,
                    plan=plan,
                    next_source=later,
                    matched_ref=ItemRef(later.doc_id, ListName.ACHIEVEMENTS, a_index),
                    matched=achievement,
                    similarity=scores[best],
                    clause_coverage=tuple(bigram_coverage(c, wordings[best]) for c in plan_clauses(plan)),
                    incomplete_cue=next(
                        (cue for cue in INCOMPLETE_CUES if cue in achievement.evidence), None
                    ),
                )
            )
    return out


def plan_clauses(plan: Plan) -> list[str]:
    """The plan's clauses (its evidence without the marker, split at ，；。:)."""
    body = item_wording("", plan.evidence).strip()
    clauses = [c.strip() for c in _CLAUSE_SPLIT.split(body) if len(c.strip()) >= _MIN_CLAUSE_CHARS]
    return clauses or [body]


def judge(match: PlanMatch, settings: FollowSettings) -> Verdict:
    if match.matched is None or match.similarity < settings.match_min:
        return "未见提及"
    covered = [c >= settings.clause_min for c in match.clause_coverage]
    share = sum(covered) / len(covered) if covered else 0.0
    if share >= settings.full_share and match.incomplete_cue is None:
        return "已落实"
    return "部分"


def follow_through(
    records: Sequence[SourcedRecord], *, settings: FollowSettings | None = None
) -> list[FollowThrough]:
    chosen = settings or FollowSettings()
    return [FollowThrough(m, judge(m, chosen)) for m in match_plans(records, area_bonus=chosen.area_bonus)]


def issuer_rates(results: Iterable[FollowThrough]) -> list[IssuerRate]:
    """Follow-through counts and rates per issuer and plan year."""
    grouped: dict[tuple[str, str, int], dict[str, int]] = defaultdict(lambda: dict.fromkeys(VERDICTS, 0))
    for result in results:
        meta = result.match.source.record.meta
        key = (
            meta.issuer or result.match.source.region,
            result.match.source.region,
            result.match.next_source.year or 0,
        )
        grouped[key][result.verdict] += 1
    return [
        IssuerRate(issuer, region, year, counts) for (issuer, region, year), counts in sorted(grouped.items())
    ]


def calibrate(
    records: Sequence[SourcedRecord], expected: dict[ItemRef, Verdict]
) -> tuple[FollowSettings, float]:
    """The grid settings that agree most with `expected`, and that agreement.

    Many settings usually tie; the middle one of the tied run (in grid order) is taken, so
    the thresholds sit away from the edges where the labels stop agreeing.
    """
    scored: list[tuple[float, FollowSettings]] = []
    for area_bonus in (0.0, 0.05, 0.1):
        matches = [m for m in match_plans(records, area_bonus=area_bonus) if m.ref in expected]
        if not matches:
            continue
        grid = itertools.product(_steps(0.05, 0.5, 0.025), _steps(0.4, 0.8, 0.1), _steps(0.3, 1.0, 0.1))
        for match_min, clause_min, full_share in grid:
            settings = FollowSettings(match_min, clause_min, full_share, area_bonus)
            agreement = sum(judge(m, settings) == expected[m.ref] for m in matches) / len(matches)
            scored.append((agreement, settings))
    if not scored:
        return FollowSettings(), 0.0
    top = max(agreement for agreement, _ in scored)
    tied = [settings for agreement, settings in scored if agreement == top]
    return tied[len(tied) // 2], top


def _steps(low: float, high: float, step: float) -> list[float]:
    count = round((high - low) / step)
    return [round(low + i * step, 4) for i in range(count + 1)]
