"""Finding and reading the report a gold or prediction file refers to."""

from __future__ import annotations

from pathlib import Path

from extractor.load import load_document

#: Plain-text reports are preferred when a report exists in several formats.
TEXT_SUFFIX = ".txt"


def find_document(docs_dir: Path, doc_id: str) -> Path | None:
    """The report file for `doc_id` in `docs_dir` (`<doc_id>.txt` first, else `<doc_id>.*`)."""
    text_path = docs_dir / f"{doc_id}{TEXT_SUFFIX}"
    if text_path.is_file():
        return text_path
    candidates = sorted(p for p in docs_dir.glob(f"{doc_id}.*") if p.is_file() and p.stem == doc_id)
    return candidates[0] if candidates else None


def read_document(path: Path) -> str:
    """The report's text exactly as the extractor sees it (the load stage decodes every
    format, GBK/GB18030 included); raises LoadError naming the file and the problem."""
    return load_document(path).text
