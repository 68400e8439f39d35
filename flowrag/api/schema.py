"""The strawberry GraphQL schema: ask, search, explore, typed domain lists, ingestion jobs. The
types are in api/types.py, the resolvers in api/queries.py and api/mutations.py, the request limits
in api/limits.py; this module puts them together."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.extensions import AddValidationRules, MaskErrors, QueryDepthLimiter

from flowrag.api.descriptions import describe
from flowrag.api.limits import _should_mask, cost_limit, root_field_limit
from flowrag.api.mutations import Mutation, Subscription
from flowrag.api.queries import Query
from flowrag.api.types import Context, node_loader

__all__ = ["Context", "build_schema", "node_loader"]


def build_schema(
    max_depth: int, max_root_fields: int = 10, max_cost: int = 50_000, timer: type[Any] | None = None
) -> strawberry.Schema:
    """``timer``: a schema extension timing each operation (the server's metrics)."""
    extensions: list[Any] = [
        lambda: QueryDepthLimiter(max_depth=max_depth),
        lambda: AddValidationRules([root_field_limit(max_root_fields), cost_limit(max_cost)]),
        lambda: MaskErrors(should_mask_error=_should_mask, error_message="internal error"),
    ]
    if timer is not None:
        extensions.insert(0, timer)
    from flowrag import tracing

    if tracing.enabled():  # each operation a span, parent of the answer path's spans
        from strawberry.extensions.tracing import OpenTelemetryExtension

        extensions.insert(0, OpenTelemetryExtension)
    schema = strawberry.Schema(
        query=Query, mutation=Mutation, subscription=Subscription, extensions=extensions
    )
    describe(schema)
    return schema
