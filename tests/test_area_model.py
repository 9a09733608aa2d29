"""The learned area model: the plain-Python scorer is the scikit-learn model, and the
shipped weights were trained on the labelled data as it stands."""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from pathlib import Path

import pytest

from extractor.core.schema import Area
from extractor.extract.rules.area_model import WEIGHTS_FILE, RowSums, load_area_model, predict
from extractor.extract.rules.areas import area_scores, classify_area

ROOT = Path(__file__).resolve().parent.parent


def _training_module():
    spec = importlib.util.spec_from_file_location("train_area_model", ROOT / "eval" / "train_area_model.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def _load_examples_without_sklearn():
    """The training set, read as the training script reads it (no scikit-learn needed)."""
    examples = []
    for pattern in ("eval/gold/*.json", "tests/fixtures/synthetic*/*.json"):
        for path in sorted(ROOT.glob(pattern)):
            record = json.loads(path.read_text(encoding="utf-8"))
            for kind in ("achievements", "problems", "plans"):
                examples += [(item["evidence"], item["area"]) for item in record.get(kind, [])]
    return examples


def test_plain_python_predictions_equal_scikit_learns() -> None:
    pytest.importorskip("sklearn")
    training = _training_module()
    examples = training.load_examples()
    fitted, model, _data = training.train(examples)
    texts = [e.evidence for e in examples]
    assert predict(model, texts, area_scores) == fitted.predict(texts)
    # The probabilities too (the reviewer's flag shows them), terms seen several times included.
    expected = fitted.classifier.predict_proba(fitted.features(texts))
    assert fitted.classifier.classes_.tolist() == [area.value for area in model.classes]
    for text, row in zip(texts, expected, strict=True):
        got = model.probabilities(text, area_scores(text))
        assert [got[area] for area in model.classes] == pytest.approx(row.tolist(), abs=1e-9)


def test_shipped_weights_were_trained_on_the_current_labels() -> None:
    pytest.importorskip("sklearn")
    training = _training_module()
    shipped = json.loads(
        (ROOT / "extractor" / "extract" / "rules" / WEIGHTS_FILE).read_text(encoding="utf-8")
    )
    assert shipped["training_data_sha256"] == training.data_sha256(training.load_examples())


def test_shipped_model_fits_the_labelled_items() -> None:
    model = load_area_model()
    assert model is not None
    examples = _load_examples_without_sklearn()
    predicted = predict(model, [text for text, _area in examples], area_scores)
    right = sum(p.value == area for p, (_text, area) in zip(predicted, examples, strict=True))
    assert right / len(examples) > 0.95


def test_classify_area_reads_the_content() -> None:
    assert (
        classify_area("三是扎实开展社区矫正工作。全年新接收社区矫正对象12人，无一脱管漏管。")
        is Area.CORRECTIONS
    )
    assert classify_area("二是深化府院联动，行政机关负责人出庭应诉率达100%。") is Area.RECONSIDERATION


def test_row_sums_add_each_column_exactly() -> None:
    # Negative, tiny and large values side by side: each column's sum is the exact sum of its
    # values (as math.fsum gives it), whichever terms are summed.
    columns = [
        {"甲": 2.25, "乙": 1e-9, "丙": 7.5, "丁": 0.1},
        {"甲": -3.125, "丙": 0.333},
        {"乙": -1e-6, "丁": -40.0, "丙": 1e-12},
    ]
    rows = RowSums(columns)
    for terms in (["甲"], ["乙", "丁"], ["甲", "乙", "丙", "丁"], []):
        expected = [math.fsum(column.get(term, 0.0) for term in terms) for column in columns]
        assert rows.sums(terms) == pytest.approx(expected, rel=1e-15, abs=1e-18)


@pytest.mark.parametrize("learned", [False, True])
def test_area_call_is_the_area_and_the_strength_asked_for_separately(learned: bool) -> None:
    from extractor.extract.rules.areas import area_call, area_call_strength

    cases = [
        ("三是扎实开展社区矫正工作。全年新接收社区矫正对象12人，无一脱管漏管。", None, ()),
        ("加强普法宣传，开展行政执法案卷评查。", "普法与执法", ("一、主要成效",)),
        ("耕地保护工作有序推进。", None, ("（三）社区矫正",)),  # no keyword: the heading decides
        ("耕地保护工作有序推进。", None, ("推进法治政府建设",)),  # nor a clear heading: other
        ("开展行政复议和人民调解。", "复议调解", ()),  # a close call
    ]
    for body, lead, context in cases:
        expected = (
            classify_area(body, lead=lead, context=context, learned=learned),
            area_call_strength(body, lead=lead, context=context, learned=learned),
        )
        assert area_call(body, lead=lead, context=context, learned=learned) == expected
