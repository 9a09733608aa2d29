"""Traditional script read as simplified, for matching only.

Mirror sites republish county pages in traditional script (縣, 萬, 兩, 覆議). The stages match
words, numerals and units written in simplified characters, so they read a traditional text
through `to_simplified`, a one-to-one character mapping built from OpenCC's data (through
the maintained `opencc-python-reimplemented` package). One to one, so every offset into the
mapped text is an offset into the original; records keep the report's own characters.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib.resources import files


@lru_cache(maxsize=1)
def _table() -> dict[int, str]:
    """Traditional → simplified for every character OpenCC maps to one character."""
    data = files("opencc").joinpath("dictionary", "TSCharacters.txt").read_text(encoding="utf-8")
    table: dict[int, str] = {}
    for line in data.splitlines():
        traditional, _, candidates = line.partition("\t")
        simplified = candidates.split(" ")[0] if candidates else ""
        if len(traditional) == 1 and len(simplified) == 1 and traditional != simplified:
            table[ord(traditional)] = simplified
    return table


@lru_cache(maxsize=1)
def _maybe_traditional() -> re.Pattern[str]:
    """Any BMP character `_table` maps, or any character outside the Basic Multilingual Plane
    (a few traditional ones are, and a class listing them one by one is scanned slowly, so
    any such character takes the full path). One regex scan is about ten times faster than
    `str.translate`, which looks every character up in the table one by one; one class for
    both scans the text once."""
    chars = "".join(re.escape(chr(cp)) for cp in sorted(_table()) if cp <= 0xFFFF)
    return re.compile(f"[{chars}\U00010000-\U0010ffff]")


def to_simplified(text: str) -> str:
    """`text` with each traditional character in its simplified form (same length)."""
    # Most reports are in simplified script: find that out without translating.
    if _maybe_traditional().search(text) is None:
        return text
    return text.translate(_table())
