"""URL templates from Python expressions, and HTTP wrappers followed to their call sites.

Real API clients rarely call ``requests.post("/vdbs/...")`` directly: they go through small
helpers (``def url_post(path, body): return requests.post(BASE + "/v3" + path, ...)``) and build
paths from module constants (``base_url = "/vdbs"``) plus a literal suffix passed by the caller.
So a URL is resolved from:

* string literals, f-strings, ``+`` (either side), ``"...".format(...)``, ``"..." % (...)``,
  ``urljoin(a, b)``, ``os.path.join`` / ``posixpath.join``;
* module-level and class-level string constants, and ``self.x`` set from one in ``__init__``;
* the enclosing function's parameters, marked ``{param:NAME}`` so the function can be recognised
  as a **wrapper**: a function one of whose parameters reaches the URL of an HTTP client call.

Each call site of a wrapper becomes an HTTP call whose URL is the wrapper's template with the
argument's own template substituted; parts that cannot be resolved become ``{name}``. The method
comes from the client call, else from a method argument, else from the wrapper's name. Resolution
is bounded (depth limit; a wrapper calling itself resolves nothing)."""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = [
    "HTTP_METHODS",
    "Resolver",
    "Wrapper",
    "dotted",
    "method_from_name",
    "module_constants",
    "strip_params",
]

HTTP_METHODS = ("get", "post", "put", "patch", "delete", "head", "options")
_MAX_DEPTH = 12
_PARAM = re.compile(r"\{param:(\w+)\}")
_PASSTHROUGH = frozenset({"strip", "lstrip", "rstrip", "lower", "removeprefix", "removesuffix"})
# percent-encoders: the URL part is what they encode (``quote(vdb_id)`` is the ``vdb_id`` part)
_ENCODERS = frozenset({"quote", "quote_plus", "escape"})
_JOINERS = {"urljoin", "join", "urllib.parse.urljoin", "parse.urljoin", "os.path.join", "posixpath.join"}


def strip_params(template: str) -> str:
    """``{param:path}`` markers -> ``{path}`` (what is stored once no call site fills them)."""
    return _PARAM.sub(lambda m: "{" + m.group(1) + "}", template)


def method_from_name(name: str) -> str | None:
    """``url_GET`` / ``post_json`` / ``deleteResource`` -> the HTTP method the name says."""
    words: list[str] = re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])", name)
    for word in words:
        if word.lower() in HTTP_METHODS:
            return str(word).upper()
    return None


def dotted(node: ast.expr) -> str:
    """``self.session.get`` for an attribute chain (a call counts as what it calls)."""
    if isinstance(node, ast.Attribute):
        return f"{dotted(node.value)}.{node.attr}"
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Call):
        return dotted(node.func)
    return ""


def _label(node: ast.expr) -> str:
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Call):
        return _label(node.func)
    return "param"


def _join(left: str, right: str) -> str:
    if right.startswith(("http://", "https://")):
        return right
    return left.rstrip("/") + "/" + right.lstrip("/")


@dataclass(frozen=True)
class Wrapper:
    """A function that hands one of its parameters to an HTTP client as (part of) the URL."""

    name: str
    params: tuple[str, ...]  # positional parameter names, ``self`` excluded for methods
    template: str  # with ``{param:NAME}`` markers
    method: str | None  # fixed method, or None when it comes from ``method_param``
    method_param: str | None = None
    # the wrapper's own node, so each call made through it is linked to it as well as to the
    # code calling it (not part of equality: the same helper found twice is one helper)
    uid: str = field(default="", compare=False)

    def fill(
        self, given: Mapping[str, str | None], method_value: str | None = None
    ) -> tuple[str, str] | None:
        """(method, url) from argument templates already resolved at a call site (tree-sitter
        languages), or None when no URL parameter is given. An argument that did not resolve
        becomes ``{name}``."""
        method = self.method
        if method is None and self.method_param and method_value:
            word = re.sub(r"(?i)^method", "", method_value.rsplit(".", 1)[-1].strip("\"'` ")).upper()
            method = word if word.lower() in HTTP_METHODS else None
        method = method or method_from_name(self.name) or "GET"
        if not set(_PARAM.findall(self.template)) & set(given):
            return None

        def put(match: re.Match[str]) -> str:
            value = given.get(match.group(1))
            return value if value is not None else "{" + match.group(1) + "}"

        return method, re.sub(r"(?<!:)/{2,}", "/", _PARAM.sub(put, self.template))

    def call(self, node: ast.Call, resolver: Resolver, scope: Mapping[str, str]) -> tuple[str, str] | None:
        """(method, url) of one call site, or None when no URL parameter is given."""
        given: dict[str, ast.expr] = dict(zip(self.params, node.args, strict=False))
        given.update({kw.arg: kw.value for kw in node.keywords if kw.arg})
        method = self.method
        if method is None and self.method_param:
            arg = given.get(self.method_param)
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                method = arg.value.upper()
        method = method or method_from_name(self.name) or "GET"
        used = set(_PARAM.findall(self.template))
        if not used & set(given):
            return None

        def fill(match: re.Match[str]) -> str:
            arg = given.get(match.group(1))
            if arg is None:
                return "{" + match.group(1) + "}"
            return resolver.template(arg, scope) or "{" + _label(arg) + "}"

        return method, re.sub(r"(?<!:)/{2,}", "/", _PARAM.sub(fill, self.template))


class Resolver:
    """Resolves expressions to URL templates with the file's constants."""

    def __init__(self, constants: Mapping[str, str]) -> None:
        self.constants = dict(constants)

    def template(self, node: ast.expr, scope: Mapping[str, str], depth: int = 0) -> str | None:
        """A URL template for ``node``, or None when it is not string-like at all. ``scope`` maps
        names visible in the enclosing function (parameters -> ``{param:x}``, local constants)."""
        if depth > _MAX_DEPTH:
            return None
        nxt = depth + 1
        if isinstance(node, ast.Constant):
            return node.value if isinstance(node.value, str) else None
        if isinstance(node, ast.Name):
            if node.id in scope:
                return scope[node.id]
            return self.constants.get(node.id)
        if isinstance(node, ast.Attribute):
            chain = dotted(node)
            if chain in scope:  # narrowed by an enclosing ``if args.command == "stop":``
                return scope[chain]
            return self.constants.get(chain) or self.constants.get(node.attr)
        if isinstance(node, ast.JoinedStr):
            parts = []
            for value in node.values:
                if isinstance(value, ast.Constant):
                    parts.append(str(value.value))
                elif isinstance(value, ast.FormattedValue):
                    inner = self.template(value.value, scope, nxt)
                    parts.append(inner if inner is not None else "{" + _label(value.value) + "}")
            return "".join(parts)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = self.template(node.left, scope, nxt), self.template(node.right, scope, nxt)
            if left is None and right is None:
                return None
            return (left if left is not None else "{" + _label(node.left) + "}") + (
                right if right is not None else "{" + _label(node.right) + "}"
            )
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
            fmt = self.template(node.left, scope, nxt)
            if fmt is None:
                return None
            values = node.right.elts if isinstance(node.right, ast.Tuple) else [node.right]
            filled = [self.template(v, scope, nxt) or "{" + _label(v) + "}" for v in values]
            parts = re.split(r"%[sdirf]", fmt)
            out = parts[0]
            for i, part in enumerate(parts[1:]):
                out += (filled[i] if i < len(filled) else "{param}") + part
            return out
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in _PASSTHROUGH:
                return self.template(func.value, scope, nxt)  # path.lstrip("/"), str(url)
            if isinstance(func, ast.Name) and func.id == "str" and len(node.args) == 1:
                return self.template(node.args[0], scope, nxt)
            if _label(func) in _ENCODERS and node.args:
                inner = self.template(node.args[0], scope, nxt)
                return inner if inner is not None else "{" + _label(node.args[0]) + "}"
            if isinstance(func, ast.Attribute) and func.attr == "format":
                fmt = self.template(func.value, scope, nxt)
                if fmt is None:
                    return None
                positional = [self.template(a, scope, nxt) or "{" + _label(a) + "}" for a in node.args]
                named = {
                    kw.arg: self.template(kw.value, scope, nxt) or "{" + kw.arg + "}"
                    for kw in node.keywords
                    if kw.arg
                }
                counter = iter(positional)

                def sub(match: re.Match[str]) -> str:
                    key = match.group(1)
                    if not key:
                        return next(counter, "{param}")
                    if key.isdigit():
                        index = int(key)
                        return positional[index] if index < len(positional) else "{param}"
                    return named.get(key, "{" + key + "}")

                return re.sub(r"\{(\w*)\}", sub, fmt)
            if dotted(func) in _JOINERS and len(node.args) >= 2:
                pieces: list[str | None] = [self.template(a, scope, nxt) for a in node.args]
                if all(p is None for p in pieces):
                    return None
                joined = pieces[0] if pieces[0] is not None else "{" + _label(node.args[0]) + "}"
                for arg, piece in zip(node.args[1:], pieces[1:], strict=True):
                    joined = _join(joined, piece if piece is not None else "{" + _label(arg) + "}")
                return joined
        return None


def module_constants(tree: ast.Module) -> dict[str, str]:
    """String constants at module and class level, and ``self.x = <constant>`` in ``__init__``
    (keys ``NAME``, ``Class.NAME`` and ``NAME``), resolved in order so later ones may use earlier ones."""
    resolver = Resolver({})

    def record(target: ast.expr, value: ast.expr, prefix: str = "") -> None:
        text = resolver.template(value, {})
        if text is None:
            return
        if isinstance(target, ast.Name):
            resolver.constants[target.id] = text
            if prefix:
                resolver.constants[f"{prefix}.{target.id}"] = text
        elif isinstance(target, ast.Attribute) and dotted(target.value) == "self":
            resolver.constants[f"self.{target.attr}"] = text
            resolver.constants.setdefault(target.attr, text)

    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            record(stmt.targets[0], stmt.value)
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            record(stmt.target, stmt.value)
        elif isinstance(stmt, ast.ClassDef):
            for inner in stmt.body:
                if isinstance(inner, ast.Assign) and len(inner.targets) == 1:
                    record(inner.targets[0], inner.value, stmt.name)
                elif isinstance(inner, ast.FunctionDef) and inner.name == "__init__":
                    for sub in ast.walk(inner):
                        if isinstance(sub, ast.Assign) and len(sub.targets) == 1:
                            record(sub.targets[0], sub.value)
    return resolver.constants
