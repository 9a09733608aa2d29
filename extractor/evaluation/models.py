"""Result models of the eval harness (pydantic, so `--json` is a plain model dump).

Scores keep raw counts and sums, and derive the ratios, so per-document scores add up to
micro-averaged overall scores exactly. A ratio whose denominator is zero is None ("n/a"),
except precision/recall/F1, which follow the harness's definition (see `prf`).
"""

# pydantic's computed_field has to wrap a @property (as its docs show), and mypy cannot type a
# decorated property: that one check is off here, every other one stays on.
# mypy: disable-error-code="prop-decorator"

from __future__ import annotations

from pydantic import BaseModel, Field, computed_field

from extractor.core.schema import ListName

META_FIELDS: tuple[str, ...] = ("issuer", "region", "report_year", "period", "plan_year", "publish_date")


def ratio(numerator: float, denominator: float) -> float | None:
    """numerator / denominator, or None when there is nothing to measure."""
    return numerator / denominator if denominator else None


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    """Precision, recall, F1; never divides by zero.

    Both sides empty is a perfect score (1, 1, 1). Otherwise an undefined precision (no
    predictions) or recall (no gold) is 0, and F1 is 0 when precision + recall is 0.
    """
    if tp + fp + fn == 0:
        return 1.0, 1.0, 1.0
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


class Counts(BaseModel):
    """True positives, false positives, false negatives, and the ratios they give."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @computed_field
    @property
    def precision(self) -> float:
        return prf(self.tp, self.fp, self.fn)[0]

    @computed_field
    @property
    def recall(self) -> float:
        return prf(self.tp, self.fp, self.fn)[1]

    @computed_field
    @property
    def f1(self) -> float:
        return prf(self.tp, self.fp, self.fn)[2]


class ListScore(Counts):
    """One item list (achievements, problems or plans) of one document or of all documents."""

    list_name: ListName
    area_correct: int = 0
    text_similarity_sum: float = 0.0
    cause_correct: int = 0  # problems only; `tp` is the denominator

    @computed_field
    @property
    def area_accuracy(self) -> float | None:
        return ratio(self.area_correct, self.tp)

    @computed_field
    @property
    def text_similarity(self) -> float | None:
        return ratio(self.text_similarity_sum, self.tp)

    @computed_field
    @property
    def cause_accuracy(self) -> float | None:
        if self.list_name is not ListName.PROBLEMS:
            return None
        return ratio(self.cause_correct, self.tp)


class MetricScore(Counts):
    """Metrics of all achievements, matched one-to-one."""

    name_similarity_sum: float = 0.0

    @computed_field
    @property
    def name_similarity(self) -> float | None:
        return ratio(self.name_similarity_sum, self.tp)


class MetaScore(BaseModel):
    """Meta fields: `correct[field]` of `documents` documents had the gold value."""

    correct: dict[str, int] = Field(default_factory=lambda: dict.fromkeys(META_FIELDS, 0))
    documents: int = 0

    @computed_field
    @property
    def field_accuracy(self) -> dict[str, float | None]:
        return {name: ratio(self.correct.get(name, 0), self.documents) for name in META_FIELDS}

    @computed_field
    @property
    def accuracy(self) -> float | None:
        return ratio(
            sum(self.correct.get(name, 0) for name in META_FIELDS), self.documents * len(META_FIELDS)
        )


class GroundingScore(BaseModel):
    """Predicted evidence passages (items and metrics) that are verbatim in the report."""

    verbatim: int = 0
    total: int = 0

    @computed_field
    @property
    def share(self) -> float | None:
        return ratio(self.verbatim, self.total)


class FlagScore(BaseModel):
    """How well `needs_review` points at wrong predicted items (the spec's "Flags").

    An item is wrong when it is unmatched, or matched with another area, another cause
    verdict, or metrics that differ from gold's.
    """

    items: int = 0
    flagged: int = 0
    wrong: int = 0
    flagged_wrong: int = 0

    @computed_field
    @property
    def precision(self) -> float | None:
        """Share of flagged items that are wrong."""
        return ratio(self.flagged_wrong, self.flagged)

    @computed_field
    @property
    def recall(self) -> float | None:
        """Share of wrong items that are flagged."""
        return ratio(self.flagged_wrong, self.wrong)

    @computed_field
    @property
    def rate(self) -> float | None:
        """Share of all predicted items that are flagged."""
        return ratio(self.flagged, self.items)


class ItemNote(BaseModel):
    """An unmatched or mismatched item, kept so the markdown report can show why."""

    list_name: ListName
    index: int = Field(description="Index in its list of the record it comes from.")
    area: str
    text: str
    evidence: str
    located: bool = Field(description="Whether the evidence is verbatim in the report.")


class AreaError(BaseModel):
    list_name: ListName
    gold_index: int
    pred_index: int
    text: str
    gold_area: str
    pred_area: str


class CauseError(BaseModel):
    gold_index: int
    pred_index: int
    text: str
    gold_cause: str | None
    pred_cause: str | None


class MetricNote(BaseModel):
    achievement_index: int
    name: str
    value: int | float
    unit: str
    evidence: str


class MetaMismatch(BaseModel):
    field: str
    gold: str | None
    pred: str | None


class Scores(BaseModel):
    """The figures shared by one document's score and the overall score."""

    achievements: ListScore = Field(default_factory=lambda: ListScore(list_name=ListName.ACHIEVEMENTS))
    problems: ListScore = Field(default_factory=lambda: ListScore(list_name=ListName.PROBLEMS))
    plans: ListScore = Field(default_factory=lambda: ListScore(list_name=ListName.PLANS))
    metrics: MetricScore = Field(default_factory=MetricScore)
    meta: MetaScore = Field(default_factory=MetaScore)
    grounding: GroundingScore = Field(default_factory=GroundingScore)
    flags: FlagScore = Field(default_factory=FlagScore)

    def lists(self) -> tuple[ListScore, ListScore, ListScore]:
        return self.achievements, self.problems, self.plans

    @computed_field
    @property
    def area_accuracy(self) -> float | None:
        """Over all matched items of the three lists."""
        return ratio(sum(s.area_correct for s in self.lists()), sum(s.tp for s in self.lists()))

    @computed_field
    @property
    def text_similarity(self) -> float | None:
        """Over all matched items of the three lists."""
        return ratio(sum(s.text_similarity_sum for s in self.lists()), sum(s.tp for s in self.lists()))

    def figures(self) -> dict[str, float | None]:
        """Flat headline figures, the names thresholds and comparisons use."""
        out: dict[str, float | None] = {}
        for score in self.lists():
            name = score.list_name.value
            out[f"{name}_precision"] = score.precision
            out[f"{name}_recall"] = score.recall
            out[f"{name}_f1"] = score.f1
            out[f"{name}_area_accuracy"] = score.area_accuracy
            out[f"{name}_text_similarity"] = score.text_similarity
        per_list = [s.area_accuracy for s in self.lists() if s.area_accuracy is not None]
        out["area_accuracy_min"] = min(per_list) if per_list else None
        out["area_accuracy"] = self.area_accuracy
        out["text_similarity"] = self.text_similarity
        out["cause_accuracy"] = self.problems.cause_accuracy
        out["metrics_precision"] = self.metrics.precision
        out["metrics_recall"] = self.metrics.recall
        out["metrics_f1"] = self.metrics.f1
        out["metrics_name_similarity"] = self.metrics.name_similarity
        out["meta_accuracy"] = self.meta.accuracy
        out["grounding"] = self.grounding.share
        f1s = [s.f1 for s in self.lists()] + [self.metrics.f1]
        out["macro_f1"] = sum(f1s) / len(f1s)
        out["flag_precision"] = self.flags.precision
        out["flag_recall"] = self.flags.recall
        out["flag_rate"] = self.flags.rate
        return out


class DocumentScore(Scores):
    """One document's scores plus every difference behind them."""

    doc_id: str
    misses: list[ItemNote] = Field(default_factory=list, description="Gold items with no match.")
    false_positives: list[ItemNote] = Field(
        default_factory=list, description="Predicted items with no match."
    )
    area_errors: list[AreaError] = Field(default_factory=list)
    cause_errors: list[CauseError] = Field(default_factory=list)
    metric_misses: list[MetricNote] = Field(default_factory=list)
    metric_false_positives: list[MetricNote] = Field(default_factory=list)
    meta_mismatches: list[MetaMismatch] = Field(default_factory=list)
    ungrounded: list[str] = Field(default_factory=list, description="Predicted evidence not verbatim.")


class OverallScore(Scores):
    """Micro-averaged over documents: counts and sums added, then ratios taken."""

    documents: int = 0


class EvalResult(BaseModel):
    """Everything one eval run produced; the `--json` file and the input of `--compare`."""

    documents: list[DocumentScore]
    overall: OverallScore
    warnings: list[str] = Field(default_factory=list)
