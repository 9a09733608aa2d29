"""Core types every stage shares: the record schema, the loaded document, errors and
normalised text. Core imports nothing from any stage."""

from extractor.core.document import SourceDocument, SourceFormat
from extractor.core.errors import ExtractorError
from extractor.core.normalise import NormalisedText, normalise
from extractor.core.schema import Record

__all__ = ["ExtractorError", "NormalisedText", "Record", "SourceDocument", "SourceFormat", "normalise"]
