"""Syntax-tree reading shared by the tree-sitter walker and its call recognisers: node text,
quotes, calls and their arguments in every language, parameters, assignments."""

from __future__ import annotations

import re
from typing import Any

Node = Any  # tree_sitter.Node (the binding ships no stubs mypy can use)

_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


_STRINGS = {
    "string",
    "string_literal",
    "interpreted_string_literal",
    "raw_string_literal",
    "template_string",
    "interpolated_string_expression",
    "verbatim_string_literal",
    "raw_string",
    "character_literal",
    "interpolated_string_literal",  # Perl "…$x…"
    "encapsed_string",  # PHP "…{$x}…"
    "string_lit",  # HCL
}


_QUOTED = re.compile(r'^[@$]*(\"\"\"|"|\'|`)(.*)\1$', re.S)


_FUNCTION_VALUES = {"arrow_function", "function_expression", "function", "func_literal", "lambda_literal"}


_CLIENT_HINTS = ("http", "client", "axios", "request", "rest", "api", "session", "fetch", "ktor", "got")


# receivers named after a client by convention, as whole words: Perl's $ua (LWP/Mojo::UserAgent),
# WWW::Mechanize's $mech, Ruby Faraday's conn, PHP Guzzle, Rust reqwest
_CLIENT_TOKENS = frozenset(
    {"ua", "agent", "useragent", "mech", "conn", "faraday", "httparty", "guzzle", "reqwest"}
)


_ROUTER_HINTS = ("app", "router", "route", "server", "engine", "mux", "group", "r", "e", "g", "v1", "api_v1")


_REST_TEMPLATE = {
    "getforobject": "GET",
    "getforentity": "GET",
    "postforobject": "POST",
    "postforentity": "POST",
    "postforlocation": "POST",
    "patchforobject": "PATCH",
}


def _text(node: Node | None) -> str:
    return node.text.decode("utf-8", "replace") if node is not None else ""


def _unquote(raw: str) -> str:
    match = _QUOTED.match(raw.strip())
    return match.group(2) if match else raw.strip().strip("\"'`")


def _type_name(node: Node) -> str:
    """The simple name of a declared type: ``*Client`` / ``List<Vdb>`` / ``: DctApi`` -> its first type."""
    for current in _descendants(node):
        if current.type == "type_identifier" or (current.type == "identifier" and current is not node):
            return _text(current)
    return ""


_ASSIGNMENTS = ("assignment_expression", "assignment", "property_element")


_SIGIL_NAMES = ("scalar", "variable_name", "variable", "constant")


def _single(node: Node | None) -> Node | None:
    """Down a chain of one-child wrappers (PowerShell nests an expression ten levels deep)."""
    while node is not None and node.named_child_count == 1 and node.type not in (*_STRINGS, *_SIGIL_NAMES):
        node = node.named_children[0]
    return node


def _assigned(node: Node) -> tuple[Node | None, Node | None]:
    """(name, value) of an assignment in the languages whose variables carry sigils."""
    if node.type == "property_element":  # PHP: private $base = "…";
        return node.child_by_field_name("name"), node.child_by_field_name("default_value")
    left = node.child_by_field_name("left") or (node.named_children[0] if node.named_children else None)
    value = node.child_by_field_name("right") or node.child_by_field_name("value")
    if left is not None and left.type == "variable_declaration":  # Perl: my $base
        left = left.child_by_field_name("variable")
    return _single(left), _single(value)


def _constructed(value: Node) -> str:
    """``new Client(…)``, ``inject(Service)``, ``TestBed.inject(Service)``: the type made or asked for."""
    if value.type in ("new_expression", "object_creation_expression"):
        ctor = value.child_by_field_name("constructor") or value.child_by_field_name("type")
        return _type_name(ctor) if ctor is not None and ctor.type != "identifier" else _text(ctor)
    if value.type == "call_expression":
        callee = _text(value.child_by_field_name("function")).rsplit(".", 1)[-1]
        args = _arguments(value.child_by_field_name("arguments"))
        if callee == "inject" and args and args[0].type == "identifier":
            return _text(args[0])
    return ""


def _object_name(pair: Node) -> str:
    """The name an object literal is bound to (``const requests = {…}``, ``api.x = {…}``)."""
    parent = pair.parent
    if parent is None or parent.type != "object":
        return ""
    holder = parent.parent
    if holder is not None and holder.type == "variable_declarator":
        return _text(holder.child_by_field_name("name"))
    if holder is not None and holder.type == "assignment_expression":
        return _text(holder.child_by_field_name("left")).rsplit(".", 1)[-1]
    return ""


_PARAM_NAMES = ("identifier", "simple_identifier", "variable_name", "variable", "scalar")


_SIGILS = "$@%&"


def _bare(node: Node) -> str:
    """A variable's name without its sigil (Perl ``$path``, PHP ``$path``, PowerShell ``$Path``)."""
    return _text(node).lstrip(_SIGILS)


def _parameters(node: Node) -> tuple[str, ...]:
    """Positional parameter names of a function node, in order, whatever the language (Perl
    unpacks ``@_`` in its body; PowerShell declares ``($Path)`` or a ``param(…)`` block)."""
    if node.type in ("variable_declarator", "pair"):  # const f = (a, b) => … / { f: (a) => … }
        node = node.child_by_field_name("value") or node
    if node.type == "subroutine_declaration_statement":
        return _perl_parameters(node)
    if node.type == "function_statement":
        declared = next(
            (c for c in _descendants(node) if c.type in ("function_parameter_declaration", "param_block")),
            None,
        )
        found = [c for c in _descendants(declared) if c.type == "script_parameter"] if declared else []
        return tuple(_bare(v) for p in found for v in p.named_children[:1] if v.type == "variable")
    params = node.child_by_field_name("parameters") or node.child_by_field_name("parameter")
    if params is None:
        params = next(
            (c for c in node.named_children if c.type in ("function_value_parameters", "parameters")), None
        )
    if params is None:
        return ()
    if params.type == "identifier":  # x => …
        return (_text(params),)
    names: list[str] = []
    for child in params.named_children:
        if child.type in _PARAM_NAMES:
            names.append(_bare(child))
            continue
        found = [
            child.child(i)
            for i in range(child.child_count)
            if child.field_name_for_child(i) in ("name", "pattern")
        ]
        if not found:
            found = [c for c in child.named_children if c.type in _PARAM_NAMES][:1]
        names += [_bare(n) for n in found if n is not None and n.type in _PARAM_NAMES]
    return tuple(names)


def _perl_parameters(sub: Node) -> tuple[str, ...]:
    """``my ($self, $path, $body) = @_;`` or ``my $path = shift;`` at the top of a sub (the
    invocant ``$self``/``$class`` is not an argument at a method's call sites)."""
    body = sub.child_by_field_name("body")
    names: list[str] = []
    for statement in (body.named_children if body is not None else [])[:4]:
        assign = statement.named_children[0] if statement.named_children else None
        if assign is None or assign.type != "assignment_expression":
            continue
        right = _text(assign.child_by_field_name("right")).strip()
        if right not in ("@_", "shift", "shift @_", "shift()"):
            continue
        left = assign.child_by_field_name("left")
        names += [_bare(v) for v in _descendants(left) if v.type == "scalar"] if left else []
    return tuple(names[1:] if names[:1] and names[0] in ("self", "class", "this") else names)


def _descendants(node: Node) -> list[Node]:
    out, stack = [], [node]
    while stack:
        current = stack.pop()
        out.append(current)
        stack.extend(reversed(current.named_children))
    return out


def _call_parts(node: Node, lang: str) -> tuple[Node | None, str, list[Node]]:
    """(receiver node, called simple name, argument expressions) of a call in any language."""
    if node.type == "method_invocation":  # Java
        return (
            node.child_by_field_name("object"),
            _text(node.child_by_field_name("name")),
            _arguments(node.child_by_field_name("arguments")),
        )
    if node.type == "method_call_expression":  # Perl $ua->post(…)
        return (
            node.child_by_field_name("invocant"),
            _text(node.child_by_field_name("method")),
            _arguments(node.child_by_field_name("arguments")),
        )
    if node.type in ("member_call_expression", "scoped_call_expression", "call"):  # PHP, Ruby
        return (
            node.child_by_field_name("object")
            or node.child_by_field_name("scope")
            or node.child_by_field_name("receiver"),
            _text(node.child_by_field_name("name") or node.child_by_field_name("method")),
            _arguments(node.child_by_field_name("arguments")),
        )
    if node.type in ("function_call_expression", "ambiguous_function_call_expression") and lang in (
        "perl",
        "php",
    ):
        return (
            None,
            _text(node.child_by_field_name("function")),
            _arguments(node.child_by_field_name("arguments")),
        )
    if node.type == "juxt_function_call":  # Groovy: sh 'make'
        return None, _text(node.child_by_field_name("name")), _arguments(node.child_by_field_name("args"))
    if node.type == "object_creation_expression":
        return (
            None,
            _text(node.child_by_field_name("type")),
            _arguments(node.child_by_field_name("arguments")),
        )
    callee = node.child_by_field_name("function")
    args_node = node.child_by_field_name("arguments")
    if callee is None and node.named_child_count:  # Kotlin: call_expression(callee, value_arguments)
        callee = node.named_children[0]
        args_node = next(
            (c for c in node.named_children if c.type in ("value_arguments", "call_suffix")), None
        )
        if args_node is not None and args_node.type == "call_suffix":
            args_node = next((c for c in args_node.named_children if c.type == "value_arguments"), None)
    if callee is None:
        return None, "", []
    if callee.type in ("identifier", "simple_identifier"):
        return None, _text(callee), _arguments(args_node)
    receiver = (
        callee.child_by_field_name("object")
        or callee.child_by_field_name("operand")
        or callee.child_by_field_name("expression")
        or callee.child_by_field_name("value")
    )
    name_node = (
        callee.child_by_field_name("property")
        or callee.child_by_field_name("field")
        or callee.child_by_field_name("name")
    )
    if name_node is None and callee.named_child_count >= 2:  # Kotlin navigation_expression
        receiver, name_node = callee.named_children[0], callee.named_children[-1]
    return receiver, _text(name_node), _arguments(args_node)


def _arguments(node: Node | None) -> list[Node]:
    if node is None:
        return []
    if node.type in _STRINGS or node.type in ("scalar", "binary_expression", "identifier"):
        return [node]  # Perl: get("…") has the expression itself as its arguments
    args = []
    for child in node.named_children:
        if child.type in ("comment", "block_comment", "line_comment"):
            continue
        if child.type in ("argument", "value_argument") and child.named_child_count:
            child = child.named_children[-1]
        args.append(child)
    return args


def _verb(text: str) -> str:
    word = text.rsplit(".", 1)[-1].strip("\"'` ").upper()
    return word if word in _METHODS else ""


def _fetch_method(options: Node | None) -> str:
    if options is not None and options.type == "object":
        for pair in options.named_children:
            if pair.type == "pair" and _text(pair.child_by_field_name("key")).strip("\"'") == "method":
                return _verb(_text(pair.child_by_field_name("value"))) or "GET"
    return "GET"
