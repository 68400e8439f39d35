"""The LLM leg of the answer path with real parts: question -> retrieval -> LiteLLM -> a llama.cpp
server running SmolLM2 -> answer with citations parsed; streamed tokens; Ollama's documented chat
API. The model is tiny: nothing here asserts on its wording, only on the plumbing."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from flowrag.answer.llm import LLMClient
from flowrag.answer.service import Answerer, AnswerResult
from flowrag.graph.port import GraphStore
from flowrag.settings import LLMSettings
from tests.integration.test_answer import NOW, load_example
from tests.support.llm_server import LlamaServer


def llm_settings(server: LlamaServer) -> LLMSettings:
    return LLMSettings(
        model="openai/smollm2",
        api_base=server.api_base,
        api_key="none",
        max_tokens=80,
        timeout_s=120,
        retries=0,
    )


async def test_question_to_a_real_llm_with_citations(
    store: GraphStore, cached_embedder: Any, nlp: Any, llama_server: LlamaServer
) -> None:
    await load_example(store, cached_embedder)
    answerer = Answerer(store, cached_embedder, nlp, llm_settings(llama_server))
    result = await answerer.ask("Quels flows ont échoué hier et pourquoi ?", now=NOW)
    assert result.mode == "llm", result.notes
    assert result.answer.strip() and result.timings["llm_ms"] > 0
    assert result.citations and {c.uid for c in result.citations} <= {n.uid for n in result.nodes}
    cited = {int(n) for n in re.findall(r"\[(\d{1,3})\]", result.answer)}
    numbers = {c.number for c in result.citations}
    if cited & numbers:  # the model cited something: only what it cited is returned
        assert numbers <= cited
    else:  # it cited nothing usable: every evidence item is returned, none invented
        assert numbers == set(range(1, len(result.nodes) + 1))


async def test_streamed_tokens_from_a_real_llm(
    store: GraphStore, cached_embedder: Any, nlp: Any, llama_server: LlamaServer
) -> None:
    await load_example(store, cached_embedder)
    answerer = Answerer(store, cached_embedder, nlp, llm_settings(llama_server))
    items = [
        item
        async for item in answerer.ask_stream("Which code calls the Delphix VDB refresh endpoint?", now=NOW)
    ]
    tokens, final = items[:-1], items[-1]
    assert isinstance(final, AnswerResult) and final.mode == "llm"
    assert len(tokens) >= 2 and all(isinstance(t, str) for t in tokens)
    assert "".join(str(t) for t in tokens) == final.answer


class _OllamaChat(BaseHTTPRequestHandler):
    """Ollama's /api/chat as documented (docs/api.md): JSON in; one JSON object out, or NDJSON chunks
    with ``done: false`` then a final ``done: true`` object when ``stream`` is true."""

    requests: ClassVar[list[dict[str, Any]]] = []

    def log_message(self, *args: Any) -> None:
        return

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append({"path": self.path, "body": body})
        if self.path != "/api/chat":
            self.send_error(404)
            return
        base = {"model": body["model"], "created_at": "2026-11-22T10:00:00.000000Z"}
        final = {
            **base,
            "done": True,
            "done_reason": "stop",
            "total_duration": 1000,
            "load_duration": 10,
            "prompt_eval_count": 42,
            "prompt_eval_duration": 100,
            "eval_count": 7,
            "eval_duration": 200,
        }
        if body.get("stream"):
            self.send_response(200)
            self.send_header("Content-Type", "application/x-ndjson")
            self.end_headers()
            for piece in ("Le flux ", "a échoué ", "[1]."):
                chunk = {**base, "message": {"role": "assistant", "content": piece}, "done": False}
                self.wfile.write(json.dumps(chunk).encode() + b"\n")
            self.wfile.write(
                json.dumps({**final, "message": {"role": "assistant", "content": ""}}).encode() + b"\n"
            )
            return
        payload = json.dumps({**final, "message": {"role": "assistant", "content": "Réponse [1]."}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture
def ollama() -> Iterator[str]:
    _OllamaChat.requests = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _OllamaChat)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


async def test_ollama_chat_request_and_response_shapes(ollama: str) -> None:
    client = LLMClient(LLMSettings(model="ollama_chat/llama3.1", api_base=ollama, retries=0, max_tokens=64))
    messages = [{"role": "system", "content": "Réponds en français."}, {"role": "user", "content": "Q ?"}]
    assert await client.complete(messages) == "Réponse [1]."
    streamed = [piece async for piece in client.stream(messages)]
    assert "".join(streamed) == "Le flux a échoué [1]."
    sent = [r for r in _OllamaChat.requests if r["path"] == "/api/chat"]
    assert len(sent) == 2
    for request in sent:
        body = request["body"]
        assert body["model"] == "llama3.1"
        assert [m["role"] for m in body["messages"]] == ["system", "user"]
        assert body["messages"][1]["content"] == "Q ?"
        assert body["options"]["num_predict"] == 64  # max_tokens maps to Ollama's option
    assert [r["body"]["stream"] for r in sent] == [False, True]
