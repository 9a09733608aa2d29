"""OCR of scanned pages: offline models, limits and early stop, worker processes, options."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from fixtures_load import NOTO_CJK_SC_INDEX, find_cjk_font, write_image_pdf
from PIL import Image, ImageDraw, ImageFont
from rapidfuzz import fuzz
from typer.testing import CliRunner

from extractor.cli.app import app, register_commands
from extractor.core.errors import LoadError
from extractor.core.normalise import matching_key
from extractor.load import load_document
from extractor.load.ocr import OcrBox, ocr_engine, recognise_image, recognise_lines
from extractor.load.ocr_run import BLANK_STOP_PAGES, OcrSettings, ocr_session
from extractor.load.pdf import _render_for_ocr

CJK_FONT = find_cjk_font()
pytestmark = pytest.mark.skipif(
    CJK_FONT is None, reason="no CJK font to render scanned pages (apt-get install fonts-noto-cjk)"
)
LINES = ("第一页：全面推进依法行政工作", "第二页：行政复议案件办理情况", "第三页：下一步工作计划安排")


def text_image(*lines: str, width: int = 1240, height: int = 1754, font_px: int = 40) -> Image.Image:
    """A white 150-dpi A4 page with `lines` typeset near the top."""
    assert CJK_FONT is not None
    page = Image.new("L", (width, height), 255)
    font = ImageFont.truetype(str(CJK_FONT), font_px, index=NOTO_CJK_SC_INDEX)
    for row, line in enumerate(lines):
        ImageDraw.Draw(page).text((100, 120 + row * 2 * font_px), line, font=font, fill=0)
    return page


def blank_scan(path: Path, pages: int) -> Path:
    return write_image_pdf(path, [Image.new("L", (1240, 1754), 255) for _ in range(pages)])


class PageRecorder:
    def __init__(self) -> None:
        self.pages: list[tuple[str, int, int]] = []
        self.finished: list[str] = []

    def page_done(self, source: str, done: int, total: int) -> None:
        self.pages.append((Path(source).name, done, total))

    def file_done(self, source: str) -> None:
        self.finished.append(Path(source).name)


def similarity(a: str, b: str) -> float:
    return fuzz.ratio(matching_key(a), matching_key(b))


def test_ocr_runs_offline_from_the_wheels_own_model_files(tmp_path: Path) -> None:
    image_path = tmp_path / "line.png"
    text_image(LINES[1], height=300).save(image_path)
    # A fresh process, so the engine is built here, with every way out to the network closed.
    script = textwrap.dedent(
        f"""
        import json, socket
        attempts = []
        def refuse(*args, **kwargs):
            attempts.append(repr(args[:2]))
            raise OSError("network unreachable (test)")
        socket.socket.connect = refuse
        socket.create_connection = refuse
        socket.getaddrinfo = refuse
        from rapidocr.utils import download_file
        download_file.DownloadFile.run = classmethod(refuse)
        from PIL import Image
        from extractor.load.ocr import recognise_image
        text = recognise_image(Image.open({str(image_path)!r}))
        print(json.dumps({{"text": text, "attempts": attempts}}, ensure_ascii=False))
        """
    )
    env = os.environ | {
        "HF_HUB_OFFLINE": "1",
        "MODELSCOPE_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HTTP_PROXY": "http://127.0.0.1:9",
        "HTTPS_PROXY": "http://127.0.0.1:9",
    }
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["attempts"] == []
    assert similarity(result["text"], LINES[1]) >= 90


def test_blank_scan_stops_early_with_no_text(tmp_path: Path) -> None:
    path = blank_scan(tmp_path / "blank.pdf", BLANK_STOP_PAGES + 15)
    recorder = PageRecorder()
    with ocr_session(OcrSettings(), progress=recorder), pytest.raises(LoadError) as raised:
        load_document(path)
    message = str(raised.value)
    assert "no text layer and OCR found no text" in message
    assert f"first {BLANK_STOP_PAGES} scanned pages" in message and "15 more" in message
    assert len(recorder.pages) == BLANK_STOP_PAGES
    assert recorder.finished == ["blank.pdf"]


def test_scan_over_the_page_limit_is_refused_before_any_ocr(tmp_path: Path) -> None:
    path = blank_scan(tmp_path / "long.pdf", 3)
    recorder = PageRecorder()
    with ocr_session(OcrSettings(max_pages=2), progress=recorder), pytest.raises(LoadError) as raised:
        load_document(path)
    assert "3 scanned pages to OCR, more than the limit of 2" in str(raised.value)
    assert "--ocr-max-pages" in str(raised.value) and "EXTRACTOR_OCR_MAX_PAGES" in str(raised.value)
    assert recorder.pages == []


def test_ocr_over_the_time_limit_stops_and_names_the_option(tmp_path: Path) -> None:
    path = write_image_pdf(tmp_path / "slow.pdf", [text_image(line, height=400) for line in LINES])
    recorder = PageRecorder()
    with ocr_session(OcrSettings(time_limit_s=1e-6), progress=recorder), pytest.raises(LoadError) as raised:
        load_document(path)
    assert "over the time limit" in str(raised.value) and "--ocr-time-limit" in str(raised.value)
    assert "1 of 3 scanned pages read" in str(raised.value)
    assert len(recorder.pages) == 1


def test_limits_come_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("EXTRACTOR_OCR_MAX_PAGES", "1")
    with pytest.raises(LoadError, match="more than the limit of 1"):
        load_document(blank_scan(tmp_path / "b.pdf", 2))


def test_workers_read_pages_in_order_without_an_engine_in_the_parent(tmp_path: Path) -> None:
    path = write_image_pdf(tmp_path / "three.pdf", [text_image(line, height=400) for line in LINES])
    ocr_engine.cache_clear()
    recorder = PageRecorder()
    with ocr_session(OcrSettings(workers=2), progress=recorder):
        doc = load_document(path)
    assert ocr_engine.cache_info().currsize == 0  # the pages were read in the worker processes
    lines = doc.text.splitlines()
    assert len(lines) == len(LINES)
    for line, expected in zip(lines, LINES, strict=True):
        assert similarity(line, expected) >= 90, (line, expected)
    assert [done for _name, done, _total in recorder.pages] == [1, 2, 3]
    assert doc.ocr and "pages 1-3 of 3" in doc.warnings[0]


def test_angle_classifier_option_reads_upside_down_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    assert ocr_engine() is ocr_engine(rotated=False) is not ocr_engine(rotated=True)
    upside_down = text_image(LINES[2], height=300).rotate(180)
    assert similarity(recognise_image(upside_down, rotated=True), LINES[2]) >= 90
    assert similarity(recognise_image(upside_down, rotated=False), LINES[2]) < 50
    # Loaders that call recognise_image(image) follow the setting (env or CLI session).
    monkeypatch.setenv("EXTRACTOR_OCR_ROTATED", "1")
    assert similarity(recognise_image(upside_down), LINES[2]) >= 90


@pytest.mark.parametrize("dpi", [100, 150, 300])
def test_scans_are_rendered_at_their_own_resolution(tmp_path: Path, dpi: int) -> None:
    width, height = round(8.27 * dpi), round(11.69 * dpi)  # A4
    path = tmp_path / f"scan-{dpi}.pdf"
    Image.new("L", (width, height), 255).save(path, "PDF", resolution=dpi)
    pdf = pdfium.PdfDocument(str(path))
    try:
        image = _render_for_ocr(pdf[0])
    finally:
        pdf.close()
    expected = (width, height) if dpi <= 150 else (round(2000 * width / height), 2000)
    assert abs(image.width - expected[0]) <= 2 and abs(image.height - expected[1]) <= 2


def test_cli_ocr_options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    register_commands()
    monkeypatch.chdir(tmp_path)
    blank_scan(tmp_path / "blank.pdf", 2)
    runner = CliRunner()
    refused = runner.invoke(app, ["extract", "blank.pdf", "--no-store", "--ocr-max-pages", "1"])
    assert "more than the limit of 1" in refused.output and refused.exit_code == 1
    read = runner.invoke(app, ["extract", "blank.pdf", "--no-store", "--workers", "2"])
    assert "no text layer and OCR found no text" in read.output and read.exit_code == 1


def recognise_or_die(image: Image.Image, *, rotated: bool) -> list[OcrBox]:
    """Stands in for the engine in worker processes: a black page kills its worker."""
    if image.convert("L").getpixel((0, 0)) == 0:
        os._exit(1)
    return recognise_lines(image, rotated=rotated)


def test_a_dead_worker_fails_its_file_and_the_batch_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from extractor.load import ocr_run

    monkeypatch.setattr(ocr_run, "recognise_lines", recognise_or_die)
    killer = write_image_pdf(tmp_path / "killer.pdf", [Image.new("L", (400, 400), 0)])
    fine = write_image_pdf(tmp_path / "fine.pdf", [text_image(LINES[0], height=300)])
    with ocr_session(OcrSettings(workers=2)):
        with pytest.raises(LoadError, match="OCR worker process died"):
            load_document(killer)
        assert similarity(load_document(fine).text, LINES[0]) >= 90
