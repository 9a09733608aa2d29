"""Builders for load-stage test files: every fixture is made in tmp_path from seed text."""

from __future__ import annotations

import html
import random
from collections.abc import Callable, Sequence
from pathlib import Path

import docx
import pytest
from PIL import Image, ImageDraw, ImageFont
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from extractor.core.errors import LoadError
from extractor.load import load_document

CJK_FONT_CANDIDATES = (
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"),
)
# Index of the Simplified Chinese face inside the Noto CJK collections (JP, KR, SC, TC, HK).
NOTO_CJK_SC_INDEX = 2
CID_FONT = "STSong-Light"


def find_cjk_font() -> Path | None:
    """A CJK TrueType/OpenType font for rendering page images, or None (Debian: fonts-noto-cjk)."""
    for candidate in CJK_FONT_CANDIDATES:
        if candidate.is_file():
            return candidate
    found = sorted(Path("/usr/share/fonts").glob("**/*CJK*Regular*"))
    return found[0] if found else None


def seed_paragraphs(text: str) -> list[str]:
    """The seed's non-empty lines, stripped: the unit every builder writes."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def write_docx(path: Path, paragraphs: Sequence[str], table: Sequence[Sequence[str]] = ()) -> Path:
    """A .docx with `paragraphs`, then a table holding `table`'s rows (if any)."""
    document = docx.Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for row_cells, row in zip(grid.rows, table, strict=True):
            for cell, value in zip(row_cells.cells, row, strict=True):
                cell.text = value
    document.save(str(path))
    return path


def write_text_pdf(path: Path, paragraphs: Sequence[str], *, encrypt: str | None = None) -> Path:
    """A PDF with a real text layer in the built-in Adobe CID font STSong-Light."""
    pdfmetrics.registerFont(UnicodeCIDFont(CID_FONT))
    pdf = canvas.Canvas(str(path), pagesize=A4, encrypt=encrypt)
    width, height = A4
    margin, size, leading = 50.0, 11.0, 16.0
    y = height - margin
    pdf.setFont(CID_FONT, size)
    for paragraph in paragraphs:
        for line in _wrap(paragraph, lambda s: pdfmetrics.stringWidth(s, CID_FONT, size), width - 2 * margin):
            if y < margin:
                pdf.showPage()
                pdf.setFont(CID_FONT, size)
                y = height - margin
            pdf.drawString(margin, y, line)
            y -= leading
    pdf.save()
    return path


def render_text_pages(
    text: str,
    font_path: Path,
    *,
    max_pages: int | None = None,
    font_px: int = 32,
    line_spacing: float = 1.5,
) -> list[Image.Image]:
    """Typeset `text` onto white A4 pages at 150 dpi, like a clean office scan, lines
    `line_spacing` type sizes apart."""
    font = ImageFont.truetype(str(font_path), font_px, index=NOTO_CJK_SC_INDEX)
    page_w, page_h, margin = 1240, 1754, 100
    line_step = int(font_px * line_spacing)
    lines = [
        line
        for paragraph in seed_paragraphs(text)
        for line in _wrap(paragraph, font.getlength, page_w - 2 * margin)
    ]
    per_page = (page_h - 2 * margin) // line_step
    pages: list[Image.Image] = []
    for start in range(0, len(lines), per_page):
        if max_pages is not None and len(pages) == max_pages:
            break
        page = Image.new("L", (page_w, page_h), 255)
        draw = ImageDraw.Draw(page)
        for row, line in enumerate(lines[start : start + per_page]):
            draw.text((margin, margin + row * line_step), line, font=font, fill=0)
        page.info["source_text"] = "\n".join(lines[start : start + per_page])
        pages.append(page)
    return pages


_MATTERS = ("行政复议", "行政诉讼", "信访", "执法检查", "政务公开", "法律援助", "投诉举报", "合同审查")
_UNITS = ("件", "人次", "项", "次", "个", "万元")


def number_dense_text(*, paragraphs: int = 40, seed: int = 0) -> str:
    """Synthetic report text full of figures (counts, percentages, decimals, dates, amounts),
    one paragraph a line: a page where OCR that drops or merges digits shows at once."""
    rng = random.Random(seed)

    def repeated() -> str:
        # Runs of one digit ("1111", "00"): CTC needs a blank frame between equal neighbours,
        # so these are the first to merge when a line is read at too few frames.
        return str(rng.randint(1, 9)) * rng.randint(2, 4)

    def sentence() -> str:
        matter = rng.choice(_MATTERS)
        count, unit = rng.randint(1, 9999), rng.choice(_UNITS)
        year, month, day = rng.randint(2015, 2025), rng.randint(1, 12), rng.randint(1, 28)
        change = f"{rng.uniform(0.1, 99.9):.1f}"
        rate = f"{rng.uniform(50, 100):.1f}"
        amount = f"{rng.randint(1, 999)},{rng.randint(0, 999):03d}.{rng.randint(0, 99):02d}"
        return rng.choice(
            (
                f"受理{matter}案件{count}件，同比增长{change}%，办结率{rate}%。",
                f"{year}年{month}月{day}日召开{matter}工作会议{rng.randint(2, 60)}次，参会{count}人次。",
                f"全年{matter}经费{amount}元，占预算的{rate}%，较{year - 1}年下降{change}个百分点。",
                f"第{rng.randint(1, 4)}季度办理{matter}事项{count}{unit}，其中{rng.randint(10, 99)}%在{rng.randint(3, 30)}日内办结。",
                f"清理文件{repeated()}件，废止{repeated()}件，修订{rng.randint(1, 9) * 100}件，"
                f"见{year}年第{rng.randint(1, 99)}号文件。",
                f"截至{year}年{month}月底，累计{count}{unit}，编号{rng.randint(100000, 999999)}至{rng.randint(100000, 999999)}。",
            )
        )

    return "\n".join("".join(sentence() for _ in range(rng.randint(2, 4))) for _ in range(paragraphs))


def page_paragraphs(page_text: str, text: str) -> list[str]:
    """The paragraphs of `text` as a page from `render_text_pages` (its first lines, or
    `top_of_page`'s) shows them: every line wrapped from one paragraph joined again, the
    last one cut where the page ends."""
    lines = page_text.splitlines()
    paragraphs: list[str] = []
    for paragraph in seed_paragraphs(text):
        if not lines:
            break
        shown = ""
        while lines and len(shown) < len(paragraph):
            shown += lines.pop(0)
        paragraphs.append(shown)
    return paragraphs


def write_image_pdf(path: Path, pages: Sequence[Image.Image]) -> Path:
    """An image-only PDF (no text layer), one page per image: a scanned report."""
    first, *rest = pages
    first.save(str(path), "PDF", resolution=150, save_all=True, append_images=rest)
    return path


def gov_page_html(title: str, paragraphs: Sequence[str], *, charset: str = "utf-8") -> str:
    """A government-site article page: banner, menu, breadcrumb, metadata table, the article
    (with chrome lines inside the article body, as many CMSs emit them), share links, footer."""
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html>
<html><head><meta http-equiv="Content-Type" content="text/html; charset={charset}">
<title>{html.escape(title)}-某县人民政府门户网站</title></head>
<body>
<div class="banner">某县人民政府门户网站 欢迎您</div>
<ul class="menu"><li><a href="/">首页</a></li><li><a href="/zwgk">政务公开</a></li>
<li><a href="/bsfw">办事服务</a></li><li><a href="/hdjl">互动交流</a></li></ul>
<div class="crumb">当前位置：<a href="/">首页</a> &gt; <a href="/zwgk">政务公开</a> &gt; 法治政府建设</div>
<table class="meta"><tr><td>索引号：11441624007167386F/2025-00012</td><td>成文日期：2025-01-20</td></tr></table>
<div class="article">
<h1>{html.escape(title)}</h1>
<div class="content">
<p>作者：  来源：本网  发布时间：2025-02-05 09:30  浏览次数：34  【字体：大 中 小】</p>
<p>索引号：11441624007167386F/2025-00012</p>
{body}
<p>【打印】 【关闭】</p>
<p>分享到：微信 微博</p>
</div></div>
<div class="footer">主办单位：某县人民政府办公室 版权所有 网站标识码4416240001</div>
</body></html>
"""


def _wrap(paragraph: str, measure: Callable[[str], float], max_width: float) -> list[str]:
    """Break `paragraph` into lines no wider than `max_width` (CJK text breaks anywhere)."""
    lines: list[str] = []
    current = ""
    for ch in paragraph:
        if current and measure(current + ch) > max_width:
            lines.append(current)
            current = ch
        else:
            current += ch
    if current:
        lines.append(current)
    return lines


def load_error(path: Path, **kwargs: object) -> LoadError:
    """The LoadError loading `path` raises, checked to be one line that names the file."""
    with pytest.raises(LoadError) as caught:
        load_document(path, **kwargs)  # type: ignore[arg-type]
    error = caught.value
    assert error.source == str(path)
    message = str(error)
    assert message.startswith(f"{path}: ")
    assert "\n" not in message
    return error
