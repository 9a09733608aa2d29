"""Cassette chores: import answered task files, list pending ones, drop stale answers.

    python eval/cassettes.py import eval/cassettes      # answered tasks -> cassettes
    python eval/cassettes.py pending eval/cassettes     # the tasks still unanswered
    python eval/cassettes.py prune eval/cassettes       # replay the eval sets, keep what was used

See eval/cassettes/README.md for how the recorded answers were made.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from extractor.extract.llm.cassette import TASKS_DIR, import_answers  # noqa: E402

#: The (gold, docs) sets the cassettes answer: the bundled reports and the held-out ones.
EVAL_SETS = [
    (REPO / "eval" / "gold", REPO / "eval" / "docs"),
    (REPO / "eval" / "holdout", REPO / "eval" / "holdout"),
]


def prune(folder: Path) -> int:
    from extractor.evaluation.run import evaluate_backend
    from extractor.extract.llm import resolve_llm_settings, shared_client
    from extractor.pipeline.run import LLMResources, extract_document

    settings = resolve_llm_settings(replay_dir=folder)
    llm = LLMResources(settings=settings, client=shared_client(settings))
    for gold, docs in EVAL_SETS:
        evaluate_backend(
            gold_dir=gold,
            docs_dir=docs,
            backend="llm",
            extract=lambda d, **kw: extract_document(d, llm=llm, **kw),
        )
    cassettes = llm.client.cassettes if llm.client is not None else None
    if cassettes is None or cassettes.misses:
        raise SystemExit("some requests had no recorded answer: answer them before pruning")
    return cassettes.prune()


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in {"import", "pending", "prune"}:
        print(__doc__)
        return 1
    folder = Path(argv[1])
    if argv[0] == "import":
        print(f"imported {len(import_answers(folder))} answer(s)")
    elif argv[0] == "prune":
        print(f"dropped {prune(folder)} stale answer(s)")
    else:
        tasks = [
            p for p in sorted((folder / TASKS_DIR).glob("*/*.json")) if not p.name.endswith(".answer.json")
        ]
        for path in tasks:
            print(path)
        print(f"{len(tasks)} task(s) pending")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
