"""The LLM backend through the CLI, against the scripted OpenAI-compatible server.

The server answers every section with the gold items that lie in it, so the eval must give
F1 = 1.0: proof that a model's answer survives the round trip into the record unchanged.
Also: a batch killed half-way resumes without losing or repeating anything, and the API
key never reaches the database, the records or the output.
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from conftest import DOCS, GOLD, SEED_IDS
from llm_server import Reply, ScriptedServer, first_user_text, outline_proposal, section_kind_of
from typer.testing import CliRunner

from extractor.cli.app import app, register_commands
from extractor.core.normalise import matching_key

register_commands()
runner = CliRunner()
KEY = "sk-roundtrip-secret-42"


def _gold() -> dict[str, dict[str, Any]]:
    return {doc_id: json.loads((GOLD / f"{doc_id}.json").read_text(encoding="utf-8")) for doc_id in SEED_IDS}


def _doc_of(text: str) -> str:
    """Which seed a request is about: the one whose text holds the request's passage."""
    key = matching_key(re.sub(r"\[/?P\d+\]", "", text))[:60]
    for doc_id in SEED_IDS:
        if key and key[:30] in matching_key((DOCS / f"{doc_id}.txt").read_text(encoding="utf-8")):
            return doc_id
    raise AssertionError("request text is in no seed report")


def _outline_doc(text: str) -> str:
    """The seed an outline request shows: its first long paragraph's opening."""
    openings = re.findall(r"^\[\d+\] (.+?)(?:…（共|$)", text, flags=re.MULTILINE)
    return _doc_of(max(openings[:8], key=len))


def _request_doc(request: dict[str, Any]) -> str:
    text = first_user_text(request)
    if section_kind_of(request) == "outline":
        return _outline_doc(text)
    if section_kind_of(request) == "meta":
        return _doc_of(text.split("【开头】", 1)[1].split("【结尾】", 1)[0])
    return _doc_of(text.split("【原文开始】", 1)[1].split("【原文结束】", 1)[0])


def gold_responder(request: dict[str, Any]) -> Reply:
    gold = _gold()
    text = first_user_text(request)
    kind = section_kind_of(request)
    if kind == "outline":
        return Reply(payload=outline_proposal(request))  # accept the segmenter's structure
    if kind == "meta":
        opening = text.split("【开头】", 1)[1].split("【结尾】", 1)[0]
        meta = gold[_doc_of(opening)]["meta"]
        return Reply(
            payload={k: meta[k] for k in ("issuer", "region", "report_year", "period", "publish_date")}
        )
    body = text.split("【原文开始】", 1)[1].split("【原文结束】", 1)[0]
    shown = matching_key(re.sub(r"\[/?P\d+\]", "", body))
    items = []
    for item in gold[_doc_of(body)][kind]:
        if matching_key(item["evidence"]) not in shown:
            continue
        answer = {"quote": item["evidence"], "area": item["area"], "text": item["text"]}
        if kind == "achievements":
            answer["metrics"] = item["metrics"]
        if kind == "problems":
            answer["cause"] = item["cause"]
        items.append(answer)
    return Reply(payload={"items": items})


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("EXTRACTOR_DB_URL", raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("EXTRACTOR_CONFIG", str(tmp_path / "no-config.toml"))
    (tmp_path / "no-config.toml").write_text("", encoding="utf-8")
    return tmp_path


def _llm_extract(server: ScriptedServer, *args: str):
    return runner.invoke(
        app,
        ["extract", *args, "--backend", "llm", "--model", "test-model", "--base-url", server.base_url],
        catch_exceptions=False,
    )


def test_gold_answers_round_trip_to_f1_one(workdir: Path) -> None:
    with ScriptedServer(default=gold_responder) as server:
        result = _llm_extract(server, str(DOCS), "--out", "pred", "--concurrency", "4")
    assert result.exit_code == 0, result.output
    assert "5 extracted" in result.output and "tokens in" in result.output
    scored = runner.invoke(
        app, ["eval", "--pred", "pred", "--gold", str(GOLD), "--docs", str(DOCS), "--json", "e.json"]
    )
    assert scored.exit_code == 0, scored.output
    overall = json.loads((workdir / "e.json").read_text(encoding="utf-8"))["overall"]
    for name in ("achievements", "problems", "plans", "metrics"):
        counts = overall[name]
        assert counts["fp"] == 0 and counts["fn"] == 0, (name, counts)
    for name in ("achievements", "problems", "plans"):
        assert overall[name]["area_correct"] == overall[name]["tp"]
    assert overall["grounding"]["verbatim"] == overall["grounding"]["total"]
    meta = overall["meta"]
    assert all(meta["correct"][f] == meta["documents"] for f in meta["correct"])


def test_a_killed_batch_resumes_without_loss_or_repeats(workdir: Path) -> None:
    calls = {"n": 0}

    def dies_after_some_calls(request: dict[str, Any]) -> Reply:
        calls["n"] += 1
        if calls["n"] > 12:  # the "killed" run: every later call fails hard
            return Reply(status=401, body='{"error": {"message": "invalid key"}}')
        return gold_responder(request)

    with ScriptedServer(default=dies_after_some_calls) as server:
        first = _llm_extract(server, str(DOCS), "--out", "out")
    assert first.exit_code == 1
    done_first = sorted(p.stem for p in (workdir / "out").glob("*.json"))
    assert 0 < len(done_first) < 5

    with ScriptedServer(default=gold_responder) as server:
        second = _llm_extract(server, str(DOCS), "--out", "out", "--resume")
        bodies = server.bodies
    assert second.exit_code == 0, second.output
    assert f"{len(done_first)} skipped" in second.output
    assert sorted(p.stem for p in (workdir / "out").glob("*.json")) == sorted(SEED_IDS)
    asked_about = {_request_doc(b) for b in bodies}
    assert not asked_about & set(done_first)  # nothing finished was asked again

    db = sqlite3.connect(workdir / "extractor.db")
    versions = db.execute("select count(*) from record_versions").fetchone()[0]
    assert versions == 5  # one per report: nothing lost, nothing repeated


def test_the_api_key_is_nowhere_in_what_is_stored_or_printed(workdir: Path) -> None:
    with ScriptedServer(default=gold_responder) as server:
        result = _llm_extract(server, str(DOCS / "hubin-2024.txt"), "--out", "out")
        second = _llm_extract(server, str(DOCS / "hubin-2024.txt"), "--out", "out")
    assert KEY not in result.output and KEY not in second.output
    assert KEY.encode() not in (workdir / "extractor.db").read_bytes()
    for path in (workdir / "out").glob("*.json"):
        assert KEY not in path.read_text(encoding="utf-8")


def test_a_batch_killed_by_a_signal_resumes_without_loss_or_repeats(workdir: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    with ScriptedServer(default=gold_responder, latency=0.15) as server:
        args = ["extract", str(DOCS), "--out", "out", "--backend", "llm", "--model", "test-model"]
        args += ["--base-url", server.base_url]
        child = subprocess.Popen(
            [sys.executable, "-c", "from extractor.cli import main; main()", *args],
            cwd=workdir,
            env={**os.environ, "OPENAI_API_KEY": KEY},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 120
        while len(list((workdir / "out").glob("*.json"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        child.send_signal(signal.SIGKILL)
        child.wait()
        finished = {p.stem for p in (workdir / "out").glob("*.json")}
        assert 2 <= len(finished) < 5
        first_run_requests = len(server.bodies)

        second = _llm_extract(server, str(DOCS), "--out", "out", "--resume")
        resumed = server.bodies[first_run_requests:]
    assert second.exit_code == 0, second.output
    assert sorted(p.stem for p in (workdir / "out").glob("*.json")) == sorted(SEED_IDS)
    assert not {_request_doc(b) for b in resumed} & finished  # finished reports are not asked again
    db = sqlite3.connect(workdir / "extractor.db")
    per_doc = db.execute("select document_id, count(*) from record_versions group by document_id").fetchall()
    assert len(per_doc) == 5 and all(count == 1 for _, count in per_doc)
