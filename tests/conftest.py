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
