"""Robustness of the offline rules backend: the seed reports "in other clothes", and short
synthetic reports in forms the seeds lack, must score as well as the plain seeds.

Each case loads a variant file through `load_document`, extracts it with the rules backend
and scores it against the gold record (adjusted only where the variant adds a page footer
inside an evidence passage, or a 发布时间 to a report without a publish date; see
`variants.gold_for_variant`). Thresholds per case:

- items F1 of each list >= 0.97, or the plain seed's own F1 where that is lower;
- metrics F1 >= 0.95, or the plain seed's F1 - 0.02 where that is lower;
- meta accuracy >= the plain seed's (1.0 for a synthetic report);
- grounding == 1.0, and every predicted evidence passage verbatim in the variant's text.

A failing case's message lists the scorer's misses, false positives, metric misses and
false positives, meta mismatches and ungrounded passages, so the cause can be fixed in the
extractor in general, not for the case.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest
from variants import (
    evidence_passages,
    gold_for_variant,
    pdf_copy,
    reword_headings,
    swap_punctuation,
    to_encoding,
    to_html,
    web_chrome,
)

from extractor.core.document import SourceDocument
from extractor.core.normalise import matching_key
from extractor.core.schema import ListName, Period, Record
from extractor.evaluation.models import DocumentScore
from extractor.evaluation.scoring import score_document
from extractor.load import load_document
from extractor.pipeline.run import extract_document

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "eval" / "docs"
GOLD = REPO / "eval" / "gold"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
# Hand-labelled synthetic reports in forms the seeds lack, written by three people apart.
SYNTHETIC_FOLDERS = sorted(FIXTURES.glob("synthetic*"))
SYNTHETIC_FOLDER = {
    p.stem: p.parent
    for folder in SYNTHETIC_FOLDERS
    for p in folder.glob("*.json")
    if p.with_suffix(".txt").exists()
}
# Reports kept in another format (a saved web page): scored as the loader reads them.
SYNTHETIC_OTHER_FORMATS = sorted(
    p for folder in SYNTHETIC_FOLDERS for p in folder.glob("*.htm*") if p.with_suffix(".json").exists()
)
SEED_IDS = ["lanshan-2024", "heping-2024", "lushan-2023", "mayang-2022h1", "hubin-2024"]
SYNTHETIC_IDS = sorted(SYNTHETIC_FOLDER)

ITEM_F1_FLOOR = 0.97
METRICS_F1_FLOOR = 0.95
METRICS_SLACK = 0.02
REWORD_SEEDS = range(6)  # between them, every wording in PROBLEM_HEADINGS and PLAN_HEADINGS


def not_verbatim(passages: Iterable[str], source: str) -> list[str]:
    """The passages that are not verbatim in `source` (spec: NFKC, whitespace removed)."""
    key = matching_key(source)
    return [p for p in passages if not (matching_key(p) and matching_key(p) in key)]


def read_gold(path: Path) -> Record:
    return Record.model_validate_json(path.read_text(encoding="utf-8"))


def report_path(doc_id: str) -> Path:
    return SYNTHETIC_FOLDER.get(doc_id, DOCS) / f"{doc_id}.txt"


def gold_path(doc_id: str) -> Path:
    return SYNTHETIC_FOLDER.get(doc_id, GOLD) / f"{doc_id}.json"


def seed_text(doc_id: str) -> str:
    """The plain text of a seed or synthetic report."""
    return report_path(doc_id).read_text(encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# Variants: each writes its file into `folder` and returns (file, publish date its chrome adds)


def chrome_date(gold: Record) -> str:
    """The 发布时间 a web page shows: the gold's own date, else a plausible one after the period."""
    if gold.meta.publish_date is not None:
        return gold.meta.publish_date.isoformat()
    year = gold.meta.report_year or 2024
    if gold.meta.period is Period.HALF_YEAR:
        return dt.date(year, 7, 10).isoformat()
    return dt.date(year + 1, 2, 5).isoformat()


def site_of(gold: Record) -> str:
    return f"{gold.meta.region or ''}人民政府"


def first_line(text: str) -> str:
    return next(line.strip() for line in text.split("\n") if line.strip())


@dataclass(frozen=True)
class Variant:
    name: str
    make: Callable[[str, Record, Path, str], tuple[Path, str | None]]


def _write_text(folder: Path, doc_id: str, text: str) -> Path:
    path = folder / f"{doc_id}.txt"
    path.write_text(text, encoding="utf-8")
    return path


def _pdf(text: str, gold: Record, folder: Path, doc_id: str) -> tuple[Path, str | None]:
    return _write_text(folder, doc_id, pdf_copy(text)), None


def _pdf_gongwen(text: str, gold: Record, folder: Path, doc_id: str) -> tuple[Path, str | None]:
    # 公文 layout: 28 characters a line, 22 lines a page, paragraphs indented 「　　」.
    return _write_text(folder, doc_id, pdf_copy(text, width=28, indent=True, seed=1, footer_every=22)), None


def _web(text: str, gold: Record, folder: Path, doc_id: str) -> tuple[Path, str | None]:
    date = chrome_date(gold)
    return _write_text(folder, doc_id, web_chrome(text, published=date, site=site_of(gold))), date


def _punct(direction: str) -> Callable[[str, Record, Path, str], tuple[Path, str | None]]:
    def make(text: str, gold: Record, folder: Path, doc_id: str) -> tuple[Path, str | None]:
        return _write_text(folder, doc_id, swap_punctuation(text, direction)), None

    return make


def _reword(seed: int) -> Callable[[str, Record, Path, str], tuple[Path, str | None]]:
    def make(text: str, gold: Record, folder: Path, doc_id: str) -> tuple[Path, str | None]:
        return _write_text(folder, doc_id, reword_headings(text, seed)), None

    return make


def _encoded(encoding: str, *, crlf: bool) -> Callable[[str, Record, Path, str], tuple[Path, str | None]]:
    def make(text: str, gold: Record, folder: Path, doc_id: str) -> tuple[Path, str | None]:
        path = folder / f"{doc_id}.txt"
        path.write_bytes(to_encoding(text, encoding, crlf=crlf))
        return path, None

    return make


def _html(text: str, gold: Record, folder: Path, doc_id: str) -> tuple[Path, str | None]:
    date = chrome_date(gold)
    page = to_html(text, first_line(text), site=site_of(gold), published=date)
    path = folder / f"{doc_id}.html"
    path.write_text(page, encoding="utf-8")
    return path, date


VARIANTS: dict[str, Variant] = {
    v.name: v
    for v in [
        Variant("pdf_copy", _pdf),
        Variant("pdf_copy_gongwen", _pdf_gongwen),
        Variant("web_chrome", _web),
        Variant("punct_to_half", _punct("to_half")),
        Variant("punct_to_full", _punct("to_full")),
        *(Variant(f"reworded_headings_{seed}", _reword(seed)) for seed in REWORD_SEEDS),
        Variant("gb18030_txt", _encoded("gb18030", crlf=False)),
        Variant("gbk_txt_crlf", _encoded("gbk", crlf=True)),
        Variant("html_page", _html),
    ]
}

_TEXT_ONLY = {
    "punct_to_half": lambda t: swap_punctuation(t, "to_half"),
    "punct_to_full": lambda t: swap_punctuation(t, "to_full"),
    **{f"reworded_headings_{seed}": (lambda t, s=seed: reword_headings(t, s)) for seed in REWORD_SEEDS},
}


#: Reports written already as copied from a PDF: `pdf_copy` would take each of their short
#: lines for a paragraph (and indent every one), which no real PDF does.
ALREADY_PDF = {"jiangzhou-2024", "luwan-2024"}
# A markdown table ("| 1 | 检查 | 412家次 |") hard-wrapped mid-row is not a form a PDF copy
# produces; its PDF variants are left out.
ALREADY_PDF |= {"zhexi-2024"}
PDF_VARIANTS = {"pdf_copy", "pdf_copy_gongwen"}


def _encodable(text: str, encoding: str) -> bool:
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def _cases(doc_ids: list[str]) -> list[tuple[str, str]]:
    """(doc_id, variant) pairs, leaving out variants whose text equals the plain report or an
    earlier variant of the same kind (e.g. 「to_half」 of a report already in half-width), and
    PDF copies of a report that already is one."""
    cases = []
    for doc_id in doc_ids:
        text = seed_text(doc_id)
        seen = {text}
        for name in VARIANTS:
            if doc_id in ALREADY_PDF and name in PDF_VARIANTS:
                continue
            if name == "gbk_txt_crlf" and not _encodable(text, "gbk"):
                continue  # GBK cannot hold every character (e.g. » in web chrome): GB18030 can
            if name in _TEXT_ONLY:
                made = _TEXT_ONLY[name](text)
                if made in seen:
                    continue
                seen.add(made)
            cases.append((doc_id, name))
    return cases


SEED_CASES = _cases(SEED_IDS)
# Known limit, kept visible: in hard-wrapped text without indents, a paragraph that ends
# exactly at the line width looks like a wrapped sentence end, so it is joined with the next
# paragraph (here two unmarked 第一责任人 paragraphs become one item). Nothing in the text tells
# them apart; strict, so a fix shows up.
_AT_WIDTH = "a paragraph ending exactly at the wrap width, with no indent after it"
KNOWN_LIMITS = {
    ("tongchuan-2024", "pdf_copy"): _AT_WIDTH,
    ("baiping-2024", "pdf_copy"): _AT_WIDTH,
    ("shanqiao-2024", "pdf_copy"): _AT_WIDTH,
    ("weitang-2024", "pdf_copy"): _AT_WIDTH,
    ("lihu-2023", "pdf_copy"): _AT_WIDTH,
}


def _with_known_limits(cases: list[tuple[str, str]]) -> list[object]:
    return [
        pytest.param(*case, marks=pytest.mark.xfail(reason=KNOWN_LIMITS[case], strict=True))
        if case in KNOWN_LIMITS
        else case
        for case in cases
    ]


SYNTHETIC_CASES = _cases(SYNTHETIC_IDS)


# ---------------------------------------------------------------------------------------------
# Building and scoring (cached: each case is extracted once per session)


@dataclass
class Built:
    doc: SourceDocument
    gold: Record


@dataclass
class Outcome:
    doc: SourceDocument
    gold: Record
    record: Record
    score: DocumentScore


@pytest.fixture(scope="session")
def variant_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("variants")


_built: dict[tuple[str, str], Built] = {}
_outcomes: dict[tuple[str, str], Outcome] = {}


def build_case(doc_id: str, variant: str, root: Path) -> Built:
    if (doc_id, variant) not in _built:
        gold = read_gold(gold_path(doc_id))
        folder = root / f"{doc_id}--{variant}"
        folder.mkdir()
        path, date = VARIANTS[variant].make(seed_text(doc_id), gold, folder, doc_id)
        doc = load_document(path)
        _built[(doc_id, variant)] = Built(doc, gold_for_variant(gold, doc.text, publish_date=date))
    return _built[(doc_id, variant)]


def run_case(doc_id: str, variant: str, root: Path) -> Outcome:
    if (doc_id, variant) not in _outcomes:
        built = build_case(doc_id, variant, root)
        record = extract_document(built.doc, backend="rules")
        _outcomes[(doc_id, variant)] = Outcome(
            built.doc, built.gold, record, score_document(record, built.gold, built.doc.text)
        )
    return _outcomes[(doc_id, variant)]


@pytest.fixture(scope="session")
def plain_scores() -> dict[str, DocumentScore]:
    """Each seed's and synthetic report's score as it is (the floors of its variants)."""
    scores = {}
    for doc_id in [*SEED_IDS, *SYNTHETIC_IDS]:
        doc = load_document(report_path(doc_id))
        scores[doc_id] = score_document(
            extract_document(doc, backend="rules"), read_gold(gold_path(doc_id)), doc.text
        )
    return scores


# ---------------------------------------------------------------------------------------------
# Checking


@dataclass(frozen=True)
class Floors:
    items: dict[ListName, float]
    metrics: float
    meta: float


def floors_for(plain: DocumentScore | None) -> Floors:
    if plain is None:  # a synthetic report: as well as a plain seed scores
        return Floors(dict.fromkeys(ListName, ITEM_F1_FLOOR), METRICS_F1_FLOOR, 1.0)
    return Floors(
        {s.list_name: min(ITEM_F1_FLOOR, s.f1) for s in plain.lists()},
        min(METRICS_F1_FLOOR, plain.metrics.f1 - METRICS_SLACK),
        plain.meta.accuracy or 0.0,
    )


def _clip(text: str, limit: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else f"{text[: limit // 2]}…{text[-limit // 2 :]}"


def shortfalls(outcome: Outcome, floors: Floors) -> list[str]:
    """Every threshold the case misses, each with the scorer's evidence for it."""
    score, out = outcome.score, []
    for lst in score.lists():
        floor = floors.items[lst.list_name]
        if lst.f1 < floor:
            out.append(
                f"{lst.list_name.value} F1 {lst.f1:.3f} < {floor:.3f} (tp {lst.tp}, fp {lst.fp}, fn {lst.fn})"
            )
            out += [
                f"  miss [{n.index}] {n.area}: 「{_clip(n.evidence)}」"
                for n in score.misses
                if n.list_name is lst.list_name
            ]
            out += [
                f"  false positive [{n.index}] {n.area}: 「{_clip(n.evidence)}」"
                for n in score.false_positives
                if n.list_name is lst.list_name
            ]
    metrics = score.metrics
    if metrics.f1 < floors.metrics:
        out.append(
            f"metrics F1 {metrics.f1:.3f} < {floors.metrics:.3f} (tp {metrics.tp}, fp {metrics.fp}, fn {metrics.fn})"
        )
        out += [
            f"  metric miss {m.name} = {m.value} {m.unit}: 「{_clip(m.evidence, 50)}」"
            for m in score.metric_misses
        ]
        out += [
            f"  metric false positive {m.name} = {m.value} {m.unit}: 「{_clip(m.evidence, 50)}」"
            for m in score.metric_false_positives
        ]
    accuracy = score.meta.accuracy or 0.0
    if accuracy < floors.meta:
        out.append(f"meta accuracy {accuracy:.3f} < {floors.meta:.3f}")
        out += [f"  meta {m.field}: gold {m.gold!r}, predicted {m.pred!r}" for m in score.meta_mismatches]
    if score.grounding.share != 1.0:
        out.append(f"grounding {score.grounding.share} != 1.0")
    ungrounded = not_verbatim(evidence_passages(outcome.record), outcome.doc.text)
    out += [f"  evidence not verbatim in the variant: 「{_clip(p)}」" for p in ungrounded]
    return out


def _assert_scores(outcome: Outcome, floors: Floors, label: str) -> None:
    problems = shortfalls(outcome, floors)
    assert not problems, f"{label}:\n" + "\n".join(problems)


# ---------------------------------------------------------------------------------------------
# The robustness cases


@pytest.mark.parametrize(("doc_id", "variant"), SEED_CASES, ids=[f"{d}-{v}" for d, v in SEED_CASES])
def test_seed_variant_scores_as_well_as_plain(
    doc_id: str, variant: str, variant_dir: Path, plain_scores: dict[str, DocumentScore]
) -> None:
    outcome = run_case(doc_id, variant, variant_dir)
    _assert_scores(outcome, floors_for(plain_scores[doc_id]), f"{doc_id} as {variant}")


@pytest.mark.parametrize("doc_id", SYNTHETIC_IDS)
def test_synthetic_report_scores_as_well_as_plain_seeds(doc_id: str) -> None:
    doc = load_document(report_path(doc_id))
    gold = read_gold(gold_path(doc_id))
    record = extract_document(doc, backend="rules")
    outcome = Outcome(doc, gold, record, score_document(record, gold, doc.text))
    _assert_scores(outcome, floors_for(None), f"synthetic {doc_id}")


@pytest.mark.parametrize(
    ("doc_id", "variant"), _with_known_limits(SYNTHETIC_CASES), ids=[f"{d}-{v}" for d, v in SYNTHETIC_CASES]
)
def test_synthetic_variant_scores_as_well_as_plain(
    doc_id: str, variant: str, variant_dir: Path, plain_scores: dict[str, DocumentScore]
) -> None:
    """Floors as for the seeds: the synthetic report's own plain score where that is lower
    (its plain shortfalls are reported once, by the test above)."""
    outcome = run_case(doc_id, variant, variant_dir)
    _assert_scores(outcome, floors_for(plain_scores[doc_id]), f"synthetic {doc_id} as {variant}")


# ---------------------------------------------------------------------------------------------
# The variants and gold themselves (if these fail, the cases above measure nothing)


ALL_CASES = SEED_CASES + SYNTHETIC_CASES


@pytest.mark.parametrize(("doc_id", "variant"), ALL_CASES, ids=[f"{d}-{v}" for d, v in ALL_CASES])
def test_variant_keeps_gold_evidence_verbatim(doc_id: str, variant: str, variant_dir: Path) -> None:
    built = build_case(doc_id, variant, variant_dir)
    missing = not_verbatim(evidence_passages(built.gold), built.doc.text)
    assert not missing, f"{doc_id} as {variant}: gold evidence lost:\n" + "\n".join(map(_clip, missing))


@pytest.mark.parametrize("doc_id", SYNTHETIC_IDS)
def test_synthetic_gold_is_well_formed(doc_id: str) -> None:
    text = report_path(doc_id).read_text(encoding="utf-8")
    gold = read_gold(gold_path(doc_id))
    assert 1500 <= len(text) <= 3000
    assert not not_verbatim(evidence_passages(gold), text)
    for item in gold.achievements:
        assert not not_verbatim([m.evidence for m in item.metrics], item.evidence), item.evidence


@pytest.mark.parametrize("path", SYNTHETIC_OTHER_FORMATS, ids=[p.name for p in SYNTHETIC_OTHER_FORMATS])
def test_synthetic_report_in_another_format_scores_as_well_as_plain_seeds(path: Path) -> None:
    doc = load_document(path)
    gold = read_gold(path.with_suffix(".json"))
    pred = extract_document(doc, backend="rules")
    score = score_document(pred, gold, doc.text)
    for name in ListName:
        assert score.lists()[list(ListName).index(name)].f1 >= ITEM_F1_FLOOR, (path.name, name)
    assert score.metrics.f1 >= METRICS_F1_FLOOR
    assert score.grounding.share == 1.0
