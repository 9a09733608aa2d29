"""Where the repository's data lives when the package runs from a checkout."""

from __future__ import annotations

import os
from pathlib import Path

#: The checkout holding `extractor/`, `prompts/` and `eval/`.
REPO_ROOT = Path(__file__).resolve().parents[2]
PROMPTS_DIR = REPO_ROOT / "prompts"
#: Environment variable naming the gold directory (default: the repository's eval/gold).
GOLD_DIR_ENV = "EXTRACTOR_GOLD_DIR"
REPO_GOLD_DIR = REPO_ROOT / "eval" / "gold"
#: The reports the repository's gold files were labelled from.
REPO_DOCS_DIR = REPO_ROOT / "eval" / "docs"


def default_gold_dir() -> Path:
    """`$EXTRACTOR_GOLD_DIR` if set (read at each call), else the repository's `eval/gold`."""
    configured = os.environ.get(GOLD_DIR_ENV, "").strip()
    return Path(configured) if configured else REPO_GOLD_DIR


def default_docs_dir() -> Path:
    """The repository's `eval/docs`: the reports the gold files refer to."""
    return REPO_DOCS_DIR
