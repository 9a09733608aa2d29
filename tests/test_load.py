"""Load stage: every supported format gives the report's text; every bad file a clear LoadError."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from fixtures_load import (
    find_cjk_font,
    gov_page_html,
    load_error,
    page_paragraphs,
    render_text_pages,
    seed_paragraphs,
    write_docx,
    write_image_pdf,
    write_text_pdf,
)
from PIL import Image, ImageDraw, ImageFont
from rapidfuzz import fuzz

from extractor.core.errors import LoadError
from extractor.core.normalise import matching_key
from extractor.evaluation.documents import read_document
from extractor.load import iter_report_files, load_document
from extractor.load.chrome import is_web_chrome_line as is_chrome_line
from extractor.load.html import find_publish_date
from extractor.load.ocr import OcrBox, boxes_to_text, ocr_engine

CJK_FONT = find_cjk_font()
needs_cjk_font = pytest.mark.skipif(
    CJK_FONT is None, reason="no CJK font to render scanned pages (apt-get install fonts-noto-cjk)"
)
GBK_SEEDS = ["heping-2024", "hubin-2024", "lushan-2023"]  # the others use characters GBK lacks


def squeeze(text: str) -> str:
    return "".join(text.split())


# --- plain text -------------------------------------------------------------------------


@pytest.mark.parametrize("doc_id", ["heping-2024", "lanshan-2024", "mayang-2022h1"])
def test_utf8_seed_loads_verbatim(repo_root: Path, seed_texts: dict[str, str], doc_id: str) -> None:
    doc = load_document(repo_root / "eval" / "docs" / f"{doc_id}.txt")
    assert doc.text == seed_texts[doc_id]
    assert (doc.doc_id, doc.format, doc.encoding, doc.ocr) == (doc_id, "txt", "utf-8", False)


@pytest.mark.parametrize(
    "doc_id", ["heping-2024", "hubin-2024", "lanshan-2024", "lushan-2023", "mayang-2022h1"]
)
def test_gb18030_copy_equals_utf8_original(tmp_path: Path, seed_texts: dict[str, str], doc_id: str) -> None:
    path = tmp_path / f"{doc_id}.txt"
    path.write_bytes(seed_texts[doc_id].encode("gb18030"))
    doc = load_document(path)
    assert doc.text == seed_texts[doc_id]
    assert doc.encoding == "gb18030"
    assert doc.sha256 == load_document(Path("eval/docs") / f"{doc_id}.txt").sha256


@pytest.mark.parametrize("doc_id", GBK_SEEDS)
def test_gbk_copy_equals_utf8_original(tmp_path: Path, seed_texts: dict[str, str], doc_id: str) -> None:
    path = tmp_path / f"{doc_id}.txt"
    path.write_bytes(seed_texts[doc_id].encode("gbk"))
    assert load_document(path).text == seed_texts[doc_id]


@pytest.mark.parametrize("text", ["报告", "法治政府建设年度报告", "一、主要举措和成效\n二、存在的不足"])
def test_short_gbk_text_is_not_mistaken_for_another_encoding(tmp_path: Path, text: str) -> None:
    # Detectors read two GBK characters as Big5 ("报告" -> "惆豢"); strict GB18030 first avoids it.
    path = tmp_path / "short.txt"
    path.write_bytes(text.encode("gbk"))
    assert load_document(path).text == text


def test_utf8_bom_is_dropped_and_recorded(tmp_path: Path, seed_texts: dict[str, str]) -> None:
    path = tmp_path / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbf" + seed_texts["hubin-2024"].encode("utf-8"))
    doc = load_document(path)
    assert doc.text == seed_texts["hubin-2024"]
    assert doc.encoding == "utf-8-sig"


def test_utf16_with_bom_is_read(tmp_path: Path) -> None:
    path = tmp_path / "utf16.txt"
    path.write_bytes("法治政府建设\n年度报告".encode("utf-16"))
    assert load_document(path).text == "法治政府建设\n年度报告"


def test_line_endings_become_newlines(tmp_path: Path, seed_texts: dict[str, str]) -> None:
    original = seed_texts["lushan-2023"]
    crlf = tmp_path / "crlf.txt"
    crlf.write_bytes(original.replace("\n", "\r\n").encode("utf-8"))
    old_mac = tmp_path / "cr.txt"
    old_mac.write_bytes(original.replace("\n", "\r").encode("gb18030"))
    assert load_document(crlf).text == original
    assert load_document(old_mac).text == original


@pytest.mark.parametrize(
    ("encoding", "payload"),
    [
        ("gbk", "法治政府建设\r\n年度报告"),
        ("utf-16", "法治政府建设\n年度报告"),
        ("utf-8", "\ufeff法治政府建设\n年度报告"),
    ],
)
def test_eval_reads_a_report_as_the_extractor_loads_it(tmp_path: Path, encoding: str, payload: str) -> None:
    # Gold checks and scoring must see the very text the extractor was given.
    path = tmp_path / "report.txt"
    path.write_bytes(payload.encode(encoding))
    assert read_document(path) == load_document(path).text == "法治政府建设\n年度报告"


def test_eval_names_the_file_it_cannot_decode(tmp_path: Path) -> None:
    path = tmp_path / "binary.txt"
    path.write_bytes(b"%PDF-1.7\x00\x01")
    with pytest.raises(LoadError, match="looks like a PDF") as caught:
        read_document(path)
    assert caught.value.source == str(path)


def test_doc_id_defaults_to_stem_and_can_be_given(tmp_path: Path) -> None:
    path = tmp_path / "某县 2024 报告.txt"
    path.write_text("报告正文", encoding="utf-8")
    assert load_document(path).doc_id == "某县 2024 报告"
    assert load_document(path, doc_id="county-2024").doc_id == "county-2024"
    assert load_document(path).path == str(path)


# --- docx -------------------------------------------------------------------------------


def test_docx_paragraphs_and_table_rows_in_order(tmp_path: Path, seed_texts: dict[str, str]) -> None:
    paragraphs = seed_paragraphs(seed_texts["lushan-2023"])
    table = [["指标", "数值"], ["行政复议案件", "35件"], ["法律援助案件", "412件"]]
    path = write_docx(tmp_path / "lushan.docx", paragraphs, table)
    doc = load_document(path)
    assert doc.format == "docx"
    lines = doc.text.split("\n")
    assert lines[: len(paragraphs)] == paragraphs
    # A row of figures stays one line, its label beside its figure.
    assert lines[len(paragraphs) :] == [
        "| 指标 | 数值 |",
        "| 行政复议案件 | 35件 |",
        "| 法律援助案件 | 412件 |",
    ]


def test_docx_layout_table_keeps_its_paragraphs_as_lines(tmp_path: Path, seed_texts: dict[str, str]) -> None:
    paragraphs = seed_paragraphs(seed_texts["lushan-2023"])[:6]
    path = write_docx(tmp_path / "layout.docx", ["标题"], [[""]])
    import docx

    document = docx.Document(str(path))
    cell = document.tables[0].rows[0].cells[0]
    cell.paragraphs[0].text = paragraphs[0]
    for paragraph in paragraphs[1:]:
        cell.add_paragraph(paragraph)
    document.save(str(path))
    assert load_document(path).text.split("\n") == ["标题", *paragraphs]


def test_docx_merged_cell_appears_once(tmp_path: Path) -> None:
    path = write_docx(tmp_path / "merged.docx", ["表一"], [["合并标题", ""], ["甲", "乙"]])
    import docx

    document = docx.Document(str(path))
    top = document.tables[0].rows[0].cells
    top[0].merge(top[1])
    document.save(str(path))
    assert load_document(path).text.count("合并标题") == 1


# --- pdf --------------------------------------------------------------------------------


def test_text_pdf_contains_every_seed_sentence(tmp_path: Path, seed_texts: dict[str, str]) -> None:
    paragraphs = seed_paragraphs(seed_texts["heping-2024"])
    path = write_text_pdf(tmp_path / "heping.pdf", paragraphs)
    doc = load_document(path)
    assert (doc.format, doc.ocr, doc.warnings) == ("pdf", False, ())
    assert squeeze(doc.text) == squeeze("".join(paragraphs))
    assert "\r" not in doc.text


@pytest.fixture(scope="module")
def scanned_pdf(
    tmp_path_factory: pytest.TempPathFactory, seed_texts: dict[str, str]
) -> tuple[Path, str, str]:
    if CJK_FONT is None:
        pytest.skip("no CJK font to render scanned pages (apt-get install fonts-noto-cjk)")
    [page] = render_text_pages(seed_texts["hubin-2024"], CJK_FONT, max_pages=1)
    path = write_image_pdf(tmp_path_factory.mktemp("scan") / "hubin-scan.pdf", [page])
    return path, page.info["source_text"], seed_texts["hubin-2024"]


@needs_cjk_font
def test_scanned_pdf_is_read_by_ocr(scanned_pdf: tuple[Path, str, str]) -> None:
    path, source_text, seed_text = scanned_pdf
    doc = load_document(path)
    assert doc.ocr is True
    assert any("OCR" in warning for warning in doc.warnings)
    similarity = fuzz.ratio(matching_key(doc.text), matching_key(source_text))
    assert similarity >= 80, f"OCR text only {similarity:.1f}% similar to the page"
    # One output line per paragraph: wrapped lines joined, each paragraph ended where the
    # page shows it ends (a short last line), as for a text layer.
    expected = page_paragraphs(source_text, seed_text)
    paragraphs = [line for line in doc.text.splitlines() if line.strip()]
    assert len(paragraphs) == len(expected) < len(source_text.splitlines())
    for got, want in zip(paragraphs, expected, strict=True):
        assert fuzz.ratio(matching_key(got), matching_key(want)) >= 90, (got, want)


@needs_cjk_font
def test_only_pages_without_text_layer_are_ocred(tmp_path: Path) -> None:
    assert CJK_FONT is not None
    text_pdf = write_text_pdf(tmp_path / "text.pdf", ["第一页是正常文字层。"])
    scan = Image.new("L", (1240, 300), 255)
    ImageDraw.Draw(scan).text((80, 100), "第二页扫描件", font=ImageFont.truetype(str(CJK_FONT), 64, index=2))
    scan_pdf = write_image_pdf(tmp_path / "scan.pdf", [scan])

    import pypdfium2 as pdfium

    merged = pdfium.PdfDocument(str(text_pdf))
    merged.import_pages(pdfium.PdfDocument(str(scan_pdf)))
    merged.save(str(tmp_path / "mixed.pdf"))
    doc = load_document(tmp_path / "mixed.pdf")
    assert doc.text.startswith("第一页是正常文字层。\n")
    assert "第二页扫描件" in squeeze(doc.text)
    assert doc.ocr is True
    assert "page 2 of 2" in doc.warnings[0]


def test_blank_scan_reports_no_text_and_engine_is_built_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rapidocr

    built: list[object] = []
    real_engine = rapidocr.RapidOCR

    def counting_engine(*args: object, **kwargs: object) -> object:
        built.append(real_engine)
        return real_engine(*args, **kwargs)

    monkeypatch.setattr(rapidocr, "RapidOCR", counting_engine)
    ocr_engine.cache_clear()
    path = write_image_pdf(tmp_path / "blank-scan.pdf", [Image.new("L", (1240, 1754), 255)])
    for _ in range(2):
        assert "no text layer and OCR found no text" in str(load_error(path))
    assert len(built) == 1


def test_pdf_of_empty_pages_reports_no_text(tmp_path: Path) -> None:
    path = write_text_pdf(tmp_path / "empty-pages.pdf", [])
    assert "no text layer and OCR found no text" in str(load_error(path))


def test_password_protected_pdf(tmp_path: Path) -> None:
    path = write_text_pdf(tmp_path / "locked.pdf", ["保密"], encrypt="secret")
    assert "password-protected" in str(load_error(path))


# --- html -------------------------------------------------------------------------------


@pytest.mark.parametrize("charset", ["utf-8", "gbk"])
def test_html_keeps_report_drops_chrome(tmp_path: Path, seed_texts: dict[str, str], charset: str) -> None:
    title = "湖滨区司法局关于2024年法治政府建设情况的报告"
    paragraphs = seed_paragraphs(seed_texts["hubin-2024"])[2:14]
    path = tmp_path / "hubin.html"
    path.write_bytes(gov_page_html(title, paragraphs, charset=charset).encode(charset))
    doc = load_document(path)
    assert doc.format == "html"
    assert doc.publish_date_hint == dt.date(2025, 2, 5)
    lines = doc.text.split("\n")
    assert lines[0] == title
    assert lines[1:] == paragraphs
    for chrome in [
        "首页",
        "索引号",
        "发布时间",
        "浏览次数",
        "【打印】",
        "【关闭】",
        "分享到",
        "版权所有",
        "欢迎您",
    ]:
        assert chrome not in doc.text


def test_htm_suffix_and_undeclared_gbk(tmp_path: Path, seed_texts: dict[str, str]) -> None:
    paragraphs = seed_paragraphs(seed_texts["lushan-2023"])[:6]
    # A <title> carrying the site name is not shown on the page, so it is not report text.
    head = "<head><title>鲁山县司法局2023年报告-鲁山县人民政府门户网站</title></head>"
    page = f"<html>{head}<body>" + "".join(f"<p>{p}</p>" for p in paragraphs) + "</body></html>"
    path = tmp_path / "page.htm"
    path.write_bytes(page.encode("gbk"))
    doc = load_document(path)
    assert doc.text.split("\n") == paragraphs
    assert doc.publish_date_hint is None


def test_html_declared_gb2312_may_use_gbk_characters(tmp_path: Path) -> None:
    # 喆 and 镕 are in GBK but not GB2312; pages labelled gb2312 use them all the same.
    paragraphs = ["王喆同志作法治政府建设专题报告。", "朱镕基同志题词。"]
    page = gov_page_html("某县2024年法治政府建设年度报告", paragraphs, charset="gb2312")
    with pytest.raises(UnicodeEncodeError):
        page.encode("gb2312")
    path = tmp_path / "gb2312.html"
    path.write_bytes(page.encode("gbk"))
    assert load_document(path).text.split("\n")[1:] == paragraphs


def test_publish_date_prefers_publication_label() -> None:
    page = "成文日期：2025-01-20 发布日期：2025年2月5日 日期：2024-12-31"
    assert find_publish_date(page) == dt.date(2025, 2, 5)
    assert find_publish_date("日期: 2024/12/31") == dt.date(2024, 12, 31)
    assert find_publish_date("成文日期：2025-01-20") is None
    assert find_publish_date("发布时间：2025-13-40") is None


@pytest.mark.parametrize(
    ("line", "chrome"),
    [
        ("作者: 来源:本网 发布时间:2025-02-05 浏览次数:34 【字体:", True),
        ("索引号：11441624007167386F/2025-00012", True),
        ("| 索引号：11441624007167386F/2025-00012 | 成文日期：2025-01-20 |", True),
        ("| 行政复议案件 | 35件 |", False),
        ("【打印】 【关闭】", True),
        ("【字体：大 中 小】", True),
        ("打印本页 关闭窗口", True),
        ("分享到：微信", True),
        ("来源于群众的意见建议全部办结。", False),
        ("【典型案例】某镇依法化解土地纠纷", False),
        ("2025年2月5日", False),
    ],
)
def test_chrome_line_detection(line: str, chrome: bool) -> None:
    assert is_chrome_line(line) is chrome


# --- finding files ----------------------------------------------------------------------


def test_iter_report_files(tmp_path: Path) -> None:
    names = [
        "b/2024/report.PDF",
        "b/notes.md",
        "a.txt",
        "b/page.htm",
        "b/~$draft.docx",
        "b/.cache/old.txt",
        ".hidden.txt",
        "c/report.docx",
        "c/scan.png",
        "c/sheet.xlsx",
    ]
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    single = tmp_path / "c" / "report.docx"
    found = iter_report_files([tmp_path / "b", tmp_path / "a.txt", single, str(tmp_path / "c")])
    assert found == [
        tmp_path / "a.txt",
        tmp_path / "b/2024/report.PDF",
        tmp_path / "b/page.htm",
        single,
        tmp_path / "c" / "scan.png",
    ]
    assert iter_report_files([tmp_path / "c" / "sheet.xlsx"]) == []
    with pytest.raises(LoadError, match="no such file or folder"):
        iter_report_files([tmp_path / "nope"])


# --- OCR line ordering ------------------------------------------------------------------


def test_ocr_boxes_are_ordered_into_lines() -> None:
    boxes = [
        OcrBox(460, 102, 760, 140, "来源：本网"),
        OcrBox(100, 200, 900, 238, "第二行正文"),
        OcrBox(100, 100, 260, 138, "作者："),
        OcrBox(262, 101, 390, 139, "张三"),
        OcrBox(100, 300, 500, 338, " "),
    ]
    assert boxes_to_text(boxes) == "作者：张三 来源：本网\n第二行正文"
    assert boxes_to_text([]) == ""
