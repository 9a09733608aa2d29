"""What makes two queued extractions the same (no database needed)."""

from __future__ import annotations

import json

from extractor.distributed import model_settings_of, setup_key_for
from extractor.extract.llm import LLMSettings


def test_the_setup_key_changes_with_what_changes_the_answers_and_never_holds_the_key() -> None:
    base = LLMSettings(model="m1", api_key="sk-secret-setup-key-0123")
    same = LLMSettings(model="m1", api_key="sk-another-key-4567", concurrency=16, timeout=5)
    assert setup_key_for("llm", base) == setup_key_for("llm", same)  # key, pacing: not the answer
    for other in (
        LLMSettings(model="m2", api_key="x" * 8),
        LLMSettings(model="m1", api_key="x" * 8, mode="json"),
        LLMSettings(model="m1", api_key="x" * 8, temperature=0.7),
        LLMSettings(model="m1", api_key="x" * 8, base_url="http://127.0.0.1:9/v1"),
    ):
        assert setup_key_for("llm", other) != setup_key_for("llm", base)
    assert setup_key_for("rules") != setup_key_for("llm", base)
    carried = json.dumps(model_settings_of(base))
    assert "sk-secret" not in carried and json.loads(carried)["model"] == "m1"


def test_a_worker_pays_its_start_up_costs_before_its_first_job_and_sends_nothing() -> None:
    # A cold worker's first model job cost ten times the CPU of the next one (the model
    # client's modules, the area model, the pipeline's tables, the OCR engine): the warm-up must load them, in a fresh
    # process, without a request (its client's address is a closed port) or a stored record.
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from extractor.distributed.worker import _warm_up\n"
        "_warm_up()\n"
        "loaded = [m for m in ('openai.resources.chat', 'instructor', 'extractor.segment.sections') "
        "if m not in sys.modules]\n"
        "from extractor.extract.rules.area_model import load_area_model\n"
        "print('area model read', load_area_model.cache_info().currsize)\n"
        "from extractor.load.ocr import ocr_engine\n"
        "print('ocr engines built', ocr_engine.cache_info().currsize)\n"
        "print('missing', loaded)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "missing []" in done.stdout
    assert "area model read 1" in done.stdout
    assert "ocr engines built 1" in done.stdout
