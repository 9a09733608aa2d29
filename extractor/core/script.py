"""Traditional script read as simplified, for matching only.

Mirror sites republish county pages in traditional script (縣, 萬, 兩, 覆議). The stages match
words, numerals and units written in simplified characters, so they read a traditional text
through `to_simplified`, a one-to-one character mapping built from OpenCC's data (through
the maintained `opencc-python-reimplemented` package). One to one, so every offset into the
mapped text is an offset into the original; records keep the report's own characters.
"""

from __future__ import annotations

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


def to_simplified(text: str) -> str:
    """`text` with each traditional character in its simplified form (same length)."""
    return text.translate(_table())
