"""A scripted OpenAI-compatible chat-completions server on 127.0.0.1 (for tests and benches).

Real HTTP, so the real openai + instructor client stays in the path. Replies come from a
queue (`push`) or, when it is empty, from `default` (a function of the request); each reply
can set status, headers (Retry-After), a delay (hang past the client's timeout), a raw body
(malformed), finish_reason, refusal, or the structured payload, which the server wraps the
way the request asks: a tool call if the request has `tools`, else message content (in a
```json fence when the request asks for one, as instructor's MD_JSON mode does). Every
request body is recorded (`requests`), with its arrival time and headers.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    payload: dict[str, Any] | None = None  # the structured answer (wrapped per request format)
    content: str | None = None  # raw message content, sent as is (e.g. "<think>…</think>{…}")
    tool_arguments: str | None = None  # raw tool-call arguments (e.g. truncated JSON)
    body: str | None = None  # raw HTTP body (e.g. not JSON at all)
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    finish_reason: str = "stop"
    refusal: str | None = None
    no_tool_call: bool = False
    echo_auth: bool = False  # a careless server: error body repeats the Authorization header
    usage: tuple[int, int] | None = (120, 30)


Responder = Callable[[dict[str, Any]], Reply]


@dataclass
class Received:
    body: dict[str, Any]
    headers: dict[str, str]
    at: float


def last_user_text(request: dict[str, Any]) -> str:
    users = [m for m in request.get("messages", []) if m.get("role") == "user"]
    content = users[-1]["content"] if users else ""
    return content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)


def first_user_text(request: dict[str, Any]) -> str:
    users = [m for m in request.get("messages", []) if m.get("role") == "user"]
    return users[0]["content"] if users else ""


def passages_in(request: dict[str, Any]) -> dict[int, str]:
    """The [Pn]…[/Pn] passages of the request's section text."""
    text = first_user_text(request)
    return {int(n): body for n, body in re.findall(r"\[P(\d+)\](.*?)\[/P\1\]", text, flags=re.DOTALL)}


def is_meta_request(request: dict[str, Any]) -> bool:
    tools = request.get("tools") or []
    if tools:
        return tools[0]["function"]["name"] == "MetaOut"
    return "【开头】" in first_user_text(request)


def is_outline_request(request: dict[str, Any]) -> bool:
    tools = request.get("tools") or []
    if tools:
        return tools[0]["function"]["name"] == "OutlineOut"
    return "【分段建议】" in first_user_text(request)


def outline_proposal(request: dict[str, Any]) -> dict[str, Any]:
    """The segmenter's proposal the outline request carries (answering it accepts it)."""
    # MD_JSON mode appends its own instruction after the proposal: read the first JSON value.
    text = first_user_text(request).split("【分段建议】", 1)[1].strip()
    return json.JSONDecoder().raw_decode(text)[0]


def is_free_request(request: dict[str, Any]) -> bool:
    tools = request.get("tools") or []
    if tools:
        return tools[0]["function"]["name"] == "FreeExtraction"
    return "本段没有 [P] 编号" in first_user_text(request)


def echo_answer(request: dict[str, Any]) -> dict[str, Any]:
    """A valid answer for any request: one item per passage; a plain meta answer; the
    outline call's own proposal."""
    if is_outline_request(request):
        return outline_proposal(request)
    if is_meta_request(request):
        years = re.findall(r"(20\d\d)\s*年", first_user_text(request))
        year = int(years[0]) if years else None
        return {"issuer": None, "region": None, "report_year": year, "period": "annual", "publish_date": None}
    if is_free_request(request):
        text = first_user_text(request)
        body = text.split("【原文开始】", 1)[-1].split("【原文结束】", 1)[0].strip()
        first = body.split("\n", 1)[0].strip()
        items = (
            [{"kind": "achievements", "quote": first, "area": "其他", "text": first[:12]}] if first else []
        )
        return {"items": items}
    items = [
        {"passages": [n], "area": "其他", "text": re.sub(r"\s+", "", body)[:12]}
        for n, body in sorted(passages_in(request).items())
    ]
    return {"items": items}


def echo_responder(request: dict[str, Any]) -> Reply:
    return Reply(payload=echo_answer(request))


class ScriptedServer:
    """Start with `with ScriptedServer() as server:`; `server.base_url` is the /v1 endpoint."""

    def __init__(self, default: Responder | None = echo_responder, latency: float = 0.0) -> None:
        self.default = default
        self.latency = latency
        self.requests: list[Received] = []
        self._script: deque[Reply | Responder] = deque()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._counter = 0
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def push(self, *replies: Reply | Responder) -> None:
        with self._lock:
            self._script.extend(replies)

    @property
    def bodies(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r.body for r in self.requests]

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()  # wakes handlers that are hanging on purpose
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def _next_reply(self, request: dict[str, Any]) -> Reply:
        with self._lock:
            entry = self._script.popleft() if self._script else self.default
        if entry is None:
            return Reply(status=500, body='{"error": {"message": "script exhausted"}}')
        return entry if isinstance(entry, Reply) else entry(request)

    def _completion(self, request: dict[str, Any], reply: Reply) -> dict[str, Any]:
        with self._lock:
            self._counter += 1
            number = self._counter
        message: dict[str, Any] = {"role": "assistant", "content": None, "refusal": reply.refusal}
        arguments = reply.tool_arguments
        if arguments is None and reply.payload is not None:
            arguments = json.dumps(reply.payload, ensure_ascii=False)
        if request.get("tools") and not reply.no_tool_call and reply.content is None:
            name = request["tools"][0]["function"]["name"]
            message["tool_calls"] = [
                {
                    "id": f"call_{number}",
                    "type": "function",
                    "function": {"name": name, "arguments": arguments or ""},
                }
            ]
        elif reply.content is not None:
            message["content"] = reply.content
        elif arguments is not None:
            wants_fence = "```json" in json.dumps(request.get("messages", []), ensure_ascii=False)
            message["content"] = f"```json\n{arguments}\n```" if wants_fence else arguments
        completion: dict[str, Any] = {
            "id": f"chatcmpl-{number}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": request.get("model", "scripted"),
            "choices": [{"index": 0, "message": message, "finish_reason": reply.finish_reason}],
        }
        if reply.usage is not None:
            prompt, done = reply.usage
            completion["usage"] = {
                "prompt_tokens": prompt,
                "completion_tokens": done,
                "total_tokens": prompt + done,
            }
        return completion

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args: object) -> None:  # keep test output quiet
                pass

            def setup(self) -> None:
                super().setup()
                # Headers and body go out in two writes: without NODELAY, Nagle + delayed ACK
                # add ~40 ms to every answer.
                self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length)
                try:
                    request = json.loads(raw)
                except json.JSONDecodeError:
                    request = {"_unparseable": raw.decode("utf-8", "replace")}
                with server._lock:
                    server.requests.append(
                        Received(request, {k.lower(): v for k, v in self.headers.items()}, time.monotonic())
                    )
                if not self.path.endswith("/chat/completions"):
                    self._send(404, '{"error": {"message": "not found"}}', {})
                    return
                reply = server._next_reply(request)
                wait = server.latency + reply.delay
                if wait and server._stop.wait(wait):
                    return  # shutting down
                if reply.body is not None:
                    body = reply.body
                elif reply.status != 200:
                    note = f"scripted status {reply.status}"
                    if reply.echo_auth:
                        note += f"; you sent {self.headers.get('Authorization')}"
                    body = json.dumps({"error": {"message": note, "type": "scripted"}})
                else:
                    body = json.dumps(server._completion(request, reply), ensure_ascii=False)
                self._send(reply.status, body, reply.headers)

            def _send(self, status: int, body: str, headers: dict[str, str]) -> None:
                data = body.encode("utf-8")
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

        return Handler


def _serve_child(conn: Any, latency: float) -> None:
    with ScriptedServer(default=echo_responder, latency=latency) as server:
        conn.send(server.base_url)
        conn.recv()  # asked to stop
        conn.send(server.bodies)


class ServerProcess:
    """An echo ScriptedServer in a child process, so its CPU does not compete with the
    client's threads for the GIL (benchmarks). `stop()` returns the request bodies."""

    def __init__(self, latency: float = 0.0) -> None:
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve_child, args=(child, latency), daemon=True)
        self.base_url = ""
        self.bodies: list[dict[str, Any]] = []
        self._stopped = False

    def __enter__(self) -> ServerProcess:
        self._process.start()
        if not self._conn.poll(60):
            raise RuntimeError("scripted server process did not start")
        self.base_url = self._conn.recv()
        return self

    def stop(self) -> list[dict[str, Any]]:
        if not self._stopped and self._process.is_alive():
            self._stopped = True
            self._conn.send("stop")
            self.bodies = self._conn.recv()
        return self.bodies

    def __exit__(self, *_exc: object) -> None:
        self.stop()
        self._process.join(timeout=10)
        if self._process.is_alive():
            self._process.terminate()


# --- A small hand-segmented report shared by the LLM tests -------------------------------

SAMPLE_TEXT = """某某县司法局2024年法治政府建设工作情况报告
2024年，我局在县委县政府的坚强领导下，扎实推进法治政府建设。现将有关情况报告如下：
一、主要举措和成效
（一）强化行政复议。2024年，我县受理行政复议案件37件，其中已结案31件，正在审理6件。
（二）深化普法宣传。开展“法律进乡村”活动120场，发放宣传资料4万余份，覆盖群众约8万人次。
（三）加强人民调解。全年排查调处矛盾纠纷3621件，调处成功3108件，成功率为86％。
二、存在的问题和不足
一是法治队伍专业化建设不足。二是基层调解力量有待加强。
究其原因，主要是编制有限，人员流动较大。
三、2025年工作计划
1.持续深化普法宣传，打造本土法治文化品牌。
2.推进公共法律服务体系建设，提升法律援助质量。
某某县司法局
2025年1月15日
"""

ACHIEVEMENT_POINTS = [
    "（一）强化行政复议。2024年，我县受理行政复议案件37件，其中已结案31件，正在审理6件。",
    "（二）深化普法宣传。开展“法律进乡村”活动120场，发放宣传资料4万余份，覆盖群众约8万人次。",
    "（三）加强人民调解。全年排查调处矛盾纠纷3621件，调处成功3108件，成功率为86％。",
]
PROBLEM_POINTS = ["一是法治队伍专业化建设不足。", "二是基层调解力量有待加强。"]
PLAN_POINTS = ["1.持续深化普法宣传，打造本土法治文化品牌。", "2.推进公共法律服务体系建设，提升法律援助质量。"]
CAUSE_TEXT = "究其原因，主要是编制有限，人员流动较大。"


def span_of(text: str, passage: str) -> Any:
    from extractor.core.schema import Span

    start = text.index(passage)
    return Span(start=start, end=start + len(passage))


def sample_report(doc_id: str = "sample-2024") -> tuple[Any, Any, Any]:
    """(SourceDocument, SegmentedReport, rules Record) for SAMPLE_TEXT, segmented by hand."""
    from extractor.core.document import SourceDocument
    from extractor.core.schema import Achievement, Area, Meta, Metric, Period, Plan, Problem, Record
    from extractor.segment.model import Point, Section, SectionKind, SegmentedReport

    text = SAMPLE_TEXT

    def section(
        kind: SectionKind, heading: str, points: list[str], body: str, year: int | None = None
    ) -> Section:
        return Section(
            kind=kind,
            heading=heading,
            heading_span=span_of(text, heading),
            span=span_of(text, body),
            points=[Point(span=span_of(text, p), marker=p[:3]) for p in points],
            year=year,
        )

    segmented = SegmentedReport(
        doc_id=doc_id,
        title="某某县司法局2024年法治政府建设工作情况报告",
        sections=[
            section(
                SectionKind.ACHIEVEMENTS,
                "一、主要举措和成效",
                ACHIEVEMENT_POINTS,
                "\n".join(ACHIEVEMENT_POINTS),
            ),
            section(SectionKind.PROBLEMS, "二、存在的问题和不足", PROBLEM_POINTS, "".join(PROBLEM_POINTS)),
            section(SectionKind.CAUSES, "", [], CAUSE_TEXT),
            section(SectionKind.PLANS, "三、2025年工作计划", PLAN_POINTS, "\n".join(PLAN_POINTS), year=2025),
        ],
    )
    areas = [Area.RECONSIDERATION, Area.LEGAL_EDUCATION, Area.DISPUTES]
    rules = Record(
        doc_id=doc_id,
        meta=Meta(
            issuer="某某县司法局", region="某某县", report_year=2024, period=Period.ANNUAL, plan_year=2025
        ),
        achievements=[
            Achievement(area=a, text=p[4:12], evidence=p, span=span_of(text, p))
            for a, p in zip(areas, ACHIEVEMENT_POINTS, strict=True)
        ],
        problems=[
            Problem(area=Area.GRASSROOTS, text=p[2:], evidence=p, span=span_of(text, p))
            for p in PROBLEM_POINTS
        ],
        plans=[
            Plan(area=Area.LEGAL_EDUCATION, text=p[2:], evidence=p, span=span_of(text, p))
            for p in PLAN_POINTS
        ],
    )
    rules.achievements[0].metrics = [
        Metric(name="受理行政复议案件", value=37, unit="件", evidence="受理行政复议案件37件"),
        Metric(name="已结案", value=31, unit="件", evidence="已结案31件"),
    ]
    doc = SourceDocument(doc_id=doc_id, path=f"{doc_id}.txt", text=text)
    return doc, segmented, rules


SAMPLE_META = {
    "issuer": "某某县司法局",
    "region": "某某县",
    "report_year": 2024,
    "period": "annual",
    "publish_date": "2025-01-15",
}
SAMPLE_ITEMS = {
    "achievements": [
        {
            "passages": [1],
            "area": "行政复议与应诉",
            "text": "受理行政复议案件37件，已结案31件",
            "metrics": [
                {"name": "受理行政复议案件", "value": 37, "unit": "件", "evidence": "受理行政复议案件37件"},
                {"name": "已结案", "value": 31, "unit": "件", "evidence": "已结案31件"},
            ],
        },
        {"passages": [2], "area": "普法与法治宣传", "text": "开展法律进乡村活动120场"},
        {"passages": [3], "area": "矛盾纠纷化解", "text": "调处矛盾纠纷3621件，成功率86%"},
    ],
    "problems": [
        {
            "passages": [1],
            "area": "基层基础与队伍建设",
            "text": "法治队伍专业化建设不足",
            "cause": "编制有限，人员流动较大",
        },
        {
            "passages": [2],
            "area": "矛盾纠纷化解",
            "text": "基层调解力量有待加强",
            "cause": "编制有限，人员流动较大",
        },
    ],
    "plans": [
        {"passages": [1], "area": "普法与法治宣传", "text": "深化普法宣传，打造法治文化品牌"},
        {"passages": [2], "area": "公共法律服务", "text": "推进公共法律服务体系建设"},
    ],
}


def section_kind_of(request: dict[str, Any]) -> str:
    """meta / outline / achievements / problems / plans / free, from the request's own text."""
    if is_meta_request(request):
        return "meta"
    if is_outline_request(request):
        return "outline"
    if is_free_request(request):
        return "free"
    text = first_user_text(request)
    for kind in ("achievements", "problems", "plans"):
        if f"（{kind}）" in text.split("\n", 1)[0]:
            return kind
    return "unknown"


def sample_responder(request: dict[str, Any]) -> Reply:
    """Correct answers for the sample report (echo answers for anything else)."""
    kind = section_kind_of(request)
    if kind == "meta":
        return Reply(payload=SAMPLE_META)
    if kind in SAMPLE_ITEMS:
        return Reply(payload={"items": SAMPLE_ITEMS[kind]})
    return echo_responder(request)


def scripted_settings(server: ScriptedServer, *, api_key: str, **overrides: Any) -> Any:
    """LLMSettings aimed at a scripted server: fast backoff, one call at a time by default."""
    from extractor.extract.llm import LLMSettings

    values: dict[str, Any] = {
        "base_url": server.base_url,
        "api_key": api_key,
        "backoff_initial": 0.01,
        "concurrency": 1,
    }
    values.update(overrides)
    return LLMSettings(**values)
