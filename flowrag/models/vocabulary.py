"""The domain vocabulary (technologies, Delphix object kinds, aliases) as data."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path

import yaml

from flowrag.errors import ConfigError
from flowrag.schema import content_hash

__all__ = [
    "Vocabulary",
    "identifier_words",
    "load_vocabulary",
    "normalise_name",
]


def normalise_name(name: str) -> str:
    """Canonical form for matching names across sources: ``Ingest-Trades.py`` -> ``ingest_trades``."""
    stem = re.sub(r"\.(py|java|scala|sql|sh|ya?ml|json|js|ts|go|kt)$", "", name.strip().lower())
    stem = stem.rsplit("/", 1)[-1]
    return re.sub(r"[^0-9a-zà-ÿ]+", "_", stem).strip("_")


@dataclass(frozen=True)
class Vocabulary:
    technologies: dict[str, tuple[str, ...]]  # canonical -> aliases (lowercase)
    delphix_objects: dict[str, tuple[str, ...]]
    pipeline_keywords: tuple[str, ...]

    def canonical_technology(self, text: str) -> str | None:
        return self._technology_index.get(text.strip().lower())

    def canonical_delphix(self, text: str) -> str | None:
        return self._delphix_index.get(text.strip().lower())

    # built once per vocabulary: a million monitoring records each look their technology up
    @cached_property
    def _technology_index(self) -> dict[str, str]:
        return self._alias_index(self.technologies)

    @cached_property
    def _delphix_index(self) -> dict[str, str]:
        return self._alias_index(self.delphix_objects)

    @cached_property
    def fingerprint(self) -> str:
        """Changes when the tables change, so content hashes that depend on them change too."""
        return content_hash(self.technologies, self.delphix_objects, self.pipeline_keywords)

    @staticmethod
    def _alias_index(table: dict[str, tuple[str, ...]]) -> dict[str, str]:
        index: dict[str, str] = {}
        for canonical, aliases in table.items():
            index[canonical.lower()] = canonical
            for alias in aliases:
                index[alias.lower()] = canonical
        return index


def _read(path: Path | None) -> dict[str, object]:
    if path is None:
        text = resources.files("flowrag.models").joinpath("data/vocabulary.yaml").read_text("utf-8")
    else:
        try:
            text = path.read_text("utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read vocabulary file {path}: {exc}") from exc
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"vocabulary file {path or 'built-in'} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"vocabulary file {path} must be a mapping")
    return data


def _table(raw: object) -> dict[str, tuple[str, ...]]:
    if not isinstance(raw, dict):
        return {}
    return {str(k): tuple(str(a).lower() for a in (v or [])) for k, v in raw.items()}


def _pairs(raw: object) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}


def _words(raw: object) -> list[str]:
    return [str(k).lower() for k in raw] if isinstance(raw, list) else []


@lru_cache(maxsize=8)
def load_vocabulary(extra: Path | None = None) -> Vocabulary:
    base = _read(None)
    tech = _table(base.get("technologies"))
    delphix = _table(base.get("delphix_objects"))
    keywords = _words(base.get("pipeline_keywords"))
    if extra is not None:
        more = _read(extra)
        for target, key in ((tech, "technologies"), (delphix, "delphix_objects")):
            for canonical, aliases in _table(more.get(key)).items():
                target[canonical] = tuple(dict.fromkeys([*target.get(canonical, ()), *aliases]))
        keywords += _words(more.get("pipeline_keywords"))
    return Vocabulary(tech, delphix, tuple(dict.fromkeys(keywords)))


_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")


def identifier_words(name: str) -> str:
    """``RefreshVDBBySnapshotParameters`` -> ``Refresh VDB By Snapshot Parameters`` (also snake and
    kebab case), so full-text search finds identifiers by their words."""
    return " ".join(_CAMEL.findall(name))
