"""Where the reviewer is, as a URL: query parameters `report`, `list` and `item`.

A report is named by its doc_id (readable, unique per stored report) and an item by its
1-based number in its list, so a link reads like what the screen shows and reopens the same
place. Parsing is forgiving: anything unknown falls back to the queue or the list's first item.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping

from extractor.core.schema import ListName
from extractor.review.queue import QueueRow
from extractor.review.source_pane.model import Focus

#: The query parameters this module owns (others in the URL are someone else's).
URL_PARAMS = ("report", "list", "item")


def url_params(*, doc_id: str | None, focus: Focus | None) -> dict[str, str]:
    """The query parameters for a report and the item in focus (empty: the queue)."""
    if doc_id is None:
        return {}
    params = {"report": doc_id}
    if focus is not None:
        params["list"] = focus.list_name.value
        if focus.position is not None:
            params["item"] = str(focus.position + 1)
    return params


def sync_url(query: MutableMapping[str, str], params: Mapping[str, str]) -> None:
    """Make `query` (the page's query parameters) name what `params` names, touching only
    the parameters this module owns and only those that differ (each write is a message
    to the browser)."""
    for name in URL_PARAMS:
        value = params.get(name)
        if value is None:
            if name in query:
                del query[name]
        elif query.get(name) != value:
            query[name] = value


def doc_key_for(rows: Iterable[QueueRow], report: str | None) -> str | None:
    """The stored report a `report` parameter names (its doc_id, or its sha256), else None."""
    if not report:
        return None
    for row in rows:
        if report in (row.doc_id, row.doc_key):
            return row.doc_key
    return None


def focus_from_params(params: Mapping[str, str]) -> Focus | None:
    """The focus `list` / `item` name (None when `list` is missing or unknown); an item number
    that is not a positive integer leaves the position to the list's first item."""
    try:
        list_name = ListName(params.get("list", ""))
    except ValueError:
        return None
    item = params.get("item", "")
    position = int(item) - 1 if item.isdigit() and int(item) > 0 else None
    return Focus(list_name, position)


def queue_button_label(row: QueueRow) -> str:
    """One line that opens a report from the queue: issuer and year first (what a reviewer
    recognises), then status, items reviewed, items to check and who has it open; the doc_id last."""
    flagged = f"待核查 {row.flagged_count} 条" if row.flagged_count else "无待核查条目"
    parts = [row.title, row.status_label, f"已审 {row.progress_text}", flagged]
    if row.open_by:
        parts.append(f"{row.open_by_text()} 正在审核")
    return " · ".join([*parts, row.doc_id])
