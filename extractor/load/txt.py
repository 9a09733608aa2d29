"""Plain-text files: decode bytes to text (UTF-8, GBK/GB18030, or a detected encoding)."""

from __future__ import annotations

import codecs
import unicodedata
from collections import Counter

from extractor.core.errors import LoadError
from extractor.load.common import Extracted, normalise_newlines

# Byte-order marks name their encoding outright. UTF-32 LE starts with the UTF-16 LE
# mark, so the longer marks are tried first.
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

# Leading bytes of formats people rename by mistake: named so the message can say what
# the file really is. Anything else with NUL bytes is simply "binary".
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "a PDF document (rename it to .pdf)"),
    (b"PK\x03\x04", "a ZIP archive or .docx (rename it to .docx if it is a Word file)"),
    (b"\xd0\xcf\x11\xe0", "an old Word/Excel file (.doc/.xls): save it as .docx"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
)

# Characters that ordinary text does not contain but a wrong decoding produces:
# controls, unassigned code points, private use, surrogates.
_IMPLAUSIBLE_CATEGORIES = frozenset({"Cc", "Cn", "Co", "Cs"})
_ALLOWED_CONTROLS = frozenset("\t\n\r\x0c")
#: Implausible characters the fast path would not see: str.split drops the controls as
#: whitespace, and U+FFFD is printable.
_SPLIT_HIDES = "\x1c\x1d\x1e\x1f\x85\ufffd"
_MAX_IMPLAUSIBLE_SHARE = 0.01


def load_txt(data: bytes, *, source: str) -> Extracted:
    """Decode a plain-text report.

    Guarantees: the text is exactly the file's characters with line endings turned into \\n
    (no BOM); `encoding` names the codec that decoded it; raises LoadError for empty,
    binary or undecodable files.
    """
    text, encoding = decode_text(data, source=source)
    if not text.strip():
        raise LoadError("file is empty (only whitespace)", source=source)
    return Extracted(text=normalise_newlines(text), encoding=encoding)


def decode_text(data: bytes, *, source: str, declared: str | None = None) -> tuple[str, str]:
    """Decode bytes that should be text; return (text, encoding name).

    Order: a byte-order mark; strict UTF-8; the `declared` charset (HTML meta); strict
    GB18030 (a superset of GBK and GB2312); charset-normalizer's best guess. Short Chinese
    texts fool detectors (two GBK characters read as Big5), which is why the usual Chinese
    encodings are tried strictly before detection. Each candidate must also look like text
    (few control, unassigned or replacement characters). Raises LoadError when the bytes are
    binary or no encoding gives plausible text.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError as e:
                raise LoadError(
                    f"unreadable encoding: starts with a {encoding} mark but is not {encoding}", source=source
                ) from e
            # A mark does not make a file text: NUL characters are binary data (and no
            # database text column, PostgreSQL's included, can hold them).
            if "\x00" in text or not looks_like_text(text):
                raise LoadError(
                    f"not a text file: {encoding} mark, but it contains binary data", source=source
                )
            return text, encoding
    if b"\x00" in data:
        raise LoadError(_binary_reason(data), source=source)

    candidates = ["utf-8", _strict_chinese_superset(declared) if declared else None, "gb18030"]
    for encoding in dict.fromkeys(c for c in candidates if c):
        try:
            text = data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
        if looks_like_text(text):
            return text, encoding

    # Detection is the last resort (most reports are UTF-8 or GB18030): its library is
    # imported only when a file gets this far.
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is not None and looks_like_text(str(best)):
        return str(best), best.encoding
    if _control_byte_share(data) > _MAX_IMPLAUSIBLE_SHARE:
        raise LoadError(_binary_reason(data), source=source)
    raise LoadError(
        "unreadable encoding: not UTF-8, GBK/GB18030 or any encoding that could be detected; "
        "save it as UTF-8",
        source=source,
    )


def looks_like_text(text: str) -> bool:
    """True when at most 1% of the characters are controls, unassigned, private-use or U+FFFD."""
    if not text:
        return True
    # Fast path, in C: with whitespace removed, a text of printable characters has nothing
    # implausible (isprintable is False for Cc, Cf, Cs, Co, Cn and separators). U+FFFD is
    # printable and str.split also drops the controls \x1c-\x1f and \x85, so those are
    # looked for apart. Nearly every correctly decoded report ends here.
    if not any(ch in text for ch in _SPLIT_HIDES) and "".join(text.split()).isprintable():
        return True
    # Otherwise judge each distinct character once (a report has a few thousand).
    implausible = sum(
        count
        for ch, count in Counter(text).items()
        if ch == "\ufffd"
        or (ch not in _ALLOWED_CONTROLS and unicodedata.category(ch) in _IMPLAUSIBLE_CATEGORIES)
    )
    return implausible <= len(text) * _MAX_IMPLAUSIBLE_SHARE


def _strict_chinese_superset(encoding: str) -> str:
    """Pages labelled GB2312 or GBK routinely use characters only GBK/GB18030 define."""
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        return encoding
    return "gb18030" if name in {"gb2312", "gbk"} else name


def _control_byte_share(data: bytes) -> float:
    controls = sum(1 for b in data if b < 0x20 and b not in b"\t\n\r\x0c")
    return controls / len(data) if data else 0.0


def _binary_reason(data: bytes) -> str:
    for magic, what in _MAGIC:
        if data.startswith(magic):
            return f"not a text file: it looks like {what}"
    return "not a text file: it contains binary data"
