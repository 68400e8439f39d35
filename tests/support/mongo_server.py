"""Start/stop the MongoDB wire-protocol test server (nx-27017, SQLite-backed) by PID."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class MongoServer:
    data_dir: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 30.0) -> None:
        self.port = self.port or _free_port()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        exe = Path(sys.executable).with_name("nx-27017")
        self.process = subprocess.Popen(
            [
                str(exe),
                "--data-dir",
                str(self.data_dir / "dbs"),
                "--host",
                "127.0.0.1",
                "-p",
                str(self.port),
                "--log-file",
                str(self.data_dir / "nx.log"),
                "--pid-file",
                str(self.data_dir / "nx.pid"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"nx-27017 exited with {self.process.returncode}; see {self.data_dir}/nx.log"
                )
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"nx-27017 did not listen on {self.port} within {timeout_s}s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
