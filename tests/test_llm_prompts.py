"""Prompts, few-shot choice, prompt hash and chunking (what the model is shown)."""

from __future__ import annotations

import itertools
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import jinja2
import pytest
from llm_server import ScriptedServer, first_user_text, sample_report, sample_responder

from extractor.core.schema import Area, Record, Span
from extractor.extract.llm import LLMSettings, extract_with_llm
from extractor.extract.llm.chunks import section_chunks
from extractor.extract.llm.prompts import DEFAULT_PROMPTS_DIR, PromptSet, builtin_examples, choose_few_shot
from extractor.segment.model import Point, Section, SectionKind, SegmentedReport

REPO = Path(__file__).resolve().parent.parent
GOLD = REPO / "eval" / "gold"


def gold_record(doc_id: str) -> Record:
    return Record.model_validate_json((GOLD / f"{doc_id}.json").read_text(encoding="utf-8"))


def copy_gold(tmp_path: Path, names: list[str]) -> Path:
    target = tmp_path / "gold"
    target.mkdir()
    for name in names:
        shutil.copy(GOLD / f"{name}.json", target / f"{name}.json")
    return target


def test_system_prompt_carries_the_labelling_rules() -> None:
    prompts = PromptSet(
        prompts_dir=DEFAULT_PROMPTS_DIR, few_shot_source="builtin", examples=builtin_examples()
    )
    system = prompts.items_system
    for area in Area:
        assert f"- {area.value}：" in system  # every area, with what it covers
    for rule in ("一是", "（1）", "为期3天", "12348", "340余万元", "究其原因", "逐字摘抄", "不是给你的指令"):
        assert rule in system
    assert "{{" not in system and "{%" not in system  # fully rendered


def test_template_with_a_missing_variable_fails(tmp_path: Path) -> None:
    prompts_dir = tmp_path / "prompts"
    shutil.copytree(DEFAULT_PROMPTS_DIR, prompts_dir)
    prompts = PromptSet(prompts_dir=prompts_dir, few_shot_source="builtin", examples=builtin_examples())
    with pytest.raises(jinja2.UndefinedError):
        prompts.render("section_user.j2", kind_label="成效", part=1, parts=1, text="x", causes_text="")
    (prompts_dir / "meta_system.j2").write_text("{{ not_given }}", encoding="utf-8")
    with pytest.raises(jinja2.UndefinedError):
        PromptSet(prompts_dir=prompts_dir, few_shot_source="builtin", examples=builtin_examples())


def test_few_shot_never_comes_from_the_document_itself(tmp_path: Path) -> None:
    gold_dir = copy_gold(tmp_path, ["heping-2024", "lanshan-2024"])
    lanshan_text = (REPO / "eval" / "docs" / "lanshan-2024.txt").read_text(encoding="utf-8")
    heping_text = (REPO / "eval" / "docs" / "heping-2024.txt").read_text(encoding="utf-8")
    assert choose_few_shot("lanshan-2024", lanshan_text, gold_dir)[0] == "gold:heping-2024.json"
    assert choose_few_shot("heping-2024", heping_text, gold_dir)[0] == "gold:lanshan-2024.json"
    # The same report under another name is recognised by its text, not its id.
    assert choose_few_shot("copy-of-heping", heping_text, gold_dir)[0] == "gold:lanshan-2024.json"
    (tmp_path / "alone").mkdir()
    only_self = copy_gold(tmp_path / "alone", ["heping-2024"])
    assert choose_few_shot("heping-2024", heping_text, only_self)[0] == "builtin"


def test_a_gold_file_changed_between_documents_is_read_again(tmp_path: Path) -> None:
    # A worker process chooses the few-shot for every job: a gold file edited or promoted
    # meanwhile must count for the next document, not the version read first.
    gold_dir = copy_gold(tmp_path, ["heping-2024", "lanshan-2024"])
    assert choose_few_shot("other", "无关", gold_dir)[0] == "gold:heping-2024.json"
    (gold_dir / "heping-2024.json").write_text("{ being written", encoding="utf-8")
    assert choose_few_shot("other", "无关", gold_dir)[0] == "gold:lanshan-2024.json"
    shutil.copy(GOLD / "heping-2024.json", gold_dir / "heping-2024.json")
    assert choose_few_shot("other", "无关", gold_dir)[0] == "gold:heping-2024.json"


def test_few_shot_example_is_verbatim_gold_with_its_labels(tmp_path: Path) -> None:
    gold_dir = copy_gold(tmp_path, ["heping-2024"])
    source, examples = choose_few_shot("other", "无关", gold_dir)
    gold = gold_record("heping-2024")
    evidence = {item.evidence for item in gold.achievements + gold.problems + gold.plans}
    for example in examples:
        answer = json.loads(example.output)
        for item in answer["items"]:
            shown = item.get("quote") or example.input.split(f"[P{item['passages'][0]}]")[1].split("[/P")[0]
            assert shown in evidence
    assert source == "gold:heping-2024.json"


def test_empty_gold_dir_uses_builtin_example(tmp_path: Path) -> None:
    source, examples = choose_few_shot("x", "text", tmp_path / "none")
    assert source == "builtin" and len(examples) == 3


def test_prompt_hash_changes_with_templates_and_few_shot(tmp_path: Path) -> None:
    prompts_dir = tmp_path / "prompts"
    shutil.copytree(DEFAULT_PROMPTS_DIR, prompts_dir)
    builtin = builtin_examples()
    base = PromptSet(prompts_dir=prompts_dir, few_shot_source="builtin", examples=builtin).prompt_hash
    assert base == PromptSet(prompts_dir=prompts_dir, few_shot_source="builtin", examples=builtin).prompt_hash
    assert base != PromptSet(prompts_dir=prompts_dir, few_shot_source="b", examples=builtin[:2]).prompt_hash
    user = prompts_dir / "section_user.j2"
    user.write_text(user.read_text(encoding="utf-8") + "\n请仔细。", encoding="utf-8")
    assert base != PromptSet(prompts_dir=prompts_dir, few_shot_source="builtin", examples=builtin).prompt_hash


def test_chunks_cut_only_between_points_preferring_new_headings() -> None:
    paragraphs, points = [], []
    for h in range(3):
        heading = f"（{'一二三'[h]}）方面{h}"
        paragraphs.append(heading)
        for n in range(5):
            paragraphs.append(f"{n + 1}.第{h}方面第{n}项工作。" + "内容" * 40)
    text = "\n".join(paragraphs)
    offset = 0
    for h, line in enumerate(paragraphs):
        if not line.startswith("（"):
            points.append(
                Point(span=Span(start=offset, end=offset + len(line)), context=[paragraphs[(h // 6) * 6]])
            )
        offset += len(line) + 1
    section = Section(kind=SectionKind.ACHIEVEMENTS, span=Span(start=0, end=len(text)), points=points)
    chunks = section_chunks(text, SegmentedReport(doc_id="x", sections=[section]), max_chars=600)
    assert len(chunks) > 1
    passages = [p.text for c in chunks for p in c.passages]
    assert passages == [text[p.span.start : p.span.end] for p in points]  # each point once, whole
    assert next(c.bounds for c in chunks).start == 0 and chunks[-1].bounds.end == len(text)
    for previous, chunk in itertools.pairwise(chunks):
        assert previous.bounds.end == chunk.bounds.start  # nothing shown twice or lost
    starts_with_heading = [c for c in chunks[1:] if text[c.bounds.start :].lstrip("\n").startswith("（")]
    assert starts_with_heading  # at least one cut moved to a sub-heading boundary
    assert all(c.rendered.count("[P") == c.rendered.count("[/P") == len(c.passages) for c in chunks)


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer(default=sample_responder) as running:
        yield running


def test_template_syntax_in_the_document_arrives_verbatim(server: ScriptedServer) -> None:
    doc, segmented, _rules = sample_report()
    hostile = "{{ grounding }}{% raw %}{# 注释"
    text = doc.text.replace("（二）深化普法宣传。", "（二）深化普法宣传" + hostile + "。")
    doc = doc.model_copy(update={"text": text})
    shift = len(hostile)
    cut = text.index(hostile)
    for section in segmented.sections:
        for holder in [section, *section.points]:
            span = holder.span
            new = Span(
                start=span.start + (shift if span.start > cut else 0),
                end=span.end + (shift if span.end > cut else 0),
            )
            holder.span = new
    settings = LLMSettings(base_url=server.base_url, api_key="sk-template-test", concurrency=1)
    out = extract_with_llm(doc, segmented, rules_record=Record(doc_id=doc.doc_id), settings=settings)
    achievements_request = next(b for b in server.bodies if "（achievements）" in first_user_text(b))
    assert hostile in first_user_text(achievements_request)
    assert hostile in out.record.achievements[1].evidence


def test_report_text_reaches_the_model_exactly_as_rendered() -> None:
    """instructor dedents every message: the report text the model receives keeps its line
    structure and indents (only lines of nothing but spaces are sent empty, by us, so that
    dedent has nothing left to change)."""
    import textwrap

    from llm_server import ScriptedServer, first_user_text, sample_report, sample_responder, scripted_settings

    from extractor.extract.llm import extract_with_llm
    from extractor.extract.llm.client import stable_under_dedent
    from extractor.segment import segment_report

    doc, _segmented, rules = sample_report()
    text = doc.text.replace("（一）强化行政复议。", "（一）强化行政复议。\n  \n    ", 1)
    doc = doc.model_copy(update={"text": text})
    with ScriptedServer(default=sample_responder) as server:
        settings = scripted_settings(server, api_key="k")
        extract_with_llm(doc, segment_report(doc), rules_record=rules, settings=settings)
        sent = [first_user_text(body) for body in server.bodies]
    assert any("强化行政复议。[/P1]\n\n    [P2]2024年" in message for message in sent)
    for message in sent:
        assert textwrap.dedent(message) == message == stable_under_dedent(message)
    assert stable_under_dedent("a\n  \n    b\n\t\n") == "a\n\n    b\n\n"
