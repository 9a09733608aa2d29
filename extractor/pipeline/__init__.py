"""Pipeline: one document run (`run_extraction`) and one batch runner (`extract_batch`)."""

from extractor.pipeline.batch import BatchResult, FileOutcome, extract_batch, extract_paths
from extractor.pipeline.run import LLMResources, extract_document, run_extraction

__all__ = [
    "BatchResult",
    "FileOutcome",
    "LLMResources",
    "extract_batch",
    "extract_document",
    "extract_paths",
    "run_extraction",
]
