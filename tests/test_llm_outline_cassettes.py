"""The outline call (the model decides the structure), recorded answers replayed through the
real client, and flags rated by confidence."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from llm_server import sample_report

from extractor.check.confidence import Calibration, rate_item
from extractor.core.schema import Achievement, Area, Flag, FlagCode, ListName
from extractor.evaluation.thresholds import check_thresholds
from extractor.extract.llm import LLMSettings, extract_with_llm
from extractor.extract.llm.cassette import Cassettes, import_answers, request_key
from extractor.extract.llm.outline import (
    OutlineContext,
    OutlineKind,
    OutlineLeaf,
    OutlineOut,
    OutlineSection,
    apply_outline,
    outline_problems,
    paragraph_spans,
    proposal_from_segments,
)
from extractor.load import load_document
from extractor.segment import SectionKind, segment_report

REPO = Path(__file__).resolve().parent.parent


def _outline(path: Path):
    doc = load_document(path)
    segmented = segment_report(doc)
    ctx = OutlineContext(doc.text, paragraph_spans(doc.text))
    return doc, segmented, ctx


def test_accepting_the_proposal_keeps_the_segmenters_points() -> None:
    for path in sorted((REPO / "eval" / "docs").glob("*.txt")):
        _doc, segmented, ctx = _outline(path)
        proposal = proposal_from_segments(segmented, ctx)
        assert outline_problems(proposal, ctx) == []
        after = apply_outline(proposal, ctx, segmented)
        spans = [[(p.span.start, p.span.end) for p in s.points] for s in after.sections]
        assert spans == [[(p.span.start, p.span.end) for p in s.points] for s in segmented.sections]


def test_the_model_can_re_kind_a_section_and_merge_its_points() -> None:
    _doc, segmented, ctx = _outline(REPO / "eval" / "docs" / "lanshan-2024.txt")
    proposal = proposal_from_segments(segmented, ctx)
    achievements = next(s for s in proposal.sections if s.kind is OutlineKind.ACHIEVEMENTS)
    merged = achievements.model_copy(update={"kind": OutlineKind.PLANS, "leaves": achievements.leaves[:1]})
    answer = OutlineOut(sections=[merged])
    after = apply_outline(answer, ctx, segmented)
    (section,) = after.sections
    assert section.kind is SectionKind.PLANS and len(section.points) == 1
    first = segmented.sections_of(SectionKind.ACHIEVEMENTS)[0].points[0]
    assert section.points[0].span.start == first.span.start


def test_an_outline_citing_text_that_is_not_there_is_sent_back() -> None:
    _doc, _segmented, ctx = _outline(REPO / "eval" / "docs" / "lushan-2023.txt")
    bad = OutlineOut(
        sections=[
            OutlineSection(
                kind=OutlineKind.ACHIEVEMENTS,
                first=4,
                last=9999,
                leaves=[OutlineLeaf(paragraph=5, opening="这句话原文里没有")],
            )
        ]
    )
    assert any("不存在" in p for p in outline_problems(bad, ctx))
    bad.sections[0].last = 17
    assert any("逐字照抄" in p for p in outline_problems(bad, ctx))


def test_sub_points_under_a_point_stay_in_it() -> None:
    """①②③ paragraphs below a 一是 point belong to it, even one the segmenter left out."""
    doc, segmented, ctx = _outline(REPO / "eval" / "holdout" / "kuanhe-2024.txt")
    start = doc.text.index("一是深化行政执法监督")
    proposal = proposal_from_segments(segmented, ctx)
    section = next(s for s in proposal.sections if s.kind is OutlineKind.ACHIEVEMENTS)
    number = next(n for n, span in enumerate(ctx.paragraphs, 1) if span.start == start)
    section.leaves = [leaf for leaf in section.leaves if not number < leaf.paragraph < number + 4]
    after = apply_outline(proposal, ctx, segmented)
    point = next(p for s in after.sections for p in s.points if p.span.start == start)
    assert "③拓宽监督渠道" in doc.text[point.span.start : point.span.end]
    assert "二是提升执法队伍素质" not in doc.text[point.span.start : point.span.end]


def _replay_settings(folder: Path) -> LLMSettings:
    return LLMSettings(model="replay", replay_dir=folder, max_retries=0, http_retries=0)


def test_a_request_with_no_recorded_answer_becomes_a_task_and_falls_back(tmp_path: Path) -> None:
    doc, segmented, rules = sample_report()
    out = extract_with_llm(doc, segmented, rules_record=rules, settings=_replay_settings(tmp_path))
    tasks = sorted((tmp_path / "_tasks" / doc.doc_id).glob("*.json"))
    assert len(tasks) == len(out.calls) == 5  # meta, outline and three sections
    task = json.loads(tasks[0].read_text(encoding="utf-8"))
    assert task["messages"] and task["schema"]["name"] in {"MetaOut", "OutlineOut", "SectionExtraction"}
    assert all(item.flags for item in out.record.achievements)  # rules items, flagged
    assert len(out.record.achievements) == len(rules.achievements)


def _answer(task: dict[str, Any]) -> dict[str, Any]:
    """What a model would answer: the proposal for the outline, one item per passage."""
    name = task["schema"]["name"]
    text = task["messages"][-1]["content"]
    if name == "OutlineOut":
        return json.JSONDecoder().raw_decode(text.split("【分段建议】", 1)[1].strip())[0]
    if name == "MetaOut":
        return {"issuer": "某某县司法局", "region": "某某县", "report_year": 2024, "period": "annual"}
    count = text.count("[/P")
    return {"items": [{"passages": [n], "area": "其他", "text": f"第{n}条"} for n in range(1, count + 1)]}


def test_recorded_answers_replay_through_the_real_client(tmp_path: Path) -> None:
    doc, segmented, rules = sample_report()
    extract_with_llm(doc, segmented, rules_record=rules, settings=_replay_settings(tmp_path))
    for _round in range(3):  # the section calls are only sent once the outline is answered
        for path in (tmp_path / "_tasks").glob("*/*.json"):
            if not path.name.endswith(".answer.json"):
                answer = _answer(json.loads(path.read_text(encoding="utf-8")))
                path.with_name(path.stem + ".answer.json").write_text(json.dumps(answer, ensure_ascii=False))
        import_answers(tmp_path)
        out = extract_with_llm(doc, segmented, rules_record=rules, settings=_replay_settings(tmp_path))
        if all(call.status == "ok" for call in out.calls):
            break
    assert [c.status for c in out.calls] == ["ok"] * 5
    assert [a.text for a in out.record.achievements] == ["第1条", "第2条", "第3条"]
    assert out.record.meta.issuer == "某某县司法局"
    cassettes = Cassettes.open(tmp_path)
    assert len(cassettes.interactions) == 5
    assert all(
        key == request_key({"messages": i.messages}) or i.schema for key, i in cassettes.interactions.items()
    )


def test_confidence_follows_how_often_a_flag_marked_a_wrong_item() -> None:
    calibration = Calibration(
        wrong_share={"area_uncertain": 0.4, "unmarked_point": 0.1}, base=0.05, threshold=0.7
    )
    item = Achievement(area=Area.OTHER, text="t", evidence="e")
    rate_item(item, calibration)
    assert (item.confidence, item.needs_review) == (0.95, False)
    item.flags = [Flag(code=FlagCode.UNMARKED_POINT), Flag(code=FlagCode.AREA_UNCERTAIN)]
    rate_item(item, calibration)
    assert (item.confidence, item.needs_review) == (0.6, True)
    item.flags = [Flag(code=FlagCode.UNALIGNED)]  # grounding failures are always reviewed
    rate_item(item, Calibration(wrong_share={"unaligned": 0.0}, base=0.0, threshold=0.0))
    assert item.needs_review


def test_a_ceiling_fails_a_figure_above_it() -> None:
    failures = check_thresholds(
        {"flag_rate": 0.4, "grounding": 1.0}, {"flag_rate_max": 0.3, "grounding": 1.0}
    )
    assert [(f.figure, f.ceiling) for f in failures] == [("flag_rate", True)]
    assert "above the ceiling" in str(failures[0])
    assert check_thresholds({"flag_rate": 0.2}, {"flag_rate_max": 0.3}) == []


def test_every_list_is_scored_for_flags() -> None:
    assert {name.value for name in ListName} == {"achievements", "problems", "plans"}


def test_the_cli_extracts_a_bundled_report_from_its_recorded_answers(tmp_path: Path, monkeypatch) -> None:
    from typer.testing import CliRunner

    from extractor.cli.app import app, register_commands

    register_commands()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EXTRACTOR_CONFIG", str(tmp_path / "none.toml"))
    (tmp_path / "none.toml").write_text("", encoding="utf-8")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    report = REPO / "eval" / "docs" / "heping-2024.txt"
    args = ["extract", str(report), "--backend", "llm", "--replay", str(REPO / "eval" / "cassettes")]
    result = CliRunner().invoke(app, [*args, "--out", "out", "--no-store"])
    assert result.exit_code == 0, result.output
    record = json.loads((tmp_path / "out" / "heping-2024.json").read_text(encoding="utf-8"))
    assert record["provenance"]["backend"] == "llm"
    assert len(record["achievements"]) == 24 and record["meta"]["issuer"] == "和平县司法局"
    assert not any(f["code"] == "section_fallback" for a in record["achievements"] for f in a["flags"])
