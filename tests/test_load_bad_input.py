"""Load stage, bad input: every bad file gives a one-line LoadError naming the file and the problem."""

from __future__ import annotations

import os
import random
import zipfile
from pathlib import Path

import pytest
from fixtures_load import (
    load_error,
    seed_paragraphs,
    write_docx,
)
from PIL import Image

from extractor.core.errors import ConfigError
from extractor.load import load_document

# --- bad input --------------------------------------------------------------------------


def test_empty_and_whitespace_files(tmp_path: Path) -> None:
    for name, data in [("empty.txt", b""), ("blank.txt", " \n\t\r\n"), ("blank.html", b"\n\n")]:
        path = tmp_path / name
        path.write_bytes(data if isinstance(data, bytes) else data.encode())
        assert "empty" in str(load_error(path))
    ideographic = tmp_path / "ideographic.txt"
    ideographic.write_text("\u3000\u3000\n", encoding="utf-8")
    assert "empty" in str(load_error(ideographic))


def test_png_renamed_txt_is_binary(tmp_path: Path) -> None:
    path = tmp_path / "scan.txt"
    Image.new("RGB", (20, 20), "white").save(path, "PNG")
    message = str(load_error(path))
    assert "not a text file" in message
    assert "PNG" in message


def test_random_bytes_txt_is_binary(tmp_path: Path) -> None:
    path = tmp_path / "noise.txt"
    path.write_bytes(random.Random(7).randbytes(4096))
    assert "not a text file" in str(load_error(path))


def test_undecodable_text_is_unreadable_encoding(tmp_path: Path) -> None:
    rng = random.Random(3)
    path = tmp_path / "garbled.txt"
    path.write_bytes(bytes(rng.randrange(0x80, 0x100) for _ in range(2000)))
    assert "unreadable encoding" in str(load_error(path))


@pytest.mark.parametrize("name", ["report.xls", "report.pages", "README"])
def test_unsupported_suffix(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text("报告", encoding="utf-8")
    message = str(load_error(path))
    assert "unsupported file type" in message
    assert ".docx" in message


def test_text_file_over_limit(
    tmp_path: Path, seed_texts: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "big.txt"
    path.write_text(seed_texts["lushan-2023"] * 3, encoding="utf-8")
    size_kb = f"{path.stat().st_size / 1024:.1f} KB"
    message = str(load_error(path, max_text_bytes=10_000))
    assert f"file is {size_kb}, over the 9.8 KB limit" in message

    monkeypatch.setenv("EXTRACTOR_MAX_TEXT_MB", "0.01")
    assert "over the 10.2 KB limit" in str(load_error(path))
    monkeypatch.setenv("EXTRACTOR_MAX_TEXT_MB", "1")
    assert load_document(path).text == seed_texts["lushan-2023"] * 3


def test_default_text_limit_is_2_mb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EXTRACTOR_MAX_TEXT_MB", raising=False)
    path = tmp_path / "huge.html"
    path.write_bytes(b"<p>" + b"a" * (2 * 1024 * 1024) + b"</p>")
    message = str(load_error(path))
    assert "file is 2,097,159 bytes, over the 2,097,152 bytes limit for .html files" in message
    assert "EXTRACTOR_MAX_TEXT_MB" in message


def test_container_file_and_extracted_text_limits(tmp_path: Path, seed_texts: dict[str, str]) -> None:
    path = write_docx(tmp_path / "report.docx", seed_paragraphs(seed_texts["mayang-2022h1"]))
    assert "limit for .docx files" in str(load_error(path, max_file_bytes=1000))
    assert "extracted text is" in str(load_error(path, max_text_bytes=1000))


def test_bad_limit_setting_is_a_config_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "a.txt"
    path.write_text("报告", encoding="utf-8")
    monkeypatch.setenv("EXTRACTOR_MAX_TEXT_MB", "two")
    with pytest.raises(ConfigError, match="EXTRACTOR_MAX_TEXT_MB"):
        load_document(path)


def test_corrupt_docx(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.docx"
    garbage.write_bytes(random.Random(1).randbytes(3000))
    not_word = tmp_path / "not-word.docx"
    with zipfile.ZipFile(not_word, "w") as archive:
        archive.writestr("hello.txt", "not a word document")
    for path in (garbage, not_word):
        assert "cannot open as a Word .docx file" in str(load_error(path))


def test_truncated_docx(tmp_path: Path, seed_texts: dict[str, str]) -> None:
    path = write_docx(tmp_path / "cut.docx", seed_paragraphs(seed_texts["heping-2024"]))
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    assert "cannot open as a Word .docx file" in str(load_error(path))


def test_corrupt_pdf(tmp_path: Path, seed_texts: dict[str, str]) -> None:
    garbage = tmp_path / "garbage.pdf"
    garbage.write_bytes(b"%PDF-1.7\n" + random.Random(2).randbytes(3000))
    renamed = tmp_path / "renamed.pdf"
    renamed.write_text(seed_texts["hubin-2024"], encoding="utf-8")
    for path in (garbage, renamed):
        assert "not a readable PDF" in str(load_error(path))


def test_missing_file_folder_and_fifo(tmp_path: Path) -> None:
    assert "file not found" in str(load_error(tmp_path / "missing.txt"))
    folder = tmp_path / "reports.txt"
    folder.mkdir()
    assert "is a folder" in str(load_error(folder))
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    assert "not a regular file" in str(load_error(fifo))


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read files regardless of permissions")
def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "locked.txt"
    path.write_text("报告", encoding="utf-8")
    path.chmod(0)
    assert "cannot read file" in str(load_error(path))
