#!/usr/bin/env bash
# The project's test command (README, .ci/run). Installs everything the tests need into a venv
# kept outside the clone (FLOWRAG_CI_CACHE, default ~/.cache/flowrag-ci), builds the Neo4j test
# launcher with Maven, then runs lint and the whole pytest suite (unit, integration on a real
# Neo4j 5.26 and the Mongo wire server, API). Extra arguments go to pytest.
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
want="$(cat "$root/pyproject.toml" | sha256sum | cut -c1-16)"
if [ ! -x "$venv/bin/python" ]; then
  echo "[test.sh] creating $venv"
  "$(pick_python)" -m venv "$venv"
fi
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
  echo "[test.sh] installing flowrag[test] (first run downloads torch and models: several minutes)"
  "$venv/bin/pip" install -q -U pip setuptools wheel
  "$venv/bin/pip" install -q -e "$root[test]"
  echo "$want" > "$stamp"
else
  "$venv/bin/pip" install -q --no-deps -e "$root" >/dev/null
fi

echo "[test.sh] building the Neo4j test launcher (Maven Central: neo4j-harness 5.26, neo4j-browser)"
(cd "$root/scripts/neo4j" && mvn -q -B -Dmaven.repo.local="$cache/m2" package -DskipTests)

cd "$root"
echo "[test.sh] ruff + mypy (strict)"
"$venv/bin/ruff" check flowrag tests bench
"$venv/bin/ruff" format --check -q flowrag tests bench
"$venv/bin/mypy"
echo "[test.sh] docker compose config (validates docker-compose.yml; no engine needed)"
if docker compose version >/dev/null 2>&1; then
  docker compose -f "$root/docker-compose.yml" config -q
else
  if ! command -v docker-compose >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose) >/dev/null
  fi
  if command -v docker-compose >/dev/null 2>&1; then
    docker-compose -f "$root/docker-compose.yml" config -q
  else
    echo "[test.sh] no docker compose client available: compose file not validated" >&2
    exit 1
  fi
fi
echo "[test.sh] pytest"
export FLOWRAG_DATA_DIR="$cache/data" HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
exec "$venv/bin/python" -m pytest -q -p no:cacheprovider --timeout 1800 "$@"
