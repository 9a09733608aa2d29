"""Quality bars: overall figures compared with the minimums in a TOML file.

A key names a figure and its minimum; a key `<figure>_max` names a ceiling instead (e.g.
`flag_rate_max = 0.3`: at most 30 % of items flagged)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel

from extractor.core.errors import ConfigError
from extractor.evaluation.models import Scores

#: Figures a bar may name: every key of `Scores.figures()` (achievements_f1, metrics_f1,
#: area_accuracy_min, cause_accuracy, meta_accuracy, grounding, ...).
KNOWN_FIGURES: frozenset[str] = frozenset(Scores().figures())

#: Floating-point slack, so a figure of exactly the bar (e.g. 29/30 computed two ways) passes.
_EPSILON = 1e-9


class ThresholdFailure(BaseModel):
    figure: str
    bar: float
    value: float

    ceiling: bool = False

    def __str__(self) -> str:
        side = "above the ceiling" if self.ceiling else "below the bar"
        return f"{self.figure} = {self.value:.4f} is {side} {self.bar:.4f}"


_CEILING = "_max"


def figure_of(name: str) -> str:
    return name.removesuffix(_CEILING) if name.endswith(_CEILING) and name not in KNOWN_FIGURES else name


def load_thresholds(path: Path) -> dict[str, float]:
    """Figure name -> minimum, from a flat TOML table. Raises ConfigError naming the file.

    Unknown names and non-numeric or out-of-range bars are errors (a typo must not silently
    disable a bar).
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ConfigError(f"cannot read thresholds: {e.strerror}", source=str(path)) from e
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"invalid TOML: {e}", source=str(path)) from e
    bars: dict[str, float] = {}
    for name, bar in data.items():
        if figure_of(name) not in KNOWN_FIGURES:
            raise ConfigError(
                f"unknown figure '{name}' (known: {', '.join(sorted(KNOWN_FIGURES))})", source=str(path)
            )
        if isinstance(bar, bool) or not isinstance(bar, int | float) or not 0 <= bar <= 1:
            raise ConfigError(f"bar for '{name}' must be a number in [0, 1], got {bar!r}", source=str(path))
        bars[name] = float(bar)
    return bars


def check_thresholds(figures: dict[str, float | None], bars: dict[str, float]) -> list[ThresholdFailure]:
    """Figures below their bar, in the bars' order.

    A figure that is None (nothing to measure, e.g. area accuracy with no matched items) is
    not a failure here: the F1 bars already fail when nothing matched.
    """
    failures: list[ThresholdFailure] = []
    for name, bar in bars.items():
        figure = figure_of(name)
        value = figures.get(figure)
        if value is None:
            continue
        if figure != name and value > bar + _EPSILON:
            failures.append(ThresholdFailure(figure=figure, bar=bar, value=value, ceiling=True))
        elif figure == name and value < bar - _EPSILON:
            failures.append(ThresholdFailure(figure=name, bar=bar, value=value))
    return failures
