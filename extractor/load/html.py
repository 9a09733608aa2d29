"""Web pages (.html/.htm): the report's main text, without site menus and page chrome."""

from __future__ import annotations

import datetime as dt
import re

import lxml.etree
import lxml.html
import trafilatura
from charset_normalizer.utils import any_specified_encoding

from extractor.core.errors import LoadError
from extractor.load.chrome import is_web_chrome_line
from extractor.load.common import Extracted, tidy_extracted_text
from extractor.load.txt import decode_text

_DATE = r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})"
# The page's own publication date. A bare "日期" label counts only when it is not the tail
# of another label such as 成文日期 (the document's signing date, not its publication).
_DATE_LABELS = (
    re.compile(rf"(?:发布时间|发布日期)\s*[:：]?\s*{_DATE}"),
    re.compile(rf"(?<![\u4e00-\u9fff])日期\s*[:：]\s*{_DATE}"),
)


def load_html(data: bytes, *, source: str) -> Extracted:
    """Read a saved web page holding a report.

    Guarantees: the text is the page's main content (trafilatura, recall-oriented, one
    paragraph per line), with the article title shown on the page as the first line, and
    without lines of page chrome (作者/来源/发布时间/浏览次数/索引号/【打印】...).
    `publish_date_hint` is the labelled 发布时间/发布日期/日期 found anywhere on the raw page.
    Raises LoadError when the page cannot be decoded or has no main text.
    """
    html, encoding = decode_text(data, source=source, declared=any_specified_encoding(data))
    visible_text = trafilatura.html2txt(html)
    publish_date = find_publish_date(visible_text)

    warnings: tuple[str, ...] = ()
    main = trafilatura.extract(
        unwrap_layout_tables(html),
        favor_recall=True,
        include_comments=False,
        include_tables=True,
        include_formatting=False,
        deduplicate=False,
    )
    if not main:
        # trafilatura gives up on pages its scoring finds too thin; its baseline still
        # collects the paragraph text, which beats refusing a small but real page.
        main = trafilatura.baseline(html)[1]
        warnings = ("main text found by fallback extraction: check for leftover site menus",)
    lines = [line for line in main.splitlines() if not is_web_chrome_line(line)]
    # trafilatura keeps the headline out of the body, but the report title names the issuer
    # and year. Only a title shown on the page counts: the <title> tag alone often carries
    # the site name or just "首页".
    title = (trafilatura.extract_metadata(html).title or "").strip()
    if title and title in visible_text and title not in {line.strip() for line in lines[:3]}:
        lines.insert(0, title)

    text = tidy_extracted_text("\n".join(lines))
    if not text.strip():
        raise LoadError("no main text found in the web page", source=source)
    return Extracted(text=text, encoding=encoding, publish_date_hint=publish_date, warnings=warnings)


#: A table cell holding more text than this is page layout (a CMS body in a <td>), not data.
LAYOUT_CELL_CHARS = 400


def unwrap_layout_tables(html: str) -> str:
    """`html` with layout tables turned into plain blocks and <br> into line breaks.

    County CMS pages often put the whole report in one <td>, its paragraphs separated by
    <br>: read as a table, the body would become one long row. A table with a cell longer
    than LAYOUT_CELL_CHARS is layout, so its rows and cells become <div>s; data tables (short
    cells) are left for trafilatura's table handling. Unparseable input is returned as is.
    """
    try:
        root = lxml.html.fromstring(html)
    except (lxml.etree.ParserError, ValueError):
        return html
    changed = False
    for table in list(root.iter("table")):
        if any(len(cell.text_content()) > LAYOUT_CELL_CHARS for cell in table.iter("td", "th")):
            for element in table.iter("table", "tbody", "thead", "tfoot", "tr", "td", "th"):
                element.tag = "div"
            changed = True
    for br in root.iter("br"):
        br.tail = "\n" + (br.tail or "")
        changed = True
    return lxml.html.tostring(root, encoding="unicode") if changed else html


def find_publish_date(page_text: str) -> dt.date | None:
    """The first valid date labelled 发布时间/发布日期 (preferred) or a bare 日期, else None."""
    for pattern in _DATE_LABELS:
        for match in pattern.finditer(page_text):
            year, month, day = (int(part) for part in match.groups())
            try:
                return dt.date(year, month, day)
            except ValueError:
                continue
    return None
