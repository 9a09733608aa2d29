"""Check stage: evidence aligned to the source (offsets + alignment status), metric values
checked against their evidence, review flags set; one decision per item (`check_item`)."""

from extractor.check.align import SourceIndex, align_quote
from extractor.check.confidence import rate_record
from extractor.check.record import check_item, check_record

#: The name the pipeline's stage had before grounding and validation became one check.
ground_record = check_record

__all__ = ["SourceIndex", "align_quote", "check_item", "check_record", "ground_record", "rate_record"]
