"""Start/stop the two independent MongoDB wire-protocol test servers by PID: nx-27017 (PyPI,
SQLite-backed) and FerretDB v1.24 (Go, its SQLite backend; built from the module source by
scripts/test.sh, path in FLOWRAG_FERRETDB). FerretDB stores Timestamp and Regex values, which
nx-27017 refuses; both refuse Decimal128."""

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
    kind = "nx-27017"

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        exe = Path(sys.executable).with_name("nx-27017")
        return [
            str(exe),
            "--data-dir",
            str(self.data_dir / "dbs"),
            "--host",
            "127.0.0.1",
            "-p",
            str(self.port),
            "--log-file",
            str(self.data_dir / "server.log"),
            "--pid-file",
            str(self.data_dir / "nx.pid"),
        ]

    def start(self, timeout_s: float = 30.0) -> None:
        self.port = self.port or _free_port()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with (self.data_dir / "stdout.log").open("wb") as out:
            self.process = subprocess.Popen(
                self.command(), stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.kind} exited with {self.process.returncode}; see {self.data_dir}/stdout.log"
                )
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"{self.kind} did not listen on {self.port} within {timeout_s}s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)


@dataclass
class FerretServer(MongoServer):
    """FerretDB v1.24 on its SQLite backend (one file per database under ``data_dir``)."""

    kind = "ferretdb"

    def command(self) -> list[str]:
        exe = os.environ.get("FLOWRAG_FERRETDB", "")
        if not exe or not Path(exe).is_file():
            raise RuntimeError(
                "FerretDB is not built: FLOWRAG_FERRETDB must name the binary "
                "(scripts/test.sh builds it from the Go module source into the test cache)"
            )
        (self.data_dir / "sqlite").mkdir(parents=True, exist_ok=True)
        return [
            exe,
            "--handler=sqlite",
            f"--sqlite-url=file:{self.data_dir / 'sqlite'}/",
            f"--listen-addr=127.0.0.1:{self.port}",
            "--telemetry=disable",
            "--log-level=warn",
        ]
