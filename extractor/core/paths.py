"""Where the repository's data lives when the package runs from a checkout."""

from __future__ import annotations

from pathlib import Path

#: The checkout holding `extractor/`, `prompts/` and `eval/`.
REPO_ROOT = Path(__file__).resolve().parents[2]
PROMPTS_DIR = REPO_ROOT / "prompts"
