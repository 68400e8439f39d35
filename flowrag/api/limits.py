"""Validation rules that bound what one request may cost: root fields, page sizes, selection depth,
and which errors are masked."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    ValidationRule,
)


def _should_mask(error: GraphQLError) -> bool:
    """Expected errors (with a code) go to the client; anything else is masked."""
    original = error.original_error
    if original is None:
        return False  # validation/parse errors are for the client
    if isinstance(original, GraphQLError):
        return False
    return not (error.extensions or {}).get("code")


def root_field_limit(limit: int) -> type[ValidationRule]:
    """A validation rule: at most ``limit`` root fields per operation, aliases and fragments
    included (200 aliased ``ask`` fields in one request would stall the server)."""

    class RootFieldLimit(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            count = 0
            stack = list(node.selection_set.selections)
            seen: set[str] = set()
            while stack:
                selection = stack.pop()
                if isinstance(selection, FieldNode):
                    if not selection.name.value.startswith("__"):
                        count += 1
                elif isinstance(selection, InlineFragmentNode):
                    stack += selection.selection_set.selections
                elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
                    seen.add(selection.name.value)
                    fragment = self.context.get_fragment(selection.name.value)
                    if fragment is not None:
                        stack += fragment.selection_set.selections
            if count > limit:
                self.report_error(
                    GraphQLError(
                        f"an operation may select at most {limit} root fields, this one selects {count}"
                    )
                )

    return RootFieldLimit


# The cost of a request: every selected field counts once per item it can be resolved for (a page
# size — `first`, `topK`, `cap` — multiplies what is selected below it: a literal counts as given,
# a variable at the argument's upper bound), and the fields that run the answer path, the report
# or a Mongo sample count as many fields. Introspection counts too (the depth limit skips it).
PAGE_ARGUMENTS = {"first": 500, "topK": 100, "cap": 200}
HEAVY_FIELDS = {"ask": 200, "askStream": 200, "report": 100, "sendReport": 100, "inspectMongo": 100}


def cost_limit(limit: int) -> type[ValidationRule]:
    """A validation rule: refuse an operation whose cost (above) exceeds ``limit``."""

    class CostLimit(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            depth = selection_depth(node.selection_set.selections, self.context.get_fragment)
            if depth > _introspection_depth():
                self.report_error(
                    GraphQLError(
                        f"this operation nests {depth} levels, over the limit of {_introspection_depth()} "
                        "(the standard introspection query's depth; introspection included)"
                    )
                )
                return
            total = self._cost(node.selection_set.selections, 1, frozenset())
            if total > limit:
                self.report_error(
                    GraphQLError(
                        f"this operation costs {total:,} (fields times page sizes), over the limit of "
                        f"{limit:,}: select fewer fields or ask for smaller pages"
                    )
                )

        def _cost(self, selections: Any, multiplier: int, fragments: frozenset[str]) -> int:
            total = 0
            for selection in selections:
                if isinstance(selection, FieldNode):
                    total += multiplier * HEAVY_FIELDS.get(selection.name.value, 1)
                    if selection.selection_set is not None:
                        total += self._cost(
                            selection.selection_set.selections, multiplier * _page_size(selection), fragments
                        )
                elif isinstance(selection, InlineFragmentNode):
                    total += self._cost(selection.selection_set.selections, multiplier, fragments)
                elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in fragments:
                    fragment = self.context.get_fragment(selection.name.value)
                    if fragment is not None:
                        total += self._cost(
                            fragment.selection_set.selections, multiplier, fragments | {selection.name.value}
                        )
                if total > 10**9:  # enough to refuse; stop walking
                    return total
            return total

    return CostLimit


def selection_depth(
    selections: Any, fragment: Callable[[str], Any], seen: frozenset[str] = frozenset()
) -> int:
    """How deep ``selections`` nest, fragments followed (each once per path), ``__`` fields included."""
    deepest = 0
    for selection in selections:
        if isinstance(selection, FieldNode):
            below = (
                selection_depth(selection.selection_set.selections, fragment, seen)
                if selection.selection_set
                else 0
            )
            deepest = max(deepest, 1 + below)
        elif isinstance(selection, InlineFragmentNode):
            deepest = max(deepest, selection_depth(selection.selection_set.selections, fragment, seen))
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
            found = fragment(selection.name.value)
            if found is not None:
                names = seen | {selection.name.value}
                deepest = max(deepest, selection_depth(found.selection_set.selections, fragment, names))
    return deepest


@functools.cache
def _introspection_depth() -> int:
    """How deep the standard introspection query (what GraphiQL sends) nests: no operation may
    nest deeper, introspection included (the depth limit of the API's own fields is lower)."""
    from graphql import get_introspection_query, parse

    document = parse(get_introspection_query(descriptions=True, input_value_deprecation=True))
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    return selection_depth(operation.selection_set.selections, fragments.get)


def _page_size(field: FieldNode) -> int:
    for argument in field.arguments or ():
        bound = PAGE_ARGUMENTS.get(argument.name.value)
        if bound is None:
            continue
        value = argument.value
        if isinstance(value, IntValueNode):
            return max(1, min(int(value.value), bound))
        return bound  # a variable: its value is not known at validation
    return 1
