"""The review queue with more reports than one page (AppTest against a temporary store)."""

from __future__ import annotations

from pathlib import Path

import pytest
from review_fixtures import fill_many_store
from streamlit.testing.v1 import AppTest

from extractor.review import open_session
from extractor.store import Store

APP = Path(__file__).resolve().parent.parent / "review_app.py"
REPORTS = 55


@pytest.fixture(scope="module")
def many_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("queue")
    fill_many_store(folder / "review.db", REPORTS)
    return folder


@pytest.fixture
def db_url(many_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    # A copy per test: a test that saves leaves the others' store as it was.
    (tmp_path / "review.db").write_bytes((many_db / "review.db").read_bytes())
    url = f"sqlite:///{tmp_path / 'review.db'}"
    monkeypatch.setenv("EXTRACTOR_DB_URL", url)
    return url


def _started() -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


def _shown_reports(at: AppTest) -> list[str]:
    """The doc ids of the report buttons shown (each label ends with its doc id)."""
    return [b.label.rsplit(" · ", 1)[-1] for b in at.button if str(b.key).startswith("rv_queue_open_")]


def _caption(at: AppTest) -> str:
    return next(c.value for c in at.caption if "页" in c.value and "共" in c.value)


def test_the_queue_shows_a_page_of_reports_and_turns_pages(db_url: str) -> None:
    at = _started()
    assert _shown_reports(at) == [f"many-{n:03d}" for n in range(50)]
    assert len(at.table[0].value) == 50
    assert _caption(at) == f"第 1 / 2 页 · 第 1–50 份，共 {REPORTS} 份"
    assert at.button(key="rv_queue_previous_page").disabled
    at.button(key="rv_queue_next_page").click().run()
    assert _shown_reports(at) == [f"many-{n:03d}" for n in range(50, REPORTS)]
    assert list(at.table[0].value["报告"]) and len(at.table[0].value) == REPORTS - 50
    assert at.button(key="rv_queue_next_page").disabled
    # A report on the second page opens with one click.
    at.button(key=next(str(b.key) for b in at.button if "many-052" in b.label)).click().run()
    assert not at.exception, at.exception
    assert any("many-052" in h.value for h in at.header)


def test_a_changed_filter_starts_again_at_the_first_page(db_url: str) -> None:
    with Store(db_url) as store:
        for doc_id in ("many-051", "many-053"):
            open_session(store, doc_id).save(store, reviewer="张三", status="in_review")
    at = _started()
    at.button(key="rv_queue_next_page").click().run()
    at.button_group(key="rv_queue_status").set_value(["in_review"]).run()
    assert _shown_reports(at) == ["many-051", "many-053"]
    assert not [b for b in at.button if str(b.key).endswith("_page")]  # one page: no pager
    # Both saved records count for the download when not only approved ones are wanted.
    at.checkbox(key="rv_output_approved_only").uncheck().run()
    assert [b.label for b in at.download_button] == [f"下载 {f}（2 份）" for f in ("CSV", "XLSX", "JSONL")]
