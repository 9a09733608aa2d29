"""The formats offices send besides .txt/.docx/.pdf/.html: .doc/.wps/.rtf/.odt (LibreOffice),
.ofd, page images (OCR) and .zip archives of reports. Every fixture is made here from the
seed reports (tests/fixtures_formats.py); each format must score like its .txt twin."""

from __future__ import annotations

import hashlib
import os
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fixtures_formats import (
    DOCS,
    SEED_IDS,
    macro_f1,
    office_twins,
    same_characters,
    seed_text,
    soffice,
    top_of_page,
    write_gbk_zip,
    write_image_ofd,
    write_text_ofd,
    write_tiff,
)
from fixtures_load import (
    find_cjk_font,
    load_error,
    page_paragraphs,
    render_text_pages,
    seed_paragraphs,
    write_docx,
)
from rapidfuzz import fuzz

from extractor.core.errors import LoadError
from extractor.core.normalise import matching_key
from extractor.load import iter_report_files, load_document
from extractor.load.archive import ArchiveLimits, list_archive_reports, read_archive_member
from extractor.load.office import CONVERTER_PACKAGE
from extractor.pipeline.batch import extract_paths

CJK_FONT = find_cjk_font()
needs_cjk_font = pytest.mark.skipif(
    CJK_FONT is None, reason="no CJK font to render page images (apt-get install fonts-noto-cjk)"
)
#: The bar: a format may cost at most this much macro F1 against the same report as .txt.
F1_SLACK = 0.01


def text_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


# --- zip archives -----------------------------------------------------------------------


@pytest.fixture
def county_zip(tmp_path: Path) -> Path:
    """A county's archive as Chinese Windows zips it: GBK names, folders, a nested archive,
    and files that are not reports."""
    build = tmp_path / "build"
    build.mkdir()
    inner = write_gbk_zip(
        build / "inner.zip", {"兰山区/兰山区2024年报告.txt": seed_text("lanshan-2024").encode("utf-8")}
    )
    docx_path = write_docx(build / "hubin.docx", seed_paragraphs(seed_text("hubin-2024")))
    (tmp_path / "incoming").mkdir()
    return write_gbk_zip(
        tmp_path / "incoming" / "县区报告.zip",
        {
            "和平县/和平县2024年法治政府建设年度报告.txt": seed_text("heping-2024").encode("gbk"),
            "湖滨区/二〇二四/湖滨区报告.docx": docx_path.read_bytes(),
            "汇总表.xlsx": b"not a report",
            "__MACOSX/和平县/._和平县2024年法治政府建设年度报告.txt": b"resource fork",
            "下级单位.zip": inner.read_bytes(),
        },
    )


def test_zip_members_are_listed_by_their_gbk_names_through_folders_and_nested_archives(
    county_zip: Path,
) -> None:
    assert iter_report_files([county_zip.parent]) == [
        county_zip / "下级单位.zip" / "兰山区" / "兰山区2024年报告.txt",
        county_zip / "和平县" / "和平县2024年法治政府建设年度报告.txt",
        county_zip / "湖滨区" / "二〇二四" / "湖滨区报告.docx",
    ]


def test_each_zip_member_loads_as_its_own_report(county_zip: Path) -> None:
    gbk_txt = load_document(county_zip / "和平县" / "和平县2024年法治政府建设年度报告.txt")
    assert gbk_txt.text == seed_text("heping-2024")
    assert gbk_txt.encoding is not None and gbk_txt.encoding.lower() in {"gbk", "gb18030", "gb2312"}
    assert gbk_txt.path == str(county_zip / "和平县" / "和平县2024年法治政府建设年度报告.txt")
    assert gbk_txt.doc_id == "和平县2024年法治政府建设年度报告"
    word = load_document(county_zip / "湖滨区" / "二〇二四" / "湖滨区报告.docx")
    assert word.format == "docx"
    assert text_lines(word.text) == seed_paragraphs(seed_text("hubin-2024"))
    nested = load_document(county_zip / "下级单位.zip" / "兰山区" / "兰山区2024年报告.txt")
    assert nested.text == seed_text("lanshan-2024")


def test_a_batch_extracts_every_report_in_an_archive(county_zip: Path, tmp_path: Path) -> None:
    result = extract_paths([county_zip], out_dir=tmp_path / "out")
    assert [o.path.name for o in result.outcomes] == [
        "兰山区2024年报告.txt",
        "和平县2024年法治政府建设年度报告.txt",
        "湖滨区报告.docx",
    ]
    assert not result.failed
    issuers = {o.record.meta.issuer for o in result.outcomes if o.record is not None}
    assert len(issuers) == 3
    assert (tmp_path / "out" / "湖滨区报告.json").is_file()


def test_a_bare_archive_says_its_reports_load_one_by_one(county_zip: Path) -> None:
    assert "an archive of 3 reports" in str(load_error(county_zip))


def test_utf8_flagged_names_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "a.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("报告/麻阳.txt", seed_text("mayang-2022h1"))  # zipfile sets the UTF-8 flag
    assert iter_report_files([path]) == [path / "报告" / "麻阳.txt"]


def test_too_many_members_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "many.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for i in range(1000):
            archive.writestr(f"r{i:04}.txt", "报告")
    assert iter_report_files([path]) == [path]  # kept as itself, so loading it says why
    assert "archive refused: more than 500 files inside" in str(load_error(path))


def test_a_member_compressed_like_a_bomb_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bomb.zip"
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("zeros.txt", "w") as member,
    ):
        for _ in range(16):
            member.write(bytes(1024 * 1024))
    message = str(load_error(path))
    assert "archive refused: zeros.txt is compressed" in message
    assert "zip bomb" in message
    with pytest.raises(LoadError, match="compressed"):
        load_document(path / "zeros.txt")  # a member path does not get round the check


def test_declared_total_and_nesting_depth_are_limited(tmp_path: Path) -> None:
    text = seed_text("lushan-2023").encode("utf-8")
    path = write_gbk_zip(tmp_path / "two.zip", {"a.txt": text, "b.txt": text})
    with pytest.raises(LoadError, match="would unpack to more than"):
        list_archive_reports(path, suffixes={".txt"}, limits=ArchiveLimits(max_total_bytes=len(text) + 1))
    nested = tmp_path / "level1.zip"
    write_gbk_zip(nested, {"report.txt": text})
    for level in range(2, 5):
        nested = write_gbk_zip(tmp_path / f"level{level}.zip", {nested.name: nested.read_bytes()})
    with pytest.raises(LoadError, match="nested more than 3 deep"):
        list_archive_reports(nested, suffixes={".txt"})
    assert list_archive_reports(tmp_path / "level3.zip", suffixes={".txt"}) == [
        tmp_path / "level3.zip" / "level2.zip" / "level1.zip" / "report.txt"
    ]


def test_a_member_is_read_with_a_byte_cap(tmp_path: Path) -> None:
    path = write_gbk_zip(tmp_path / "a.zip", {"r.txt": seed_text("heping-2024").encode("utf-8")})
    with pytest.raises(LoadError, match="would unpack to"):
        read_archive_member(path / "r.txt", max_bytes=1000)
    # A member whose header understates its size: the stream stops at the declared size
    # and the checksum fails; nothing past the declaration is ever inflated.
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.infolist()[0]
    real = info.file_size
    for offset in (data.find(b"PK\x03\x04") + 22, data.find(b"PK\x01\x02") + 24):
        data[offset : offset + 4] = (100).to_bytes(4, "little")
    lying = tmp_path / "lying.zip"
    lying.write_bytes(bytes(data))
    assert real > 100
    with pytest.raises(LoadError, match="damaged archive member"):
        read_archive_member(lying / "r.txt", max_bytes=10_000_000)


def test_a_corrupt_archive_is_named_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.zip"
    path.write_bytes(b"PK\x03\x04 this is not a zip")
    assert iter_report_files([path]) == [path]
    assert "not a readable .zip archive" in str(load_error(path))


# --- .doc / .wps / .rtf / .odt ------------------------------------------------------------


def test_without_libreoffice_a_doc_names_the_package_and_the_batch_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "old.doc").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512))
    (tmp_path / "in" / "report.txt").write_text(seed_text("hubin-2024"), encoding="utf-8")
    result = extract_paths([tmp_path / "in"])
    failed, done = result.outcomes
    assert failed.error is not None and "\n" not in failed.error
    assert f"apt-get install {CONVERTER_PACKAGE}" in failed.error
    assert str(tmp_path / "in" / "old.doc") in failed.error
    assert done.record is not None


def require_libreoffice() -> None:
    """Skip without LibreOffice; under CI ($CI set, .ci/run installs it) that is a failure."""
    if soffice() is not None:
        return
    reason = f"LibreOffice is not installed (apt-get install {CONVERTER_PACKAGE})"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI is set, so the LibreOffice tests must run", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def office_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Path]]:
    require_libreoffice()
    return office_twins(SEED_IDS, tmp_path_factory.mktemp("office"), ["doc", "odt", "rtf", "wps"])


@pytest.fixture(scope="module")
def office_scores(office_files: dict[str, dict[str, Path]]) -> dict[tuple[str, str], float]:
    """Macro F1 of every office twin; loaded two at a time (each conversion its own
    LibreOffice with a private profile, so they must not get in each other's way)."""
    cases = [(fmt, doc_id) for fmt, files in office_files.items() for doc_id in files]
    with ThreadPoolExecutor(max_workers=2) as pool:
        scores = pool.map(lambda case: macro_f1(office_files[case[0]][case[1]], case[1]), cases)
        return dict(zip(cases, scores, strict=True))


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["doc", "odt", "rtf", "wps"])
def test_office_formats_score_like_their_text_twin(
    fmt: str, office_scores: dict[tuple[str, str], float]
) -> None:
    for doc_id in SEED_IDS:
        plain = macro_f1(DOCS / f"{doc_id}.txt", doc_id)
        assert office_scores[(fmt, doc_id)] >= plain - F1_SLACK, (fmt, doc_id)


@pytest.mark.parametrize("fmt", ["doc", "odt", "wps"])
def test_automatic_numbering_survives_conversion(fmt: str, office_files: dict[str, dict[str, Path]]) -> None:
    source = office_files[fmt]["heping-2024"]
    assert b"\xe4\xb8\x80\xe3\x80\x81" not in source.read_bytes()  # no literal 「一、」 in the file
    numbered_docx = source.parent.parent / "numbered" / "heping-2024.docx"
    loaded = load_document(source)
    assert loaded.format == fmt
    assert loaded.text == load_document(numbered_docx).text
    assert any(line.startswith("一、") for line in loaded.text.splitlines())


def test_conversion_never_touches_the_users_file(office_files: dict[str, dict[str, Path]]) -> None:
    source = office_files["rtf"]["hubin-2024"]
    before = (hashlib.sha256(source.read_bytes()).hexdigest(), source.stat().st_mtime_ns)
    siblings = sorted(source.parent.iterdir())
    doc = load_document(source)
    assert same_characters(doc.text, seed_text("hubin-2024"))
    assert (hashlib.sha256(source.read_bytes()).hexdigest(), source.stat().st_mtime_ns) == before
    assert sorted(source.parent.iterdir()) == siblings  # no lock file or output left beside it


def test_conversion_over_the_time_limit_is_stopped(
    office_files: dict[str, dict[str, Path]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EXTRACTOR_CONVERT_TIMEOUT_S", "0.05")
    message = str(load_error(office_files["doc"]["hubin-2024"]))
    assert "did not finish converting within 0.05 s" in message


def test_a_damaged_doc_is_named_in_one_line(tmp_path: Path) -> None:
    require_libreoffice()
    path = tmp_path / "damaged.doc"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + os.urandom(4096))
    message = str(load_error(path))
    assert "could not" in message or "no text" in message


# --- OFD --------------------------------------------------------------------------------


@pytest.mark.parametrize("doc_id", SEED_IDS)
def test_ofd_scores_like_its_text_twin(doc_id: str, tmp_path: Path) -> None:
    path = write_text_ofd(tmp_path / f"{doc_id}.ofd", seed_text(doc_id))
    assert macro_f1(path, doc_id) >= macro_f1(DOCS / f"{doc_id}.txt", doc_id) - F1_SLACK


def test_ofd_paragraphs_are_rebuilt_from_the_page_geometry(tmp_path: Path) -> None:
    """Wrapped lines joined (across page breaks too), indented lines start paragraphs, page
    numbers left out: the same paragraphs as the .txt."""
    path = write_text_ofd(tmp_path / "lushan.ofd", seed_text("lushan-2023"))
    doc = load_document(path)
    assert doc.format == "ofd" and not doc.ocr
    assert text_lines(doc.text) == seed_paragraphs(seed_text("lushan-2023"))
    with zipfile.ZipFile(path) as package:
        assert sum(n.endswith("Content.xml") for n in package.namelist()) > 3  # several pages


@needs_cjk_font
def test_an_ofd_of_scanned_pages_goes_to_ocr(tmp_path: Path) -> None:
    assert CJK_FONT is not None
    pages = [top_of_page(render_text_pages(seed_text("hubin-2024"), CJK_FONT, max_pages=1)[0])]
    doc = load_document(write_image_ofd(tmp_path / "scan.ofd", pages))
    assert doc.ocr
    assert "OCR" in doc.warnings[0]
    assert fuzz.ratio(matching_key(doc.text), matching_key(pages[0].info["source_text"])) > 90
    # Its paragraphs rebuilt from where the OCR lines sit on the page, as for a scanned PDF.
    expected = page_paragraphs(pages[0].info["source_text"], seed_text("hubin-2024"))
    assert len(text_lines(doc.text)) == len(expected) < len(pages[0].info["source_text"].splitlines())


def test_a_file_that_is_not_ofd_is_named_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "fake.ofd"
    with zipfile.ZipFile(path, "w") as package:
        package.writestr("readme.txt", "hello")
    assert "not a readable OFD file" in str(load_error(path))


# --- page images ------------------------------------------------------------------------


@needs_cjk_font
def test_a_multi_page_tiff_is_read_page_by_page_in_order(tmp_path: Path) -> None:
    assert CJK_FONT is not None
    pages = [
        top_of_page(page, lines=5)
        for page in render_text_pages(seed_text("heping-2024"), CJK_FONT, max_pages=2)
    ]
    doc = load_document(write_tiff(tmp_path / "scan.tif", pages))
    assert doc.format == "image" and doc.ocr
    expected = "\n".join(page.info["source_text"] for page in pages)
    assert fuzz.ratio(matching_key(doc.text), matching_key(expected)) > 90
    first_page_end = matching_key(pages[0].info["source_text"].splitlines()[-1])
    second_page_start = matching_key(pages[1].info["source_text"].splitlines()[0])
    key = matching_key(doc.text)
    assert 0 <= key.find(first_page_end[:8]) < key.find(second_page_start[:8])


@needs_cjk_font
@pytest.mark.parametrize("suffix", [".jpg"])  # PNG pages: the scanned OFD test
def test_a_page_photo_is_read_by_ocr(tmp_path: Path, suffix: str) -> None:
    assert CJK_FONT is not None
    page = top_of_page(render_text_pages(seed_text("mayang-2022h1"), CJK_FONT, max_pages=1)[0])
    path = tmp_path / f"page{suffix}"
    page.save(path)
    doc = load_document(path)
    assert fuzz.ratio(matching_key(doc.text), matching_key(page.info["source_text"])) > 90
    # Read as paragraphs: wrapped lines joined, each ending where the page shows it ends.
    expected = page_paragraphs(page.info["source_text"], seed_text("mayang-2022h1"))
    assert len(text_lines(doc.text)) == len(expected) < len(page.info["source_text"].splitlines())


def test_a_file_that_is_not_an_image_is_named_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "scan.jpg"
    path.write_bytes(b"\xff\xd8\xff not really a jpeg")
    message = str(load_error(path))
    assert "image" in message
