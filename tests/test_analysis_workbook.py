"""The analysis workbook's cells, and the collector pause the analysis runs under."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
import xlsxwriter
from openpyxl import load_workbook

from extractor.analysis.workbook import _write_rows
from extractor.core.collector import collector_paused


def test_cells_keep_their_type_and_text_loses_control_characters(tmp_path: Path) -> None:
    out = tmp_path / "cells.xlsx"
    book = xlsxwriter.Workbook(str(out), {"strings_to_numbers": False, "strings_to_formulas": False})
    sheet = book.add_worksheet("指标")
    _write_rows(sheet, [["出庭率\x0798%", "", None, 98, 97.5, True, "=1+1", "12"]], first=1)
    book.close()
    row = [cell.value for cell in load_workbook(out)["指标"][2]]
    # Text stays text (a formula-like or number-like string too), "" and None are empty.
    assert row == ["出庭率98%", None, None, 98, 97.5, True, "=1+1", "12"]


@pytest.mark.parametrize("enabled", [True, False])
def test_the_collector_is_left_as_it_was(enabled: bool) -> None:
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert gc.isenabled() is enabled
        with pytest.raises(RuntimeError), collector_paused():
            raise RuntimeError("an analysis that fails")
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()
