"""Check stage: evidence aligned to the source (offsets + alignment status) and values
checked against their evidence."""

from extractor.check.align import align_quote, ground_record
from extractor.check.validate import validate_record

__all__ = ["align_quote", "ground_record", "validate_record"]
