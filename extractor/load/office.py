"""Word 97-2003 (.doc), WPS Office (.wps), RTF and OpenDocument (.odt) files.

LibreOffice (headless) converts them to .docx, which the .docx loader reads, so automatic
list numbering comes out as it does for Word files (`numbering.py`). The conversion runs on
a private copy in a temporary folder with a throwaway LibreOffice profile (so it neither
touches nor waits on the user's own LibreOffice) and under a time limit; the user's file is
only ever read.

Measured and not used: antiword and catdoc read .doc faster, but both drop automatic list
numbering (一、/（一） vanish) and hard-wrap lines, which costs the segmenter its headings.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from extractor.core.errors import ConfigError, LoadError
from extractor.load.common import Extracted
from extractor.load.docx import load_docx

#: The Debian package that provides `soffice` without a desktop.
CONVERTER_PACKAGE = "libreoffice-writer-nogui"
TIMEOUT_ENV = "EXTRACTOR_CONVERT_TIMEOUT_S"
DEFAULT_TIMEOUT_S = 120.0

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ODT_MIMETYPE = b"mimetypeapplication/vnd.oasis.opendocument.text"


def load_doc(data: bytes, *, source: str) -> Extracted:
    """A Word 97-2003 .doc file, through LibreOffice (see `convert_to_docx`)."""
    return load_docx(convert_to_docx(data, source=source, suffix=".doc"), source=source)


def load_wps(data: bytes, *, source: str) -> Extracted:
    """A WPS Office .wps file (Word-compatible binary), through LibreOffice."""
    return load_docx(convert_to_docx(data, source=source, suffix=".wps"), source=source)


def load_rtf(data: bytes, *, source: str) -> Extracted:
    """An RTF file, through LibreOffice."""
    return load_docx(convert_to_docx(data, source=source, suffix=".rtf"), source=source)


def load_odt(data: bytes, *, source: str) -> Extracted:
    """An OpenDocument text file, through LibreOffice."""
    return load_docx(convert_to_docx(data, source=source, suffix=".odt"), source=source)


def find_soffice() -> str | None:
    """The LibreOffice executable on PATH, or None."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert_to_docx(data: bytes, *, source: str, suffix: str, timeout_s: float | None = None) -> bytes:
    """The .docx LibreOffice makes of a document's bytes.

    Raises LoadError with one line: naming the package to install when LibreOffice is
    missing, the limit when it runs over `timeout_s` (default 120 s, env
    EXTRACTOR_CONVERT_TIMEOUT_S; it is then killed with everything it started), and the
    reason when it cannot convert the file.
    """
    soffice = find_soffice()
    if soffice is None:
        raise LoadError(
            f"reading {suffix} files needs LibreOffice: install it with "
            f"`apt-get install {CONVERTER_PACKAGE}`",
            source=source,
        )
    timeout = _timeout(timeout_s)
    with tempfile.TemporaryDirectory(prefix="extractor-convert-") as tmp:
        folder = Path(tmp)
        kind, import_filter = _kind_by_content(data, suffix)
        document = folder / f"document{kind}"
        document.write_bytes(data)
        out_dir = folder / "out"
        command = [
            soffice,
            f"-env:UserInstallation={(folder / 'profile').as_uri()}",
            "--headless",
            "--invisible",
            "--norestore",
            "--nologo",
            "--nodefault",
            "--nolockcheck",
            *([f"--infilter={import_filter}"] if import_filter else []),
            "--convert-to",
            "docx:MS Word 2007 XML",
            "--outdir",
            str(out_dir),
            str(document),
        ]
        stderr = _run(command, timeout=timeout, source=source)
        converted = out_dir / "document.docx"
        if not converted.is_file():
            reason = (stderr.strip().splitlines() or ["no output"])[-1][:200]
            raise LoadError(
                f"LibreOffice could not convert this {suffix} file (damaged, password-protected "
                f"or not a {suffix} document): {reason}",
                source=source,
            )
        return converted.read_bytes()


def _run(command: list[str], *, timeout: float, source: str) -> str:
    """Run LibreOffice; its stderr. On timeout its whole process group is killed."""
    # A new session: soffice starts soffice.bin as a child, and a timeout must end both.
    process = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        _, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired as e:
        with contextlib.suppress(ProcessLookupError):  # it may have ended just then
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise LoadError(
            f"LibreOffice did not finish converting within {timeout:g} s (raise it with {TIMEOUT_ENV})",
            source=source,
        ) from e
    return stderr.decode("utf-8", "replace")


def _timeout(explicit: float | None) -> float:
    if explicit is not None:
        return explicit
    raw = os.environ.get(TIMEOUT_ENV, "").strip()
    if not raw:
        return DEFAULT_TIMEOUT_S
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if seconds <= 0:
        raise ConfigError(f"must be a positive number of seconds, got {raw!r}", source=TIMEOUT_ENV)
    return seconds


def _kind_by_content(data: bytes, suffix: str) -> tuple[str, str | None]:
    """The suffix that names what the bytes are, and LibreOffice's import filter for it.

    WPS Office writes Word-compatible binaries (and often saves RTF or .docx content under
    .doc); LibreOffice would read a Word binary named .wps as a Microsoft Works file. A
    named filter also makes a damaged file fail instead of being imported as plain text
    (random bytes came out as a "report"). Content recognised as none of these is left to
    LibreOffice's own detection (an HTML page saved as .doc is common).
    """
    if data.startswith(_OLE_MAGIC):
        return ".doc", "MS Word 97"
    if data.lstrip()[:5] == b"{\\rtf":
        return ".rtf", "Rich Text Format"
    if data.startswith(b"PK"):
        if data[30 : 30 + len(_ODT_MIMETYPE)] == _ODT_MIMETYPE:
            return ".odt", "writer8"
        return ".docx", "MS Word 2007 XML"
    return suffix, None
