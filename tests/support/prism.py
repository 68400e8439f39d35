"""Stoplight Prism (npm ``@stoplight/prism-cli``, installed by scripts/test.sh; its ``prism``
binary in FLOWRAG_PRISM) serving the real DCT spec of ../shared/data/delphix.

DCT serves its API under ``/v3`` (the spec's ``servers``); Prism matches request paths against
the spec's paths as written, so the spec is given to it with every path under ``/v3`` (a copy in
the test's temporary directory; nothing else changes). In ``proxy`` mode every request and
response is validated against the contract and, with ``--errors``, a violation is answered with
an error instead of being forwarded.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
DCT_SPEC = ROOT.parent / "shared" / "data" / "delphix" / "dct-openapi.yaml"


def prism_binary() -> str | None:
    candidate = os.environ.get("FLOWRAG_PRISM") or shutil.which("prism")
    return candidate if candidate and Path(candidate).exists() else None


def spec_under_v3(target: Path) -> Path:
    doc = yaml.load(
        DCT_SPEC.read_text(encoding="utf-8"),
        Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader),  # noqa: S506 - a safe loader
    )
    doc["paths"] = {f"/v3{path}": item for path, item in doc["paths"].items()}
    target.write_text(json.dumps(doc, default=str), encoding="utf-8")  # examples hold YAML dates
    return target


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def prism(workdir: Path, mode: str, upstream: str | None = None, timeout_s: float = 120) -> Iterator[str]:
    """``prism mock -d`` (random data shaped by the spec) or ``prism proxy <upstream> --errors``;
    yields Prism's base URL."""
    binary = prism_binary()
    if binary is None:
        raise RuntimeError("prism not found: run scripts/test.sh (it installs @stoplight/prism-cli)")
    spec = spec_under_v3(workdir / "dct-v3.json")
    port = _free_port()
    args = [binary, mode, str(spec)]
    if mode == "proxy":
        assert upstream
        args.append(upstream)
    else:
        args.append("-d")
    args += ["--errors", "--port", str(port), "--host", "127.0.0.1"]
    log = (workdir / f"prism-{mode}.log").open("wb")
    process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"prism exited: {(workdir / f'prism-{mode}.log').read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("prism did not start in time") from None
                time.sleep(0.5)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def prism_log(workdir: Path, mode: str) -> str:
    path = workdir / f"prism-{mode}.log"
    return path.read_text(errors="replace") if path.exists() else ""
