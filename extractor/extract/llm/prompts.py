"""Prompt templates (prompts/*.j2, in Chinese), the few-shot example and the prompt hash.

Guarantees:
- every template renders with jinja2's StrictUndefined: a missing variable is an error;
- the system message of item calls (instructions + labelling rules + few-shot) depends only
  on the templates and the few-shot source, never on the section being extracted, so it is
  byte-identical across calls (providers' prompt caching); the section text comes last, in
  the user message;
- the few-shot example is never taken from the document being extracted: gold files are
  tried in name order, skipping one named after the document or whose passages occur in its
  text; with no usable gold file a small built-in example is used;
- `prompt_hash` is the sha256 of the template sources, the rendered few-shot examples and
  the response-model schemas: anything that changes what the model is asked changes it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import jinja2
from pydantic import ValidationError

from extractor.core.errors import ConfigError
from extractor.core.labels import PROMPT_SECTION_LABELS as KIND_LABELS
from extractor.core.normalise import matching_key
from extractor.core.paths import PROMPTS_DIR, default_gold_dir
from extractor.core.schema import ListName, Record, Span
from extractor.extract.llm.candidates import (
    CANDIDATES_HEADING,
    MetricCandidate,
    metric_candidates,
    render_candidates,
)
from extractor.extract.llm.chunks import Chunk
from extractor.extract.llm.grounding import Passage
from extractor.extract.llm.outline import OutlineOut
from extractor.extract.llm.response_models import (
    FreeExtraction,
    ItemOut,
    MetaOut,
    MetricOut,
    SectionExtraction,
)

DEFAULT_PROMPTS_DIR = PROMPTS_DIR
TEMPLATE_NAMES = (
    "items_system.j2",
    "section_user.j2",
    "free_user.j2",
    "meta_system.j2",
    "meta_user.j2",
    "outline_system.j2",
    "outline_user.j2",
)
#: Few-shot passages are kept short: the example teaches the format, not the domain.
_MAX_EXAMPLE_CHARS = 220


@dataclass(frozen=True, slots=True)
class FewShotExample:
    kind_label: str
    input: str
    output: str


def _output_json(items: list[ItemOut]) -> str:
    # Fields left at their defaults are omitted, as the model is asked to do (fewer tokens).
    answer = SectionExtraction(items=items).model_dump(mode="json", exclude_defaults=True)
    answer.setdefault("items", [])
    return json.dumps(answer, ensure_ascii=False)


def _with_candidates(marked: list[str], unmarked: list[str]) -> tuple[str, tuple[MetricCandidate, ...]]:
    """An example's input as a section call shows it: passages [Pn], then the unmarked text,
    then the metric candidates the program finds in the passages."""
    passages: list[Passage] = []
    pos = 0
    for n, text in enumerate(marked, start=1):
        passages.append(Passage(number=n, span=Span(start=pos, end=pos + len(text)), text=text))
        pos += len(text)
    candidates = metric_candidates(tuple(passages))
    lines = [f"[P{n}]{text}[/P{n}]" for n, text in enumerate(marked, start=1)] + unmarked
    shown = "\n".join(lines)
    if candidates:
        shown += f"\n{CANDIDATES_HEADING}\n{render_candidates(candidates)}"
    return shown, candidates


def _cited_metrics(
    metrics: Sequence[tuple[str, float, str]], passage: int, candidates: tuple[MetricCandidate, ...]
) -> list[str | MetricOut]:
    """Gold metrics as the answer gives them: a candidate's id where one states the metric,
    the metric written out where none does."""
    free = [c for c in candidates if c.passage == passage]
    out: list[str | MetricOut] = []
    for name, value, unit in metrics:
        same = next(
            (c for c in free if c.value == value and matching_key(c.unit) == matching_key(unit)), None
        )
        if same is not None:
            free.remove(same)
            out.append(same.id)
        else:
            out.append(MetricOut(name=name, value=value, unit=unit))
    return out


def examples_from_gold(record: Record) -> list[FewShotExample]:
    """Short examples (one per list where possible) built from a gold record's items.

    The achievements example also shows one unmarked point answered with a verbatim quote.
    """
    found = (_achievements_example(record), _problems_example(record), _plans_example(record))
    return [example for example in found if example is not None]


def _achievements_example(record: Record) -> FewShotExample | None:
    short = [a for a in record.achievements if len(a.evidence) <= _MAX_EXAMPLE_CHARS]
    with_metrics = [a for a in short if 1 <= len(a.metrics) <= 3]
    if not with_metrics:
        return None
    chosen = [with_metrics[0], *[a for a in short if not a.metrics][:1]]
    rest = [a for a in short if a not in chosen and len(a.evidence) <= 120][:1]
    shown, candidates = _with_candidates([a.evidence for a in chosen], [a.evidence for a in rest])
    items = [
        ItemOut(
            passages=[n],
            area=a.area,
            text=a.text,
            metrics=_cited_metrics([(m.name, m.value, m.unit) for m in a.metrics], n, candidates),
        )
        for n, a in enumerate(chosen, start=1)
    ] + [
        ItemOut(
            quote=a.evidence,
            area=a.area,
            text=a.text,
            metrics=[MetricOut(name=m.name, value=m.value, unit=m.unit) for m in a.metrics],
        )
        for a in rest
    ]
    return FewShotExample(KIND_LABELS[ListName.ACHIEVEMENTS], shown, _output_json(items))


def _problems_example(record: Record) -> FewShotExample | None:
    problems = [p for p in record.problems if len(p.evidence) <= _MAX_EXAMPLE_CHARS]
    problems.sort(key=lambda p: p.cause is None)  # prefer one that shows a cause
    if not problems:
        return None
    p = problems[0]
    text = f"[P1]{p.evidence}[/P1]" + (f"\n（原因）{p.cause}" if p.cause else "")
    item = ItemOut(passages=[1], area=p.area, text=p.text, cause=p.cause)
    return FewShotExample(KIND_LABELS[ListName.PROBLEMS], text, _output_json([item]))


def _plans_example(record: Record) -> FewShotExample | None:
    plans = [p for p in record.plans if len(p.evidence) <= _MAX_EXAMPLE_CHARS]
    if not plans:
        return None
    plan = plans[0]
    item = ItemOut(passages=[1], area=plan.area, text=plan.text)
    return FewShotExample(KIND_LABELS[ListName.PLANS], f"[P1]{plan.evidence}[/P1]", _output_json([item]))


def builtin_examples() -> list[FewShotExample]:
    """A small invented example, used when no gold file can serve."""
    from extractor.core.schema import Area

    shown, candidates = _with_candidates(
        [
            "一是加强行政复议工作。全年受理行政复议案件25件，办结22件，纠错率8%。",
            "二是深化法治宣传。开展“法律进乡村”活动，推动普法宣传常态化。",
        ],
        ["三是做实人民调解。全年调处矛盾纠纷120件。"],
    )
    metrics = [("受理行政复议案件", 25, "件"), ("办结行政复议案件", 22, "件"), ("纠错率", 8, "%")]
    items = [
        ItemOut(
            passages=[1],
            area=Area.RECONSIDERATION,
            text="受理行政复议案件25件，办结22件",
            metrics=_cited_metrics(metrics, 1, candidates),
        ),
        ItemOut(passages=[2], area=Area.LEGAL_EDUCATION, text="开展法律进乡村活动"),
        ItemOut(
            quote="三是做实人民调解。全年调处矛盾纠纷120件。",
            area=Area.DISPUTES,
            text="调处矛盾纠纷120件",
            metrics=[MetricOut(name="调处矛盾纠纷", value=120, unit="件")],
        ),
    ]
    problem = ItemOut(
        passages=[1], area=Area.GRASSROOTS, text="司法所人员配备不足", cause="编制有限，人员流动较大"
    )
    plan = ItemOut(passages=[1], area=Area.LEGAL_SERVICES, text="推进公共法律服务平台建设")
    return [
        FewShotExample(KIND_LABELS[ListName.ACHIEVEMENTS], shown, _output_json(items)),
        FewShotExample(
            KIND_LABELS[ListName.PROBLEMS],
            "[P1]一是基层法治力量薄弱，司法所人员配备不足。[/P1]\n究其原因，主要是编制有限，人员流动较大。",
            _output_json([problem]),
        ),
        FewShotExample(
            KIND_LABELS[ListName.PLANS], "[P1]1.推进公共法律服务平台建设。[/P1]", _output_json([plan])
        ),
    ]


@dataclass(frozen=True, slots=True)
class _GoldExamples:
    """What one gold file offers as few-shot: its examples, and the long passages that
    identify its report (a document containing one of them is that report)."""

    examples: tuple[FewShotExample, ...]
    keys: tuple[str, ...]


#: Gold files read so far, by path, with the (mtime, size) they had: each version is parsed
#: once per process (a worker chose the example for every job by re-reading the gold files),
#: and a file promoted or edited meanwhile is read again.
_GOLD: dict[Path, tuple[tuple[int, int], _GoldExamples]] = {}
_GOLD_LOCK = threading.Lock()


def _gold_examples(path: Path) -> _GoldExamples | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    version = (stat.st_mtime_ns, stat.st_size)
    with _GOLD_LOCK:
        cached = _GOLD.get(path)
    if cached is not None and cached[0] == version:
        return cached[1]
    try:
        record = Record.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValidationError):
        return None  # a gold file being written or broken is not our problem here
    # Only long passages identify a report: short boilerplate recurs across reports.
    evidence = [a.evidence for a in record.achievements + record.problems + record.plans]
    keys = [k for k in (matching_key(e) for e in evidence) if len(k) >= 30][:5]
    found = _GoldExamples(tuple(examples_from_gold(record)), tuple(keys))
    with _GOLD_LOCK:
        _GOLD[path] = (version, found)
    return found


def choose_few_shot(doc_id: str, doc_text: str, gold_dir: Path) -> tuple[str, list[FewShotExample]]:
    """(source name, examples): the first usable gold file not of this document, else built-in."""
    doc_key: str | None = None  # the document's matching key, made only if a gold file needs it
    for path in sorted(gold_dir.glob("*.json")) if gold_dir.is_dir() else []:
        if path.stem == doc_id:
            continue
        gold = _gold_examples(path)
        if gold is None or not gold.examples:
            continue
        # The same report under another id (a copy, a re-download) must not teach itself.
        if gold.keys and doc_key is None:
            doc_key = matching_key(doc_text)
        if not any(k in (doc_key or "") for k in gold.keys):
            return f"gold:{path.name}", list(gold.examples)
    return "builtin", list(_builtin_examples())


@functools.cache
def _builtin_examples() -> tuple[FewShotExample, ...]:
    return tuple(builtin_examples())


class PromptSet:
    """Rendered prompts for one few-shot choice. Immutable after construction; thread-safe."""

    def __init__(self, *, prompts_dir: Path, few_shot_source: str, examples: list[FewShotExample]) -> None:
        self.prompts_dir = prompts_dir
        self.few_shot_source = few_shot_source
        try:
            sources = {name: (prompts_dir / name).read_text(encoding="utf-8") for name in TEMPLATE_NAMES}
        except OSError as e:
            raise ConfigError(f"prompt template missing: {e.filename}", source=str(prompts_dir)) from e
        self.env = jinja2.Environment(
            # The sources just read and hashed, compiled once: what is rendered is what the
            # prompt hash covers (a template edited on disk meanwhile is not picked up half-way),
            # and no call checks the files' modification times again.
            loader=jinja2.DictLoader(sources),
            undefined=jinja2.StrictUndefined,
            # Prompts are plain text for a model, not HTML: escaping would corrupt quotes.
            autoescape=False,
            keep_trailing_newline=False,
        )
        example_dicts = [{"kind_label": e.kind_label, "input": e.input, "output": e.output} for e in examples]
        self.items_system = self.render("items_system.j2", examples=example_dicts)
        self.meta_system = self.render("meta_system.j2")
        self.outline_system = self.render("outline_system.j2")
        digest = hashlib.sha256()
        for name in TEMPLATE_NAMES:
            digest.update(f"{name}\0{sources[name]}\0".encode())
        digest.update(json.dumps(example_dicts, ensure_ascii=False, sort_keys=True).encode())
        for model in (SectionExtraction, FreeExtraction, MetaOut, OutlineOut):
            digest.update(json.dumps(model.model_json_schema(), ensure_ascii=False, sort_keys=True).encode())
        self.prompt_hash = digest.hexdigest()

    def render(self, name: str, **variables: object) -> str:
        """Render one template; jinja2.UndefinedError if a variable is missing."""
        return self.env.get_template(name).render(**variables).strip()

    def section_user(self, chunk: Chunk) -> str:
        if chunk.list_name is None:
            return self.render("free_user.j2", part=chunk.part, parts=chunk.parts, text=chunk.rendered)
        return self.render(
            "section_user.j2",
            kind_label=KIND_LABELS[chunk.list_name],
            part=chunk.part,
            parts=chunk.parts,
            heading=chunk.heading,
            text=chunk.rendered,
            causes_text=chunk.causes_text,
            candidates_heading=CANDIDATES_HEADING,
            candidates_text=render_candidates(chunk.candidates),
        )

    def outline_user(self, *, paragraphs: str, proposal: str) -> str:
        return self.render("outline_user.j2", paragraphs=paragraphs, proposal=proposal)

    def meta_user(self, *, title: str, first_lines: str, last_lines: str) -> str:
        return self.render("meta_user.j2", title=title, first_lines=first_lines, last_lines=last_lines)


_CACHE: dict[tuple[str, str, str], PromptSet] = {}
_CACHE_LOCK = threading.Lock()


def prompt_set_for(
    doc_id: str, doc_text: str, *, gold_dir: Path | None = None, prompts_dir: Path | None = None
) -> PromptSet:
    """The PromptSet for a document (shared between documents with the same few-shot)."""
    gold_dir = gold_dir or default_gold_dir()
    prompts_dir = prompts_dir or DEFAULT_PROMPTS_DIR
    source, examples = choose_few_shot(doc_id, doc_text, gold_dir)
    fingerprint = json.dumps([(e.input, e.output) for e in examples], ensure_ascii=False)
    key = (str(prompts_dir), source, hashlib.sha256(fingerprint.encode()).hexdigest())
    with _CACHE_LOCK:
        if key not in _CACHE:
            _CACHE[key] = PromptSet(prompts_dir=prompts_dir, few_shot_source=source, examples=examples)
        return _CACHE[key]
