"""Pipeline: composes the stages for one document and for a batch of files."""

from extractor.pipeline.run import extract_document, extract_paths, run_extraction

__all__ = ["extract_document", "extract_paths", "run_extraction"]
