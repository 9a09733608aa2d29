"""Warming the analysis after a save: the next 分析 opening finds it ready, never stale, and
the save never waits for it."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

import pytest
from analysis_data import approve_without_legal_aid, gold_records, save

from extractor.analysis import Analysis, analyse, load_records, snapshot
from extractor.analysis.snapshot import kept_analysis
from extractor.analysis.warm import Warmer
from extractor.store import Store

_WAIT_S = 120


@pytest.fixture(autouse=True)
def fresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(snapshot.CACHE_DIR_ENV, str(tmp_path / "kept"))
    monkeypatch.setattr(snapshot, "_held", {})
    monkeypatch.setattr(snapshot, "_kept", set())


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'warm.db'}"
    with Store(url) as store:
        for record in gold_records():
            save(store, record, status="approved")
    return url


def _legal_aid(result: Analysis) -> dict[str, float]:
    return {v.source.doc_id: v.value for v in result.mapped if v.indicator == "法律援助案件数"}


def _counting(monkeypatch: pytest.MonkeyPatch, gate: threading.Event | None = None) -> list[int]:
    """Count the analyses computed; with `gate`, each waits for it (a slow analysis)."""
    calls: list[int] = []
    real = snapshot.analyse

    def counted(*args: Any, **kwargs: Any) -> Analysis:
        calls.append(1)
        if gate is not None:
            assert gate.wait(_WAIT_S)
        return real(*args, **kwargs)

    monkeypatch.setattr(snapshot, "analyse", counted)
    return calls


def test_after_warming_the_page_gets_the_analysis_without_computing(db_url: str, monkeypatch) -> None:
    calls = _counting(monkeypatch)
    warmer = Warmer()
    with Store(db_url) as store:
        approve_without_legal_aid(store, "qingxi-2023")
        warmer.request(db_url)
        assert warmer.wait(_WAIT_S)
        assert len(calls) == 1
        shown = kept_analysis(store, status="approved", keep_now=False)  # as the page asks
        assert len(calls) == 1  # answered from the warmed analysis
        assert "qingxi-2023" not in _legal_aid(shown)
        assert _legal_aid(shown) == _legal_aid(analyse(load_records(store), status="approved"))


def test_a_save_after_warming_is_never_answered_with_the_warmed_analysis(db_url: str, monkeypatch) -> None:
    warmer = Warmer()
    warmer.request(db_url)
    assert warmer.wait(_WAIT_S)
    with Store(db_url) as store:
        assert _legal_aid(kept_analysis(store, status="approved"))["qingxi-2023"] == 367
        calls = _counting(monkeypatch)
        approve_without_legal_aid(store, "qingxi-2023")  # a save whose warming has not run
        shown = kept_analysis(store, status="approved")
    assert len(calls) == 1 and "qingxi-2023" not in _legal_aid(shown)


def test_the_request_returns_before_the_analysis_starts_computing(db_url: str, monkeypatch) -> None:
    gate = threading.Event()
    calls = _counting(monkeypatch, gate)
    warmer = Warmer()
    warmer.request(db_url)  # would never return if it waited for the gated analysis
    assert not warmer.wait(0.05)  # the analysis is still held back by the gate
    gate.set()
    assert warmer.wait(_WAIT_S)
    assert len(calls) == 1


def test_saves_during_a_warming_coalesce_into_one_more_run_for_the_newest_records(
    db_url: str, monkeypatch
) -> None:
    gate = threading.Event()
    calls = _counting(monkeypatch, gate)
    warmer = Warmer()
    with Store(db_url) as store:
        warmer.request(db_url)
        for doc_id in ("qingxi-2023", "qingxi-2024"):  # saves while the first warming computes
            approve_without_legal_aid(store, doc_id)
            warmer.request(db_url)
        gate.set()
        assert warmer.wait(_WAIT_S)
        assert len(calls) == 2  # the first run and one more, not one per save
        shown = kept_analysis(store, status="approved")
    assert len(calls) == 2
    assert not {"qingxi-2023", "qingxi-2024"} & set(_legal_aid(shown))


def test_nothing_is_computed_when_the_records_did_not_change(db_url: str, monkeypatch) -> None:
    warmer = Warmer()
    warmer.request(db_url)
    assert warmer.wait(_WAIT_S)
    calls = _counting(monkeypatch)
    warmer.request(db_url)  # e.g. a save that changed nothing the analysis counts
    assert warmer.wait(_WAIT_S)
    assert calls == []


def test_a_failed_warming_is_logged_and_the_next_one_still_runs(db_url: str, monkeypatch, caplog) -> None:
    def broken(*_args: object, **_kwargs: object) -> Analysis:
        raise RuntimeError("disk on fire")

    warmer = Warmer()
    with monkeypatch.context() as patch:
        patch.setattr(snapshot, "analyse", broken)
        with caplog.at_level(logging.WARNING, logger="extractor.analysis.warm"):
            warmer.request(db_url)
            assert warmer.wait(_WAIT_S)
    assert "disk on fire" in caplog.text
    calls = _counting(monkeypatch)
    warmer.request(db_url)
    assert warmer.wait(_WAIT_S)
    assert len(calls) == 1
    with Store(db_url) as store:
        kept_analysis(store, status="approved")
    assert len(calls) == 1
