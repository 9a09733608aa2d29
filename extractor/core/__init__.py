"""Core types every stage shares: the record schema, the loaded document, errors and
normalised text. Core imports nothing from any stage.

The names below load their module on first use, so importing one light submodule (the
garbage-collector settings the CLI applies before anything else, say) does not import
pydantic and the record schema.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from extractor.core.document import SourceDocument, SourceFormat
    from extractor.core.errors import ExtractorError
    from extractor.core.normalise import NormalisedText
    from extractor.core.schema import Record

_MODULE_OF = {
    "ExtractorError": "errors",
    "NormalisedText": "normalise",
    "Record": "schema",
    "SourceDocument": "document",
    "SourceFormat": "document",
}

# `normalise` (the function) is imported from extractor.core.normalise: the package attribute
# of that name is the submodule.
__all__ = ["ExtractorError", "NormalisedText", "Record", "SourceDocument", "SourceFormat"]


def __getattr__(name: str) -> object:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{module}"), name)
