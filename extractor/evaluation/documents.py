"""Finding and reading the report a gold or prediction file refers to."""

from __future__ import annotations

from pathlib import Path

from extractor.core.errors import LoadError

#: Plain-text reports are read here; other formats go through `extractor.load`.
TEXT_SUFFIX = ".txt"


def find_document(docs_dir: Path, doc_id: str) -> Path | None:
    """The report file for `doc_id` in `docs_dir` (`<doc_id>.txt` first, else `<doc_id>.*`)."""
    text_path = docs_dir / f"{doc_id}{TEXT_SUFFIX}"
    if text_path.is_file():
        return text_path
    candidates = sorted(p for p in docs_dir.glob(f"{doc_id}.*") if p.is_file() and p.stem == doc_id)
    return candidates[0] if candidates else None


def read_document(path: Path) -> str:
    """The report's text. UTF-8 (with or without BOM) or GB18030 for .txt; raises LoadError.

    Other formats are read by `extractor.load.load_document`, imported here so the eval
    harness works on plain-text reports before (or without) the loaders.
    """
    if path.suffix.lower() != TEXT_SUFFIX:
        try:
            from extractor.load import load_document
        except ImportError as e:
            raise LoadError(
                f"cannot read {path.suffix} files without extractor.load", source=str(path)
            ) from e
        return load_document(path).text
    try:
        data = path.read_bytes()
    except OSError as e:
        raise LoadError(f"cannot read: {e.strerror}", source=str(path)) from e
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise LoadError("not UTF-8 or GB18030 text", source=str(path))
