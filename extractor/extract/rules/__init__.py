"""The offline rules backend: leaf points → items, areas by keyword, metrics by pattern."""

from extractor.extract.rules.backend import extract_with_rules

__all__ = ["extract_with_rules"]
