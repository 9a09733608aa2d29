"""The catalogue of common indicators, kept as data (indicator_catalogue.json)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from extractor.core.errors import ExtractorError
from extractor.core.schema import Area

CATALOGUE_PATH = Path(__file__).with_name("indicator_catalogue.json")

#: Units that measure a share; every other unit is a count, an amount or a change.
RATE_UNITS = frozenset({"%", "％", "‰"})
MONEY_UNITS = frozenset({"元", "万元", "亿元"})
#: What a count counts, by its measure word: a count of events never fills a count of people.
#: A unit not listed here is its own kind.
COUNT_KINDS: dict[str, str] = {
    **dict.fromkeys(("人", "名", "位"), "people"),
    **dict.fromkeys(("人次",), "person-times"),
    **dict.fromkeys(("场", "次", "期", "轮", "场次", "批次"), "events"),
    **dict.fromkeys(("件", "宗", "起", "份", "卷", "项", "条", "册", "本", "批"), "items"),
    **dict.fromkeys(("个", "家", "所", "处", "座"), "places"),
}


class Indicator(BaseModel):
    """One indicator: its name, the units its values are written in, its area and other names."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    unit: str
    units: tuple[str, ...]
    area: Area
    variants: tuple[str, ...] = Field(default_factory=tuple)

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.variants)


def unit_family(unit: str) -> str:
    """rate, money, change (个百分点) or count: values of different families never compare."""
    unit = unit.strip()
    if unit in RATE_UNITS:
        return "rate"
    if unit in MONEY_UNITS:
        return "money"
    if "百分点" in unit:
        return "change"
    return "count"


def unit_kind(unit: str) -> str:
    """The unit's family, refined for counts by what is counted (`COUNT_KINDS`)."""
    family = unit_family(unit)
    return COUNT_KINDS.get(unit.strip(), f"count:{unit.strip()}") if family == "count" else family


@lru_cache(maxsize=4)
def load_catalogue(path: Path = CATALOGUE_PATH) -> tuple[Indicator, ...]:
    """The indicators of the catalogue file; a bad file is one ExtractorError naming it."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        indicators = tuple(Indicator.model_validate(entry) for entry in raw["indicators"])
    except (OSError, ValueError, KeyError, TypeError, ValidationError) as e:
        raise ExtractorError(f"bad indicator catalogue: {e}", source=str(path)) from e
    names = [i.name for i in indicators]
    if len(set(names)) != len(names):
        raise ExtractorError("indicator names must be unique", source=str(path))
    return indicators
