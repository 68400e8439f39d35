"""Every GraphQL field and argument is described, and the descriptions table names only real ones."""

from __future__ import annotations

import pytest

from flowrag.api.descriptions import DESCRIPTIONS, describe
from flowrag.api.schema import build_schema

pytestmark = pytest.mark.unit


def test_every_field_and_argument_has_a_description() -> None:
    schema = build_schema(10)
    missing = []
    for name, kind in schema._schema.type_map.items():
        if name.startswith("__") or not hasattr(kind, "fields"):
            continue
        for field_name, definition in kind.fields.items():
            if not (definition.description or "").strip():
                missing.append(f"{name}.{field_name}")
            for arg_name, argument in getattr(definition, "args", {}).items():
                if not (argument.description or "").strip():
                    missing.append(f"{name}.{field_name}({arg_name})")
    assert missing == [], "describe them inline or in flowrag/api/descriptions.py"


def test_the_table_names_only_fields_the_schema_has() -> None:
    assert describe(build_schema(10)) == []
    assert all(text.strip() for text in DESCRIPTIONS.values())
