"""Numbers stage: Chinese numerals, metrics (value + unit + name) found in text, and the
one check that a value is stated in a passage."""

from extractor.numbers.metrics import MetricMatch, find_metrics
from extractor.numbers.numerals import multiplier_value, parse_chinese_number, parse_cn_integer
from extractor.numbers.stated import value_in_text

__all__ = [
    "MetricMatch",
    "find_metrics",
    "multiplier_value",
    "parse_chinese_number",
    "parse_cn_integer",
    "value_in_text",
]
