"""Variants of a report text: the same report "in other clothes", for robustness tests.

Every function here is pure and deterministic (a `seed` argument, where there is one, picks
among choices; the same arguments always give the same result). None of them reads the
extractor's code: headings are found with the simple line rules below, not with the
extractor's segmenter, so the variants do not inherit the extractor's blind spots.

What stays the same: the report's own characters, in order. A variant only changes
whitespace and line breaks, swaps punctuation between forms that Unicode NFKC maps to the
same character, rewords section headings (which the spec keeps out of evidence), or adds
page furniture (web chrome before/after the report, PDF page footers on their own lines).
So a gold record stays valid for a variant, except that

- an evidence passage that spans an inserted page footer now contains that footer line
  (`gold_for_variant` rewrites such passages to the variant's contiguous text), and
- chrome that states a 发布时间 gives a report without a publish date one
  (`gold_for_variant(..., publish_date=...)`).
"""

from __future__ import annotations

import datetime as dt
import html
import itertools
import random
import re
from collections.abc import Iterable

from extractor.core.normalise import matching_key, normalise
from extractor.core.schema import Record

# ---------------------------------------------------------------------------------------------
# PDF copy


#: The page-footer lines `pdf_copy` inserts (and `gold_for_variant` recognises).
FOOTER_LINE = re.compile(r"^\s*(?:[—–-]\s*\d{1,3}\s*[—–-]|第\s*\d{1,3}\s*页)\s*$")
_FOOTER_STYLES = ("— {n} —", "- {n} -", "第 {n} 页")
#: A number followed by a measure word: the kind of figure a forced line break splits.
_COUNTED_NUMBER = re.compile(r"\d{2,}(?=\s*(?:余|多)?\s*(?:万|亿)?\s*[个件人场次家份名元所项条起篇期户%％])")
FULL_WIDTH_INDENT = "\u3000\u3000"
_NO_LINE_START = "，。、；：？！）》」』”’,.;:?!)%％"


def pdf_copy(
    text: str,
    *,
    width: int = 36,
    indent: bool = False,
    seed: int = 0,
    footer_every: int = 40,
) -> str:
    """The text as copied out of a PDF viewer.

    Guarantees:
    - every non-blank line of `text` (a paragraph) is stripped and cut into lines of `width`
      characters (a closing mark such as ，。） that would start a line stays at the end of the
      previous one), so sentences and numbers are split across lines; blank lines are
      gone, so nothing marks where one paragraph ends and the next begins (with
      `indent=True` each paragraph's first line starts with a full-width indent 「　　」);
    - at least one line break falls between two digits of a counted number (12个 → 1\\n2个)
      when the text has such a number;
    - a page footer (「— 1 —」, 「- 2 -」, 「第 3 页」, cycling, numbered from 1) stands on its own
      line after every `footer_every` ± 4 lines (chosen by `seed`; 36–44 by default) and after
      the last line; such a line can fall in the middle of a paragraph, and matches
      `FOOTER_LINE`;
    - apart from footers, the characters are the original's with whitespace changed only.
    """
    if width < 2:
        raise ValueError("width must be at least 2")
    paragraphs = [line.strip() for line in text.split("\n") if line.strip()]
    wrapped = [_wrap(p, width) for p in paragraphs]
    if not any(_splits_digits(chunks) for chunks in wrapped):
        _force_number_split(paragraphs, wrapped, width)

    lines: list[str] = []
    for chunks in wrapped:
        for i, chunk in enumerate(chunks):
            lines.append(FULL_WIDTH_INDENT + chunk if indent and i == 0 else chunk)

    rng = random.Random(seed)
    out: list[str] = []
    page = 1
    next_break = rng.randint(footer_every - 4, footer_every + 4)
    for count, line in enumerate(lines, start=1):
        out.append(line)
        if count == next_break and count < len(lines):
            out.append(_FOOTER_STYLES[(page - 1) % len(_FOOTER_STYLES)].format(n=page))
            page += 1
            next_break = count + rng.randint(footer_every - 4, footer_every + 4)
    out.append(_FOOTER_STYLES[(page - 1) % len(_FOOTER_STYLES)].format(n=page))
    return "\n".join(out) + "\n"


def _wrap(paragraph: str, width: int) -> list[str]:
    """Lines of `width` characters; as Chinese typesetting does, a closing mark never starts a
    line (it stays at the end of the previous one, which is then a little longer)."""
    lines: list[str] = []
    start = 0
    while start < len(paragraph):
        end = min(start + width, len(paragraph))
        while end < len(paragraph) and paragraph[end] in _NO_LINE_START:
            end += 1
        lines.append(paragraph[start:end])
        start = end
    return lines


def _splits_digits(chunks: list[str]) -> bool:
    return any(a[-1:].isdigit() and b[:1].isdigit() for a, b in itertools.pairwise(chunks))


def _force_number_split(paragraphs: list[str], wrapped: list[list[str]], width: int) -> None:
    """Re-wrap the first paragraph holding a counted number so a break falls inside it."""
    for index, paragraph in enumerate(paragraphs):
        match = _COUNTED_NUMBER.search(paragraph)
        if match:
            cut = match.start() + 1
            wrapped[index] = _wrap(paragraph[:cut], width) + _wrap(paragraph[cut:], width)
            return


# ---------------------------------------------------------------------------------------------
# Web page chrome


def web_chrome(
    text: str,
    *,
    published: str = "2025-02-05",
    site: str = "政府门户网站",
    source: str = "本网",
    seed: int = 0,
) -> str:
    """The report as copied from a government web page, with the page's furniture.

    Guarantees: the report's lines are unchanged and contiguous; before them come a site
    banner (`site`), a breadcrumb (首页 > 政务公开 > …), 索引号, 「发布时间：`published`」,
    来源, 浏览次数 and 【字体：大 中 小】【打印】【关闭】; after them 上一篇/下一篇 links,
    【打印本页】【关闭窗口】 and the footer (主办单位, 版权所有, ICP备案号, 网站标识码). The only date
    the chrome states is `published` (ISO, YYYY-MM-DD). `seed` varies the visit count and
    index number only.
    """
    dt.date.fromisoformat(published)  # refuse a malformed date here, not in a test's gold
    rng = random.Random(seed)
    year = published[:4]
    before = [
        site,
        "首页 > 政务公开 > 法治政府建设 > 法治政府建设年度报告",
        f"索引号：{rng.randint(10**8, 10**9 - 1)}/{year}-{rng.randint(1, 99999):05d}",
        f"发布时间：{published}　　来源：{source}　　浏览次数：{rng.randint(20, 3000)}",
        "【字体：大 中 小】【打印】【关闭】",
        "",
    ]
    after = [
        "",
        f"上一篇：关于开展{year}年“法律进万家”宣传活动的通知",
        "下一篇：关于公布行政执法主体和执法事项清单的公告",
        "【打印本页】【关闭窗口】",
        f"主办单位：{site}办公室　　版权所有：{site}",
        f"ICP备案号：湘ICP备{rng.randint(10**7, 10**8 - 1)}号　　网站标识码：{rng.randint(10**9, 10**10 - 1)}",
    ]
    return "\n".join(before) + "\n" + text.strip("\n") + "\n" + "\n".join(after) + "\n"


# ---------------------------------------------------------------------------------------------
# Punctuation

_FULL = "，：；（）！？"
_HALF = ",:;()!?"
_TO_HALF = str.maketrans(_FULL, _HALF)
_HALF_MARK = re.compile(r"[,:;()!?]")
DIRECTIONS = ("to_half", "to_full")


def swap_punctuation(text: str, direction: str) -> str:
    """The text with its punctuation in the other width.

    `direction="to_half"`: ，：；（）！？ become , : ; ( ) ! ? (no space added).
    `direction="to_full"`: the reverse, except a comma or colon between two digits (1,200 or
    9:30) stays half-width, as a typist would leave it.
    Guarantees: only those characters change, one for one (offsets are unchanged), and NFKC
    maps both forms to the same character, so every passage stays verbatim.
    """
    if direction == "to_half":
        return text.translate(_TO_HALF)
    if direction == "to_full":
        return _HALF_MARK.sub(lambda m: _full_form(m, text), text)
    raise ValueError(f"direction must be one of {DIRECTIONS}, not {direction!r}")


def _full_form(match: re.Match[str], text: str) -> str:
    mark, start = match.group(), match.start()
    between_digits = text[start - 1 : start].isdigit() and text[start + 1 : start + 2].isdigit()
    if mark in ",:" and between_digits:
        return mark
    return _FULL[_HALF.index(mark)]


# ---------------------------------------------------------------------------------------------
# Reworded section headings

PROBLEM_HEADINGS = ("存在的不足和原因", "存在问题和不足", "短板弱项", "困难和问题", "存在的主要问题")
PLAN_HEADINGS = ("下一步工作计划", "下阶段工作计划", "工作打算", "工作安排", "工作思路", "下一步工作打算")

_NUMBERED_HEADING = re.compile(r"^(\s*)([一二三四五六七八九十]{1,3}[、.．])\s*(.+?)\s*$")
_SUB_HEADING = re.compile(
    r"^([(（][一二三四五六七八九十\d１-９]{1,3}[)）]|\d{1,2}[.、．]|[一二三四五六七八九十]{1,3}是)"
)
_YEAR_IN_HEADING = re.compile(r"(?:20\d{2}|二〇[〇一二三四五六七八九]{2})\s*年度?")
_PROBLEM_WORDS = re.compile(r"不足|问题|短板")
_PLAN_WORDS = re.compile(r"计划|安排|打算|下一步|下阶段|工作思路")
#: A paragraph that ends by introducing the plans: 「…下半年全县司法行政工作计划：」.
_RUN_IN_PLANS = re.compile(r"工作(?:计划|打算|安排|思路)(?=\s*[:：]\s*$)")
_RUN_IN_PLAN_WORDS = ("工作打算", "工作安排", "工作思路", "工作计划")
_MAX_HEADING_CHARS = 30
_MAX_UNNUMBERED_HEADING_CHARS = 20
_SENTENCE_END = "。：:；;，,！!？?"


def heading_kind(line: str) -> str | None:
    """'problems' or 'plans' when `line` looks like that section's heading, else None.

    A heading is a short line: either numbered (一、…, at most 30 characters after the number)
    or unnumbered (at most 20 characters), not ending in sentence punctuation, naming 不足/问题/
    短板 (problems) or 计划/安排/打算/下一步/下阶段/工作思路 (plans), but not both.
    """
    stripped = line.strip()
    if not stripped or stripped[-1] in _SENTENCE_END:
        return None
    numbered = _NUMBERED_HEADING.match(line)
    body = numbered.group(3) if numbered else stripped
    limit = _MAX_HEADING_CHARS if numbered else _MAX_UNNUMBERED_HEADING_CHARS
    if len(body) > limit:
        return None
    if not numbered and _SUB_HEADING.match(stripped):
        return None  # （二）执法力量不足 is a point under the section, not its heading
    if "整改" in body or body.endswith("情况"):
        return None  # reports on something (上年度问题整改情况): not the section's own heading
    plans, problems = _PLAN_WORDS.search(body), _PROBLEM_WORDS.search(body)
    if plans and problems:
        return None  # a combined heading (存在的不足及下一步打算): one wording cannot replace it
    if plans:
        return "plans"
    if problems:
        return "problems"
    return None


def reword_headings(text: str, seed: int) -> str:
    """The text with its problems and plans headings reworded.

    `seed` picks the wordings: problems get PROBLEM_HEADINGS[seed % 5], plans
    PLAN_HEADINGS[seed % 6] (the next one along when that is the heading's current wording),
    so seeds 0–5 between them use every wording. Guarantees:
    - only lines `heading_kind` recognises change, plus a paragraph that ends by introducing
      the plans (「…工作计划：」), whose 工作计划 becomes another of 工作打算/工作安排/工作思路/
      工作计划 (picked by `seed`);
    - a numbered heading keeps its number and its leading whitespace; a year in the heading
      (2024年, 2023年度) is kept, before the new wording;
    - the number of lines is unchanged; a text with no such heading comes back unchanged.
    """
    problem_word = PROBLEM_HEADINGS[seed % len(PROBLEM_HEADINGS)]
    plan_word = PLAN_HEADINGS[seed % len(PLAN_HEADINGS)]
    out = []
    for line in text.split("\n"):
        kind = heading_kind(line)
        if kind is not None:
            words = PROBLEM_HEADINGS if kind == "problems" else PLAN_HEADINGS
            out.append(_reworded(line, problem_word if kind == "problems" else plan_word, words))
        elif _RUN_IN_PLANS.search(line) and len(line.strip()) > _MAX_HEADING_CHARS:
            out.append(_RUN_IN_PLANS.sub(lambda m: _run_in_wording(m.group(), seed), line))
        else:
            out.append(line)
    return "\n".join(out)


def _run_in_wording(current: str, seed: int) -> str:
    choices = [w for w in _RUN_IN_PLAN_WORDS if w != current]
    return choices[seed % len(choices)]


def _reworded(line: str, wording: str, choices: tuple[str, ...]) -> str:
    numbered = _NUMBERED_HEADING.match(line)
    if numbered:
        lead, marker, body = numbered.groups()
    else:
        lead, marker, body = line[: len(line) - len(line.lstrip())], "", line.strip()
    year_match = _YEAR_IN_HEADING.search(body)
    year = year_match.group() if year_match else ""
    if body == year + wording:
        wording = choices[(choices.index(wording) + 1) % len(choices)]
    return f"{lead}{marker}{year}{wording}"


# ---------------------------------------------------------------------------------------------
# Encodings and HTML

ENCODINGS = ("gb18030", "gbk")


def to_encoding(text: str, encoding: str, *, crlf: bool = False) -> bytes:
    """The text as a GB18030 or GBK file's bytes (no BOM; with `crlf`, Windows line ends).

    GB18030 encodes every character. GBK has no code for some whitespace (U+00A0, U+2002 …):
    such a character becomes an ASCII space, as an editor saving as GBK would do; any other
    character GBK cannot encode raises UnicodeEncodeError (the variant would not be the same
    report).
    """
    if encoding not in ENCODINGS:
        raise ValueError(f"encoding must be one of {ENCODINGS}, not {encoding!r}")
    if encoding == "gbk":
        text = "".join(" " if ch.isspace() and not _encodable(ch, "gbk") else ch for ch in text)
    if crlf:
        text = text.replace("\r\n", "\n").replace("\n", "\r\n")
    return text.encode(encoding)


def _encodable(ch: str, encoding: str) -> bool:
    try:
        ch.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def to_html(
    text: str,
    title: str,
    *,
    site: str = "政府门户网站",
    published: str | None = None,
    source: str = "本网",
) -> str:
    """A whole government web page (UTF-8) holding the report.

    Guarantees: `title` is the page's <title> (with the site name after 「_」) and its <h1>;
    the report is in <div class="content">, one <p> per non-blank line of `text` (stripped,
    HTML-escaped, so the text's characters are unchanged); around it: a top banner and nav
    menu, a breadcrumb, an info bar (「发布时间：`published`」 when given, 来源, 浏览次数,
    【字体：大 中 小】【打印】【关闭】), a sidebar of links, 上一篇/下一篇, 【打印本页】【关闭窗口】 and
    a site footer. The only date on the page is `published`.
    """
    esc = html.escape
    paragraphs = "\n".join(f"    <p>{esc(line.strip())}</p>" for line in text.split("\n") if line.strip())
    date_part = f"<span>发布时间：{esc(published)}</span>" if published else ""
    nav = "".join(
        f'<li><a href="/{slug}/">{name}</a></li>'
        for slug, name in [
            ("index", "首页"),
            ("zwgk", "政务公开"),
            ("zwfw", "政务服务"),
            ("hdjl", "互动交流"),
            ("zjxx", "走进本地"),
        ]
    )
    sidebar = "".join(
        f'<li><a href="/zwgk/fzzf/{i}.html">{name}</a></li>'
        for i, name in enumerate(
            ["法治政府建设", "行政执法公示", "权责清单", "政策解读", "规范性文件"], start=1
        )
    )
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>{esc(title)}_{esc(site)}</title>
<meta name="keywords" content="法治政府建设,年度报告">
<link rel="stylesheet" href="/css/main.css">
</head>
<body>
<div class="top-banner"><a href="/"><img src="/images/logo.png" alt="{esc(site)}"></a>
  <div class="top-links"><a href="/wza/">无障碍</a> | <a href="/en/">English</a> | <a href="/search/">搜索</a></div></div>
<div class="nav"><ul>{nav}</ul></div>
<div class="breadcrumb">当前位置：<a href="/">首页</a> &gt; <a href="/zwgk/">政务公开</a> &gt; <a href="/zwgk/fzzf/">法治政府建设</a></div>
<div class="main">
 <div class="sidebar"><h3>政务公开</h3><ul>{sidebar}</ul></div>
 <div class="article">
  <h1 class="article-title">{esc(title)}</h1>
  <div class="article-info">{date_part}<span>来源：{esc(source)}</span><span>浏览次数：1024</span>
   <span>【字体：<a href="#">大</a> <a href="#">中</a> <a href="#">小</a>】</span><span>【<a href="#">打印</a>】</span><span>【<a href="#">关闭</a>】</span></div>
  <div class="content">
{paragraphs}
  </div>
  <div class="article-tools"><a href="javascript:window.print()">【打印本页】</a> <a href="javascript:window.close()">【关闭窗口】</a></div>
  <div class="prev-next"><p>上一篇：<a href="/zwgk/fzzf/100.html">关于开展“法律进万家”宣传活动的通知</a></p>
   <p>下一篇：<a href="/zwgk/fzzf/102.html">关于公布行政执法主体和执法事项清单的公告</a></p></div>
 </div>
</div>
<div class="footer"><p>主办单位：{esc(site)}办公室　　版权所有：{esc(site)}</p>
 <p>ICP备案号：湘ICP备05008631号　　网站标识码：4311270001</p></div>
</body>
</html>
"""


# ---------------------------------------------------------------------------------------------
# Gold for a variant


def gold_for_variant(gold: Record, variant_text: str, *, publish_date: str | None = None) -> Record:
    """The gold record for a variant of its report.

    Guarantees: a copy of `gold` in which
    - an evidence passage (item or metric) that is not verbatim in `variant_text` but is
      once the page-footer lines (`FOOTER_LINE`) are ignored is replaced by the variant's
      contiguous text over it, footer included (so it is verbatim in the variant);
      every other passage is unchanged;
    - with `publish_date` (ISO), a gold without a publish date gets that one; a gold that has
      one must agree (ValueError otherwise: the variant would state two dates).
    """
    adjusted = gold.model_copy(deep=True)
    locator = _FooterBlindLocator(variant_text)
    for item in [*adjusted.achievements, *adjusted.problems, *adjusted.plans]:
        item.evidence = locator.reground(item.evidence)
        for metric in getattr(item, "metrics", []):
            metric.evidence = locator.reground(metric.evidence)
    if publish_date is not None:
        date = dt.date.fromisoformat(publish_date)
        if adjusted.meta.publish_date is None:
            adjusted.meta.publish_date = date
        elif adjusted.meta.publish_date != date:
            raise ValueError(f"gold says {adjusted.meta.publish_date}, the chrome {date}")
    return adjusted


class _FooterBlindLocator:
    """Finds passages in a text's matching key with its footer lines left out."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.key = matching_key(text)
        footer_chars: set[int] = set()
        offset = 0
        for line in text.split("\n"):
            if FOOTER_LINE.match(line):
                footer_chars.update(range(offset, offset + len(line)))
            offset += len(line) + 1
        norm = normalise(text, drop_whitespace=True)
        kept = [
            (ch, origin)
            for ch, origin in zip(norm.text, norm.origin, strict=True)
            if origin not in footer_chars
        ]
        self.blind_key = "".join(ch for ch, _ in kept)
        self.origin = [origin for _, origin in kept]

    def reground(self, passage: str) -> str:
        needle = matching_key(passage)
        if not needle or needle in self.key:
            return passage
        pos = self.blind_key.find(needle)
        if pos < 0:
            return passage
        return self.text[self.origin[pos] : self.origin[pos + len(needle) - 1] + 1]


def evidence_passages(record: Record) -> Iterable[str]:
    """Every evidence passage of a record: items' and their metrics'."""
    for item in [*record.achievements, *record.problems, *record.plans]:
        yield item.evidence
        for metric in getattr(item, "metrics", []):
            yield metric.evidence
