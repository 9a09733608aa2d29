"""Record JSON files (pipeline/output.py): the output folder is made when missing, once,
and a file standing where the folder should be fails the write as it always did."""

from __future__ import annotations

from pathlib import Path

import pytest

from extractor.core.schema import Record
from extractor.pipeline.output import write_record_json


def test_a_missing_output_folder_is_made_with_its_parents(tmp_path: Path) -> None:
    out = tmp_path / "a" / "b"
    written = write_record_json(Record(doc_id="r1"), out)
    assert written == out / "r1.json"
    assert written.read_text(encoding="utf-8") == Record(doc_id="r1").to_json() + "\n"
    write_record_json(Record(doc_id="r2"), out)  # the folder is there now
    assert sorted(p.name for p in out.iterdir()) == ["r1.json", "r2.json"]


def test_a_folder_removed_during_a_batch_is_made_again(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_record_json(Record(doc_id="r1"), out)
    (out / "r1.json").unlink()
    out.rmdir()
    write_record_json(Record(doc_id="r2"), out)
    assert [p.name for p in out.iterdir()] == ["r2.json"]


def test_a_file_where_the_folder_should_be_fails_the_write(tmp_path: Path) -> None:
    blocker = tmp_path / "out"
    blocker.write_text("not a folder", encoding="utf-8")
    with pytest.raises(FileExistsError):
        write_record_json(Record(doc_id="r"), blocker)
    with pytest.raises(NotADirectoryError):
        write_record_json(Record(doc_id="r"), blocker / "sub")
    assert blocker.read_text(encoding="utf-8") == "not a folder"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
