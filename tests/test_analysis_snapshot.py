"""The kept analysis: reused by a restarted server, never shown once the records changed
(SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from analysis_data import approve_without_legal_aid, gold_records, save
from pg import pg_server, sqlite_and_postgres_db_url  # noqa: F401  (fixtures: pg_server, db_url)

from extractor.analysis import Analysis, analyse, load_records, snapshot
from extractor.analysis.catalogue import CATALOGUE_PATH
from extractor.analysis.snapshot import kept_analysis, snapshot_key
from extractor.store import Store


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "kept"
    monkeypatch.setenv(snapshot.CACHE_DIR_ENV, str(directory))
    return directory


@pytest.fixture
def filled(db_url: str) -> str:
    """The eight reports; 白沙镇 2024 only extracted, the others approved."""
    with Store(db_url) as store:
        for record in gold_records():
            save(store, record, status=None if record.doc_id == "baisha-2024" else "approved")
    return db_url


def _legal_aid(result: Analysis) -> dict[str, float]:
    return {v.source.doc_id: v.value for v in result.mapped if v.indicator == "法律援助案件数"}


def _no_computing(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object, **_kwargs: object) -> Analysis:
        raise AssertionError("the analysis was computed again")

    monkeypatch.setattr(snapshot, "analyse", refuse)


def test_a_restarted_server_reuses_the_kept_analysis(filled: str, monkeypatch, cache: Path) -> None:
    with Store(filled) as store:
        first = kept_analysis(store, status="approved")
        assert len(list(cache.glob("*.analysis"))) == 1
        _no_computing(monkeypatch)
        again = kept_analysis(store, status="approved")
    assert again is not first  # read back from disk, as another server process would
    assert again.caption == first.caption == "统计范围：仅已通过审核的记录；共 7 份报告（已通过 7 份）"
    assert _legal_aid(again) == _legal_aid(first) and _legal_aid(first)["qingxi-2023"] == 367
    assert [t.representative for t in again.themes] == [t.representative for t in first.themes]
    assert [f.verdict for f in again.follow] == [f.verdict for f in first.follow]


def test_a_changed_record_is_never_answered_from_the_kept_analysis(filled: str, monkeypatch) -> None:
    with Store(filled) as store:
        kept_analysis(store, status="approved")
        approve_without_legal_aid(store, "qingxi-2023")
        with monkeypatch.context() as patch:
            _no_computing(patch)
            with pytest.raises(AssertionError, match="computed again"):
                kept_analysis(store, status="approved")
        changed = kept_analysis(store, status="approved")
        assert "qingxi-2023" not in _legal_aid(changed)
        assert _legal_aid(changed) == _legal_aid(analyse(load_records(store), status="approved"))


def test_an_approval_changes_what_counts(filled: str) -> None:
    with Store(filled) as store:
        before = kept_analysis(store, status="approved")
        everything = kept_analysis(store, status="all")
        current = store.current_record("baisha-2024")
        assert current is not None
        store.save_review(
            "baisha-2024", current.record, base_version=current.version, reviewer="审核员", status="approved"
        )
        after = kept_analysis(store, status="approved")
    assert "共 7 份报告" in before.caption and "共 8 份报告（已通过 8 份）" in after.caption
    assert "共 8 份报告（已通过 7 份，待审核 1 份）" in everything.caption


def test_a_draft_save_leaves_the_approved_key_and_changes_the_other(filled: str) -> None:
    with Store(filled) as store:
        approved, everything = snapshot_key(store, status="approved"), snapshot_key(store, status="all")
        assert approved != everything
        current = store.current_record("baisha-2024")
        assert current is not None
        store.save_review(
            "baisha-2024", current.record, base_version=current.version, reviewer="审核员", status="in_review"
        )
        assert snapshot_key(store, status="approved") == approved
        assert snapshot_key(store, status="all") != everything


def test_another_database_with_the_same_reports_has_its_own_key(filled: str, tmp_path: Path) -> None:
    other = f"sqlite:///{tmp_path / 'other.db'}"
    with Store(other) as store:
        for record in gold_records():
            save(store, record, status=None if record.doc_id == "baisha-2024" else "approved")
        other_key = snapshot_key(store, status="approved")
    with Store(filled) as store:
        assert snapshot_key(store, status="approved") != other_key


def test_a_damaged_file_is_recomputed_and_replaced(filled: str, cache: Path) -> None:
    with Store(filled) as store:
        key = snapshot_key(store, status="approved")
        cache.mkdir(parents=True)
        (cache / f"{key}.analysis").write_bytes(b"not an analysis")
        result = kept_analysis(store, status="approved", key=key)
        assert _legal_aid(result)["qingxi-2023"] == 367
        assert (cache / f"{key}.analysis").read_bytes() != b"not an analysis"


def test_an_unwritable_cache_only_means_nothing_is_kept(filled: str, tmp_path: Path, monkeypatch) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    monkeypatch.setenv(snapshot.CACHE_DIR_ENV, str(blocked / "kept"))
    with Store(filled) as store:
        assert _legal_aid(kept_analysis(store, status="approved"))["qingxi-2023"] == 367


def test_only_the_newest_analyses_are_kept(filled: str, monkeypatch, cache: Path) -> None:
    monkeypatch.setattr(snapshot, "KEEP", 2)
    with Store(filled) as store:
        for doc_id in ("qingxi-2023", "yunling-2023"):
            kept_analysis(store, status="approved")
            approve_without_legal_aid(store, doc_id)
        newest = kept_analysis(store, status="approved")
        assert len(list(cache.glob("*.analysis"))) == 2
        assert (cache / f"{snapshot_key(store, status='approved')}.analysis").exists()
    assert "yunling-2023" not in _legal_aid(newest)


def test_the_code_version_follows_the_catalogue(tmp_path: Path, monkeypatch) -> None:
    package = tmp_path / "analysis"
    package.mkdir()
    catalogue = package / "indicator_catalogue.json"
    catalogue.write_bytes(CATALOGUE_PATH.read_bytes())
    monkeypatch.setattr(snapshot, "_CODE_DIRS", (package,))
    snapshot.code_version.cache_clear()
    try:
        before = snapshot.code_version()
        catalogue.write_text(
            catalogue.read_text(encoding="utf-8").replace("法律援助", "法援"), encoding="utf-8"
        )
        snapshot.code_version.cache_clear()
        assert snapshot.code_version() != before
    finally:
        snapshot.code_version.cache_clear()


def test_a_kept_file_others_could_have_written_is_never_unpickled(
    filled: str, monkeypatch, cache: Path
) -> None:
    with Store(filled) as store:
        kept_analysis(store, status="approved")
        assert cache.stat().st_mode & 0o077 == 0  # made private to its user
        cache.chmod(0o777)  # a folder anyone may write to: a planted pickle would run code
        with monkeypatch.context() as patch:
            _no_computing(patch)
            with pytest.raises(AssertionError, match="computed again"):
                kept_analysis(store, status="approved")
        cache.chmod(0o700)
        (kept,) = cache.glob("*.analysis")
        kept.chmod(0o666)
        with monkeypatch.context() as patch:
            _no_computing(patch)
            with pytest.raises(AssertionError, match="computed again"):
                kept_analysis(store, status="approved")
