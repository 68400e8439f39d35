"""Start/stop the project's test Neo4j (scripts/neo4j: neo4j-harness 5.26 + Browser) by PID."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAUNCHER = ROOT / "scripts" / "neo4j"


def build() -> None:
    jar = LAUNCHER / "target" / "flowrag-neo4j-launcher-1.0.0.jar"
    if jar.exists() and (LAUNCHER / "target" / "lib").is_dir():
        return
    if shutil.which("mvn") is None:
        raise RuntimeError("Maven (mvn) is needed to build the Neo4j test launcher")
    subprocess.run(["mvn", "-q", "-B", "package", "-DskipTests"], cwd=LAUNCHER, check=True)


def _port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


@dataclass
class Neo4jServer:
    data_dir: Path
    host: str = "127.0.0.1"
    bolt_port: int = 7687
    http_port: int = 7474
    process: subprocess.Popen[bytes] | None = None
    # the tests' server stays small; bench/ passes a tuned one (see bench/_common.py)
    heap: str = "1g"
    jvm_flags: tuple[str, ...] = ("-XX:+UseSerialGC",)
    pagecache: str | None = None  # None: Neo4j's default (half of the RAM left by the heap)

    @property
    def bolt_uri(self) -> str:
        return f"bolt://{self.host}:{self.bolt_port}"

    @property
    def http_url(self) -> str:
        return f"http://{self.host}:{self.http_port}"

    def start(self, timeout_s: float = 180.0) -> None:
        build()
        for port in (self.bolt_port, self.http_port):
            if _port_open(self.host, port):
                raise RuntimeError(f"port {self.host}:{port} is already in use; stop the other server")
        java = os.environ.get("JAVA_HOME")
        java_bin = str(Path(java) / "bin" / "java") if java else "java"
        classpath = os.pathsep.join(
            [str(LAUNCHER / "target" / "classes"), str(LAUNCHER / "target" / "lib" / "*")]
        )
        log = open(self.data_dir / "neo4j-launcher.log", "wb")  # noqa: SIM115 - lives with the process
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                java_bin,
                f"-Xms{self.heap}",
                f"-Xmx{self.heap}",
                *self.jvm_flags,
                "-cp",
                classpath,
                "io.flowrag.neo4j.Launcher",
                "--data",
                str(self.data_dir / "db"),
                "--host",
                self.host,
                "--bolt",
                str(self.bolt_port),
                "--http",
                str(self.http_port),
                *(("--pagecache", self.pagecache) if self.pagecache else ()),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Neo4j launcher exited with {self.process.returncode}; see {log.name}")
            if _port_open(self.host, self.bolt_port) and _port_open(self.host, self.http_port):
                return
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"Neo4j did not open {self.bolt_uri} within {timeout_s:.0f}s")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
