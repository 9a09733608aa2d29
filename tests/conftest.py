from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "eval" / "docs"
GOLD = REPO / "eval" / "gold"
SEED_IDS = ["lanshan-2024", "heping-2024", "lushan-2023", "mayang-2022h1", "hubin-2024"]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def seed_texts() -> dict[str, str]:
    return {doc_id: (DOCS / f"{doc_id}.txt").read_text(encoding="utf-8") for doc_id in SEED_IDS}


@pytest.fixture
def server():
    """A scripted OpenAI-compatible server on 127.0.0.1 answering the sample report."""
    from llm_server import ScriptedServer, sample_responder

    with ScriptedServer(default=sample_responder) as running:
        yield running


@pytest.fixture(scope="session", autouse=True)
def analysis_cache(tmp_path_factory: pytest.TempPathFactory):
    """Analyses kept by any test (the review app warms one after each save) go to a temporary
    folder, never to the user's cache."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EXTRACTOR_ANALYSIS_CACHE", str(tmp_path_factory.mktemp("kept-analyses")))
        yield


@pytest.fixture(autouse=True)
def no_warming_left_running():
    """A test's saves may start the analysis's warming thread: it ends before the test's
    database and folders are removed."""
    yield
    import sys

    warm = sys.modules.get("extractor.analysis.warm")
    if warm is not None:
        assert warm.warmer.wait(120), "the analysis warming did not finish"
