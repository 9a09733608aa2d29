"""The learned paragraph-kind classifier (`extractor.segment.kind_model`) and its one use: a
top-level heading whose wording names no section (「一、回顾」, a bare 「二、」) gets the kind of
what its paragraphs report, so the achievements, problems and plans are still found."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

from extractor.core.document import SourceDocument
from extractor.core.schema import Record
from extractor.evaluation.scoring import score_document
from extractor.load import load_document
from extractor.pipeline.run import extract_document
from extractor.segment.headings import classify_heading
from extractor.segment.kind_model import NUMBERS_FILE, WEIGHTS_FILE, KindModel, load_kind_model, pack
from extractor.segment.model import SectionKind
from extractor.segment.sections import heading_section_kind, read_head

ROOT = Path(__file__).resolve().parent.parent


def _training_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("train_kind_model", ROOT / "eval" / "train_kind_model.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def test_plain_python_probabilities_equal_scikit_learns() -> None:
    pytest.importorskip("sklearn")
    training = _training_module()
    examples = training.load_examples()[:600]
    texts = [e.text for e in examples]
    fitted = training.fit(texts, [e.kind for e in examples])
    model = type(load_kind_model()).from_json(training.export(fitted, ""))
    expected = fitted.classifier.predict_proba(fitted.features(texts))
    for text, row in zip(texts, expected, strict=True):
        mine = model.probabilities(text)
        assert [round(mine[c], 6) for c in fitted.classifier.classes_] == pytest.approx(list(row), abs=1e-6)


def test_the_packed_weights_file_gives_the_exported_model_bit_for_bit() -> None:
    # An export as the training script makes it: decimal weights, some n-grams weighed by no
    # class (they count in the norm only), one weighed by several.
    export = {
        "classes": ["achievement", "cause", "other", "plan", "problem"],
        "settings": {"ngram_range": [1, 3]},
        "training_data_sha256": "abc",
        "intercepts": [0.1, -0.2, 0.3, -0.4, 0.5],
        "keyword_weights": [[0.1, 0.2, 0.3, 0.4]] * 5,
        "idf": {"完成": 1.234567890123, "问题": 2.5, "将": 3.000000000001, "的": 1.1},
        "weights": [
            {"完成": 0.12345, "将": -0.1},
            {},
            {"的": 0.3},
            {"将": 0.2},
            {"问题": 0.7, "完成": -0.05},
        ],
    }
    packed, numbers = pack(export)
    packed = json.loads(json.dumps(packed, ensure_ascii=False))
    loaded, expected = KindModel.from_packed(packed, numbers), KindModel.from_json(export)
    assert loaded == expected
    assert loaded.probabilities("完成了将的问题") == expected.probabilities("完成了将的问题")


def test_the_shipped_weights_file_is_packed_and_loads() -> None:
    shipped = json.loads((ROOT / "extractor" / "segment" / WEIGHTS_FILE).read_text(encoding="utf-8"))
    numbers = (ROOT / "extractor" / "segment" / NUMBERS_FILE).read_bytes()
    model = load_kind_model()
    assert model is not None and model == KindModel.from_packed(shipped, numbers)
    assert len(model.idf) == len(shipped["terms"])
    assert len(model.weights) == shipped["weighted_terms"] * len(model.classes)


def test_shipped_weights_were_trained_on_the_current_labels() -> None:
    pytest.importorskip("sklearn")
    training = _training_module()
    shipped = json.loads((ROOT / "extractor" / "segment" / WEIGHTS_FILE).read_text(encoding="utf-8"))
    assert shipped["training_data_sha256"] == training.data_sha256(training.load_examples())


# Written for this test (the model never saw it): every section heading says nothing of its kind.
UNHEADED_REPORT = """某某县自然资源局2024年法治政府建设情况报告
2024年，我局在县委、县政府的领导下，推进依法行政，现将有关情况报告如下。
一、回顾
（一）规范重大行政决策。全年提交局党组会议集体讨论的重大事项18件，全部经过合法性审查，聘请法律顾问2名，出具法律意见书46份。
（二）加强执法监督。开展土地执法案卷评查3次，评查案卷86卷，纠正程序瑕疵问题12个，执法人员持证率达到100%。
（三）化解行政争议。全年办理行政复议答复案件9件，行政诉讼案件5件，负责人出庭应诉率100%，无一败诉。
二、审视
（一）执法队伍力量薄弱。乡镇自然资源所执法人员平均不足2人，具有法律专业背景的人员偏少，难以适应执法任务需要。
（二）普法针对性不强。面向农村群众的土地法律宣传形式单一，群众对违法用地的危害认识不够，违法占地现象时有发生。
三、前行
（一）深入推进严格规范执法。2025年将组织执法人员轮训2次，完善行政处罚裁量基准，推动执法程序进一步规范。
（二）持续加强法治宣传。下一步将结合“全国土地日”等节点，深入村组开展以案释法，提升群众依法用地意识。
某某县自然资源局
2025年1月10日
"""


def test_a_report_whose_headings_name_no_section_still_gets_its_lists() -> None:
    doc = SourceDocument(doc_id="unheaded", path="unheaded.txt", text=UNHEADED_REPORT)
    record = extract_document(doc)
    assert [a.evidence[:5] for a in record.achievements] == ["（一）规范", "（二）加强", "（三）化解"]
    assert [p.evidence[:5] for p in record.problems] == ["（一）执法", "（二）普法"]
    assert [p.evidence[:5] for p in record.plans] == ["（一）深入", "（二）持续"]
    # Bare numbers as headings, the same.
    bare = re.sub(r"(?m)^([一二三])、(回顾|审视|前行)$", r"\1、", UNHEADED_REPORT)
    record = extract_document(SourceDocument(doc_id="bare", path="bare.txt", text=bare))
    assert (len(record.achievements), len(record.problems), len(record.plans)) == (3, 2, 2)


def test_a_hint_never_overrides_a_heading_that_names_its_section() -> None:
    text = "三、下一步工作计划"
    assert heading_section_kind(
        text, read_head(text), SectionKind.PROBLEMS, hint=SectionKind.ACHIEVEMENTS
    ) is (SectionKind.PLANS)


_SECTION_HEADING = re.compile(r"^(\s*)([一二三四五六七八九十]{1,3}、)([^。；;！？]{1,40})$")
LABELLED = sorted((ROOT / "eval" / "gold").glob("*.json")) + sorted(
    (ROOT / "eval" / "holdout").glob("*.json")
)


def _without_section_words(text: str) -> str:
    """Every top-level heading that names its section (「二、存在的问题」) reduced to 「二、」."""
    lines = []
    for line in text.split("\n"):
        m = _SECTION_HEADING.match(line)
        named = m is not None and classify_heading(m.group(3)) is not None
        lines.append(m.group(1) + m.group(2) if m and named else line)
    return "\n".join(lines)


@pytest.mark.parametrize("gold_path", LABELLED, ids=lambda p: p.stem)
def test_labelled_reports_with_bare_section_numbers_keep_their_lists(gold_path: Path) -> None:
    docs = ROOT / "eval" / "docs" / f"{gold_path.stem}.txt"
    source = load_document(docs if docs.exists() else gold_path.with_suffix(".txt"))
    text = _without_section_words(source.text)
    if text == source.text:
        pytest.skip("no standalone top-level heading names its section")
    gold = Record.model_validate_json(gold_path.read_text(encoding="utf-8"))
    score = score_document(extract_document(SourceDocument(doc_id="x", path="x.txt", text=text)), gold, text)
    assert all(s.f1 >= 0.8 for s in score.lists()), [(s.list_name, s.f1) for s in score.lists()]
