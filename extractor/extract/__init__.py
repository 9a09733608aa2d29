"""Extract stage: a segmented report → a Record, by the offline rules backend
(`extractor.extract.rules`) or a model (`extractor.extract.llm`, imported on demand so the
offline path never loads the model client). Meta is shared by both backends."""

from extractor.extract.meta import extract_meta
from extractor.extract.rules import extract_with_rules

__all__ = ["extract_meta", "extract_with_rules"]
