"""Which characters a match of a regex can end with, read from the pattern itself.

The metric finder asks end-anchored patterns (`vocabulary.Ending`) about the few characters
before or after a number, thousands of times per report. Most of those texts end in a
character no match can end with; knowing the set lets it answer without entering the regex
engine. Read with the standard library's own pattern parser (`re._parser`, the module
`re.compile` uses), so the set follows the pattern as it is written; where the pattern uses
something this reading does not follow, the answer is None and the caller runs the regex.
"""

from __future__ import annotations

import re
from typing import Any

try:  # private modules (Python 3.11+): a Python without them only loses the shortcut
    import re._constants as sre  # type: ignore[import-not-found]  # typeshed has no stubs for re's private modules
    import re._parser as sre_parse  # type: ignore[import-not-found]  # (the parser re.compile itself uses)

    #: Zero-width items: they add no character and can always be passed over at the end.
    _ZERO_WIDTH = {sre.AT, sre.ASSERT, sre.ASSERT_NOT}
    _REPEATS = {sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT}
except (ImportError, AttributeError):  # pragma: no cover - depends on the Python
    sre_parse = None


def last_characters(pattern: re.Pattern[str]) -> frozenset[str] | None:
    """Every character a non-empty match of `pattern` can end with; None when the pattern
    can match the empty string or uses anything besides literals, literal sets, groups,
    alternations, repeats, anchors and lookarounds (then any character may end a match)."""
    if sre_parse is None or pattern.flags & re.IGNORECASE:
        return None
    found = _sequence_ends(list(sre_parse.parse(pattern.pattern, pattern.flags)))
    if found is None:
        return None
    characters, nullable = found
    return None if nullable else frozenset(characters)


def _sequence_ends(items: list[tuple[Any, Any]]) -> tuple[set[str], bool] | None:
    """(the characters the sequence's last character can be, whether it can match empty)."""
    characters: set[str] = set()
    for op, av in reversed(items):
        found = _item_ends(op, av)
        if found is None:
            return None
        more, nullable = found
        characters |= more
        if not nullable:
            return characters, False
    return characters, True


def _item_ends(op: Any, av: Any) -> tuple[set[str], bool] | None:
    if op is sre.LITERAL:
        return {chr(av)}, False
    if op is sre.IN:
        if not all(kind is sre.LITERAL for kind, _ in av):
            return None  # ranges, categories, negation: not a short list
        return {chr(code) for _, code in av}, False
    if op in _ZERO_WIDTH:
        return set(), True
    if op is sre.SUBPATTERN:
        return _sequence_ends(list(av[-1]))
    if op is sre.BRANCH:
        characters: set[str] = set()
        nullable = False
        for alternative in av[1]:
            found = _sequence_ends(list(alternative))
            if found is None:
                return None
            characters |= found[0]
            nullable = nullable or found[1]
        return characters, nullable
    if op in _REPEATS:
        low, _high, body = av
        found = _sequence_ends(list(body))
        if found is None:
            return None
        return found[0], found[1] or low == 0
    return None
