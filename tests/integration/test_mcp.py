"""`flowrag mcp` as an assistant runs it: a subprocess over stdio, driven by the official MCP
client, on a store seeded with the demo material. It lists its four read-only tools, answers a
French question with citations, searches, opens a node with its neighbours, gives the morning
report, and returns bad input as a tool error with the reason."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.api.test_graphql import _seed, settings_for


def _payload(result: Any) -> Any:
    assert not result.is_error, result.content
    return (
        json.loads(result.content[0].text)
        if result.content[0].text.startswith("{")
        else result.content[0].text
    )


async def test_an_assistant_asks_searches_and_reads_the_report(tmp_path: Path, models_dir: Path) -> None:
    from mcp import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client

    settings = settings_for(tmp_path, models_dir)
    await _seed(settings)
    env = {**os.environ, "FLOWRAG_DATA_DIR": str(tmp_path), "HF_HUB_OFFLINE": "1", "NO_COLOR": "1"}
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "flowrag", "--store-path", str(settings.store.path), "mcp"],
        env=env,
    )
    async with stdio_client(params) as streams, ClientSession(streams[0], streams[1]) as session:
        await asyncio.wait_for(session.initialize(), 120)
        tools = {t.name for t in (await session.list_tools()).tools}
        assert tools == {"ask", "search", "node", "morning_report"}  # nothing that writes

        answer = _payload(
            await session.call_tool("ask", {"question": "Quels flows ont échoué hier et pourquoi ?"})
        )
        assert answer["citations"] and answer["plan"]["language"] == "fr"
        assert any(c["provenance"].startswith("runs/") for c in answer["citations"])

        hits = _payload(
            await session.call_tool("search", {"text": "refresh a VDB from a snapshot", "top_k": 5})
        )["hits"]
        assert any(h["uid"] == "Endpoint:delphix-dct:POST /vdbs/{vdbId}/refresh_by_snapshot" for h in hits)

        node = _payload(await session.call_tool("node", {"uid": hits[0]["uid"]}))
        assert node["node"]["uid"] == hits[0]["uid"] and node["neighbours"]

        report = _payload(await session.call_tool("morning_report", {"language": "en"}))
        assert isinstance(report, str) and report.startswith("#")

        bad = await session.call_tool("search", {"text": "x", "top_k": 0})
        assert bad.is_error and "top_k must be between 1 and 100" in bad.content[0].text
        missing = await session.call_tool("node", {"uid": "Endpoint:nope"})
        assert missing.is_error and "no node 'Endpoint:nope'" in missing.content[0].text


def test_without_the_extra_the_command_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    from flowrag.api.mcp_server import build_server
    from flowrag.errors import ConfigError
    from flowrag.settings import Settings

    real_import = builtins.__import__

    def no_mcp(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "mcp" or name.startswith("mcp."):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_mcp)
    with pytest.raises(ConfigError) as caught:
        build_server(Settings())
    assert caught.value.hint == "pip install 'flowrag[mcp]'"


async def test_the_same_tools_over_http_behind_the_api_keys(tmp_path: Path, models_dir: Path) -> None:
    """Streamable HTTP at /mcp, with the SDK's own client: no key, no session; a read key gets
    the four tools and a search answered from the shared store."""
    import httpx
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client

    from flowrag.api.mcp_server import build_http_app
    from tests.api.test_graphql import READ
    from tests.support.uvicorn_thread import serve

    settings = settings_for(tmp_path, models_dir)
    await _seed(settings)
    with serve(build_http_app(settings)) as url:
        refused = await asyncio.to_thread(
            httpx.post, f"{url}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "ping"}, timeout=30
        )
        assert refused.status_code == 401
        wrong = await asyncio.to_thread(
            httpx.post, f"{url}/mcp", headers={"Authorization": "Bearer nope"}, json={}, timeout=30
        )
        assert wrong.status_code == 401
        async with (
            create_mcp_http_client(headers={"Authorization": f"Bearer {READ}"}) as client,
            streamable_http_client(f"{url}/mcp", http_client=client) as streams,
            ClientSession(streams[0], streams[1]) as session,
        ):
            await asyncio.wait_for(session.initialize(), 120)
            tools = {t.name for t in (await session.list_tools()).tools}
            assert tools == {"ask", "search", "node", "morning_report"}
            hits = _payload(
                await session.call_tool("search", {"text": "refresh a VDB from a snapshot", "top_k": 5})
            )["hits"]
            assert any(
                h["uid"] == "Endpoint:delphix-dct:POST /vdbs/{vdbId}/refresh_by_snapshot" for h in hits
            )
