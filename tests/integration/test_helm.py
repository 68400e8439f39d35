"""deploy/helm/flowrag, linted and rendered by a real Helm v3 (built by scripts/test.sh from its Go
module source): the manifests start the real CLI with options it has, set settings flowrag reads,
probe routes the server serves, hold no secret value, and each missing or unsafe value is one
clear error."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from flowrag.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "flowrag"
REQUIRED = ["image.repository=registry.bank.lan/flowrag", "image.tag=0.1.0", "existingSecret=flowrag-keys"]


def _helm(*args: str, values: list[str] = REQUIRED) -> subprocess.CompletedProcess[str]:
    binary = os.environ.get("FLOWRAG_HELM")
    if not binary:
        raise RuntimeError("Helm is not built: FLOWRAG_HELM must name the binary (scripts/test.sh builds it)")
    sets = [arg for value in values for arg in ("--set", value)]
    return subprocess.run([binary, *args, str(CHART), *sets], capture_output=True, text=True, timeout=120)


def _render(values: list[str]) -> dict[str, Any]:
    done = _helm("template", "t", values=values)
    assert done.returncode == 0, done.stderr
    return {doc["kind"]: doc for doc in yaml.safe_load_all(done.stdout) if doc}


def test_the_chart_lints_and_renders_what_flowrag_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    lint = _helm("lint", "--strict")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    docs = _render(
        [
            *REQUIRED,
            "store.kind=neo4j",
            "store.neo4j.uri=bolt://neo4j.data:7687",
            "llm.model=ollama_chat/llama3.1",
        ]
    )
    assert set(docs) == {"Deployment", "Service", "PersistentVolumeClaim"}  # no Secret: the user's own
    embedded = _render(REQUIRED)["Deployment"]["spec"]
    assert embedded["strategy"] == {"type": "Recreate"} and embedded["replicas"] == 1
    pod = docs["Deployment"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"] == "registry.bank.lan/flowrag:0.1.0"
    assert container["envFrom"] == [{"secretRef": {"name": "flowrag-keys"}}]
    # the command is the real CLI's, with options it has
    assert container["args"][:2] == ["flowrag", "serve"]
    help_text = subprocess.run(
        [sys.executable, "-m", "flowrag", "serve", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
    ).stdout
    for option in (a for a in container["args"] if a.startswith("--")):
        assert option in help_text, option
    # every FLOWRAG_ variable is a setting flowrag reads, with the value the chart gives
    env = {e["name"]: e["value"] for e in container["env"]}
    for name in list(os.environ):
        if name.startswith("FLOWRAG_"):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    assert (settings.store.kind.value, settings.store.neo4j_uri) == ("neo4j", "bolt://neo4j.data:7687")
    assert settings.llm.model == "ollama_chat/llama3.1" and settings.timezone == env["FLOWRAG_TIMEZONE"]
    assert str(settings.data_dir) == "/data" and settings.models_dir.is_relative_to("/data")
    # probes on routes the server has
    from flowrag.api.app import create_app

    routes = {getattr(r, "path", "") for r in create_app(settings).routes}
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"]["path"] in routes, probe
    # not root, nothing writable but the volume and /tmp
    assert pod["securityContext"]["runAsNonRoot"] and container["securityContext"]["readOnlyRootFilesystem"]
    assert {m["mountPath"] for m in container["volumeMounts"]} == {"/data", "/tmp"}  # noqa: S108
    assert not any("password" in e.lower() and "value" in str(e).lower() for e in env)
    assert docs["Service"]["spec"]["type"] == "ClusterIP"  # nothing exposed by default


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (["image.tag=0.1.0", "existingSecret=s"], "image.repository is required"),
        (["image.repository=r/f", "existingSecret=s"], "image.tag is required"),
        (["image.repository=r/f", "image.tag=latest", "existingSecret=s"], "not latest"),
        (["image.repository=r/f", "image.tag=1"], "existingSecret is required"),
        ([*REQUIRED, "store.kind=neo4j"], "store.neo4j.uri is required"),
        ([*REQUIRED, "store.kind=sqlite"], 'store.kind must be embedded or neo4j, not "sqlite"'),
        ([*REQUIRED, "replicas=2"], "the embedded store has one writer"),
    ],
)
def test_missing_or_unsafe_values_are_one_clear_error(values: list[str], message: str) -> None:
    done = _helm("template", "t", values=values)
    assert done.returncode != 0 and message in done.stderr, done.stderr
    assert not done.stdout.strip()
