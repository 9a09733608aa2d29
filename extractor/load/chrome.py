"""Lines that are no part of a report: web-page chrome (metadata labels, print/close/share
links, breadcrumbs, other articles' entries) and page footers.

The one place that knows them, at two strengths:
- `is_web_chrome_line`: the HTML loader's test on a page's extracted main text. Strict (a
  chrome label must be followed by a colon, a link line must hold nothing else), since
  trafilatura has already cut most furniture and report sentences may start with 来源 or 日期.
- `is_chrome_line`: the segmenter's (and the rules backend's) test on a line of any report
  text, which may be a whole web page or PDF copy pasted as text: page footers (— 3 —,
  第3页 共9页), chrome labels, breadcrumbs (首页 > …) and dated entries of an article list.
"""

from __future__ import annotations

import re

_FOOTER = re.compile(r"^[-—–_~·•\s]*(第\s*)?\d{1,4}\s*(页)?(\s*[/／]\s*\d+|\s*共\s*\d+\s*页)?[-—–_~·•\s]*$")
_CHROME = re.compile(
    r"^(索引号|发布时间|发布日期|发文日期|成文日期|信息来源|文章来源|来源|作者|浏览次数|点击数|访问量|阅读量|"
    r"字体|字号|分享到|主题分类|发布机构|所属机构|文号|有效性|当前位置|您当前的位置|您的位置|扫一扫|打印本页|关闭窗口|"
    r"【(字体|打印|关闭|收藏|分享|返回|大|小|默认)|"
    r"上一篇|下一篇|相关链接|相关文章|相关阅读|责任编辑|编辑[:：]|主办单位|承办单位|主办[:：]|承办[:：]|版权所有|"
    r"网站标识码|网站地图|联系我们|技术支持|.{0,12}ICP备|.{0,12}公网安备|附件下载|附件[:：]?$)"
)
# A line that is a title followed by a date (an entry of a list of articles).
_DATED_ENTRY = re.compile(r"^.{4,60}?\s*\d{4}-\d{1,2}-\d{1,2}$")
_BREADCRUMB = re.compile(r"(首页|网站首页).{0,40}[>»/]")

# Only whole lines are dropped, and only lines that start with a chrome label and a colon,
# so report sentences that merely mention 来源 or 日期 stay.
_WEB_CHROME_LABELS = (
    "作者|来源|信息来源|文章来源|发布时间|发布日期|发布机构|浏览次数|访问次数|阅读次数|点击数|点击量"
    "|索引号|主题分类|责任编辑|字体|字号"
)
_WEB_CHROME_WORD = r"(?:打印(?:本页)?|关闭(?:窗口|本页)?|返回顶部|收藏|分享|(?:(?:字体|字号)\s*[:：]?\s*)?大\s*中\s*小|[大中小])"
_WEB_CHROME_LINE = re.compile(
    rf"^[【\[(（]?\s*(?:{_WEB_CHROME_LABELS})\s*[:：]"
    # Lines made only of links such as 【打印】 【关闭】 【字体：大 中 小】 or 打印本页 关闭窗口.
    rf"|^(?:\s*[【\[]?\s*{_WEB_CHROME_WORD}\s*[】\]]?)+\s*$"
    r"|^分享到"
)


def is_web_chrome_line(line: str) -> bool:
    """True for a line that is web-page furniture (metadata labels, print/close/share links).

    A table row ("| 索引号：… | 成文日期：… |", as trafilatura renders tables) counts by its
    first cell.
    """
    return bool(_WEB_CHROME_LINE.search(line.strip().lstrip("|").strip()))


def is_chrome_line(line: str) -> bool:
    """Page footers, web-page chrome and breadcrumbs: never part of the report body.
    `line` is one stripped line of report text."""
    compact = line.replace(" ", "").replace("\u3000", "")  # 索 引 号：…
    return bool(
        _FOOTER.match(line)
        or _CHROME.match(compact)
        # Each pattern only where the text it needs is there: `in` costs far less than
        # trying a pattern at every position of a report's line (the rules backend asks
        # about every line of every item).
        or ("首页" in line and _BREADCRUMB.search(line))
        or ("-" in line and _DATED_ENTRY.match(line))
    )
