"""Python source -> File, Class, Function, Route, HttpCall rows (Python ``ast``, no regexes on code).

Routes: FastAPI/Flask style decorators (``@app.get("/x")``, ``@router.post``, ``@app.route("/x",
methods=[...])``). HTTP calls: ``requests``/``httpx``/session objects (``.get/.post/...(url)``),
``requests.request("POST", url)``, with f-strings turned into URL templates (``{vdb_id}``).
Imports are kept as raw module names for the linker; calls as simple names."""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Mapping
from dataclasses import dataclass

from flowrag.extract.code.python_urls import (
    Resolver,
    Wrapper,
    dotted,
    method_from_name,
    module_constants,
    strip_params,
)
from flowrag.extract.code.rows import (
    CodeExtract,
    Symbol,
    contains,
    file_uid,
    http_call_row,
    route_row,
    symbol_row,
    symbol_uid,
)
from flowrag.schema import RelRow, RelType

__all__ = ["extract_python", "find_wrappers"]

_HTTP_METHODS = {"get", "post", "put", "patch", "delete", "head", "options"}
_CLIENT_HINTS = ("requests", "httpx", "session", "client", "http", "api")


def _signature(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    try:
        args = ast.unparse(fn.args)
    except Exception:
        args = "..."
    returns = f" -> {ast.unparse(fn.returns)}" if fn.returns is not None else ""
    prefix = "async def" if isinstance(fn, ast.AsyncFunctionDef) else "def"
    return f"{prefix} {fn.name}({args}){returns}"


_LINE_SPLIT = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


@dataclass
class _Site:
    """A call that may go through a wrapper, kept until every wrapper of the file is known."""

    name: str
    node: ast.Call
    scope: dict[str, str]
    owner: str
    caller: str
    within: str | None  # the function making the call (a wrapper does not resolve itself)


class _Visitor(ast.NodeVisitor):
    def __init__(self, repo: str, path: str, source: str, out: CodeExtract, tree: ast.Module) -> None:
        self.repo, self.path, self.source, self.out = repo, path, source, out
        self._lines: list[str] | None = None  # the source's lines, split once (bodies are slices)
        self._tokens: list[tuple[int, bool, str]] | None = None  # (line, is comment, text)
        self.file_uid = file_uid(repo, path)
        self.stack: list[tuple[str, str, bool]] = []  # (name, uid, is_class)
        self.calls: dict[str, list[str]] = {}  # function uid -> callee simple names
        self.resolver = Resolver(module_constants(tree))
        self.scopes: list[dict[str, str]] = [{}]  # names visible in the current function
        self.params: list[tuple[str, ...]] = [()]
        self.wrappers: dict[str, Wrapper] = {}
        self.sites: list[_Site] = []
        self.inner_calls: dict[str, list[int]] = {}  # wrapper name -> indexes of its own HttpCall rows
        self.params_of: dict[str, tuple[str, ...]] = {}  # function name -> positional parameters
        self.methods: set[str] = set()  # wrappers that are methods (not importable by name)
        self.local: set[str] = set()  # uids of the functions defined in this file
        self.top_level: set[str] = {
            n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
        }

    def _notes(self, start: int, end: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The comments and string literals on lines ``start..end`` (the file is tokenized once)."""
        if self._tokens is None:
            self._tokens = []
            try:
                for tok in tokenize.generate_tokens(io.StringIO(self.source).readline):
                    if tok.type == tokenize.COMMENT:
                        self._tokens.append((tok.start[0], True, tok.string))
                    elif tok.type == tokenize.STRING:
                        self._tokens.append((tok.start[0], False, _string_value(tok.string)))
                    elif tok.type == _FSTRING_MIDDLE:  # Python 3.12+: f-strings are split up
                        self._tokens.append((tok.start[0], False, tok.string))
            except (tokenize.TokenError, SyntaxError, ValueError):
                pass  # what was read so far is kept (ast parsed the file, so this is rare)
        inside = [(is_comment, text) for line, is_comment, text in self._tokens if start <= line <= end]
        return (
            tuple(text for is_comment, text in inside if is_comment),
            tuple(text for is_comment, text in inside if not is_comment),
        )

    def _segment(self, node: ast.AST) -> str:
        """The source of ``node`` (``ast.get_source_segment`` splits the whole file on every call:
        quadratic on a large module; here the lines are split once)."""
        if self._lines is None:
            self._lines = _LINE_SPLIT.findall(self.source)  # the lines ast counts (not \f, \v…)
        start, end = getattr(node, "lineno", 0), getattr(node, "end_lineno", 0)
        if not start or not end or end > len(self._lines):
            return ""
        first, last = getattr(node, "col_offset", 0), getattr(node, "end_col_offset", None)
        if start == end:
            return self._lines[start - 1].encode()[first:last].decode("utf-8", "replace")
        head = self._lines[start - 1].encode()[first:].decode("utf-8", "replace")
        tail = self._lines[end - 1].encode()[:last].decode("utf-8", "replace")
        return head + "".join(self._lines[start : end - 1]) + tail

    def _owner(self) -> str:
        return self.stack[-1][1] if self.stack else self.file_uid

    def _qual(self, name: str) -> str:
        return ".".join([*(q for q, _, _ in self.stack), name])

    def visit_Import(self, node: ast.Import) -> None:
        self.out.imports += [alias.name for alias in node.names]

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = "." * node.level + (node.module or "")
        self.out.imports.append(module)
        if node.module is None:  # from . import a, b: each may be a module
            self.out.imports += [f"{module}{alias.name}" for alias in node.names]

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        qual = self._qual(node.name)
        symbol = Symbol(
            "class",
            qual,
            node.lineno,
            node.end_lineno or node.lineno,
            "python",
            signature=f"class {qual}",
            doc=ast.get_docstring(node) or "",
        )
        row = symbol_row(self.repo, self.path, symbol)
        self.out.nodes.append(row)
        self.out.rels.append(contains(self._owner(), row))
        self.stack.append((node.name, row.uid, True))
        self.generic_visit(node)
        self.stack.pop()

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        qual = self._qual(node.name)
        uid = symbol_uid(self.repo, self.path, qual, is_class=False)
        self.calls[uid] = []
        names = [a.arg for a in [*node.args.posonlyargs, *node.args.args]]
        if names and names[0] in ("self", "cls") and self.stack and self.stack[-1][2]:
            names = names[1:]
        keyword_only = [a.arg for a in node.args.kwonlyargs]
        scope = {**self.scopes[-1], **{n: "{param:" + n + "}" for n in [*names, *keyword_only]}}
        self.scopes.append(scope)
        self.params.append(tuple(names))
        self.params_of[node.name] = tuple(names)
        self.local.add(uid)
        self.stack.append((node.name, uid, False))
        self.generic_visit(node)
        self.stack.pop()
        self.scopes.pop()
        self.params.pop()
        in_class = bool(self.stack) and self.stack[-1][2]
        comments, literals = self._notes(node.lineno, node.end_lineno or node.lineno)
        symbol = Symbol(
            "method" if in_class else "function",
            qual,
            node.lineno,
            node.end_lineno or node.lineno,
            "python",
            signature=_signature(node),
            doc=ast.get_docstring(node) or "",
            body=self._segment(node),
            calls=tuple(self.calls[uid]),
            comments=comments,
            literals=literals,
        )
        row = symbol_row(self.repo, self.path, symbol)
        self.out.nodes.append(row)
        self.out.rels.append(contains(self._owner(), row))
        for deco in node.decorator_list:
            self._route(deco, uid, qual, node.lineno)

    visit_FunctionDef = _function
    visit_AsyncFunctionDef = _function

    def _route(self, deco: ast.expr, handler: str, qual: str, line: int) -> None:
        if not isinstance(deco, ast.Call) or not isinstance(deco.func, ast.Attribute) or not deco.args:
            return
        attr = deco.func.attr.lower()
        path = self.resolver.template(deco.args[0], {})
        if path is None or not path.startswith("/"):
            return
        methods: list[str] = []
        if attr in _HTTP_METHODS:
            methods = [attr.upper()]
        elif attr in ("route", "api_route"):
            for kw in deco.keywords:
                if kw.arg == "methods" and isinstance(kw.value, ast.List | ast.Tuple):
                    methods = [str(e.value).upper() for e in kw.value.elts if isinstance(e, ast.Constant)]
            methods = methods or ["GET"]
        for method in methods:
            row = route_row(self.repo, self.path, method, path, qual, line, dotted(deco.func.value))
            self.out.nodes.append(row)
            self.out.rels.append(RelRow(RelType.SERVES, handler, row.uid))

    def visit_If(self, node: ast.If) -> None:
        """Each branch sees its own copy of the names in scope: a value assigned in a branch
        (``if ops == "snapshot": ops = "snapshots"``) is not the value after the ``if``, and a
        name compared to a literal (``if args.command == "stop":``) has that value in the body,
        so a script's dispatch resolves the command it passes on."""
        self.visit(node.test)
        narrowed = _equality_guard(node.test)
        for branch, extra in ((node.body, narrowed), (node.orelse, None)):
            self.scopes.append({**self.scopes[-1], **(extra or {})})
            for stmt in branch:
                self.visit(stmt)
            self.scopes.pop()

    def visit_Assign(self, node: ast.Assign) -> None:
        """Local string values (``url = BASE + path``) are visible to later calls in the function."""
        if self.stack and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            text = self.resolver.template(node.value, self.scopes[-1])
            if text is not None:
                self.scopes[-1][node.targets[0].id] = text
        self.generic_visit(node)

    def _client_call(self, node: ast.Call, func: ast.Attribute) -> tuple[str | None, str | None, str | None]:
        """(method, url template, method parameter) of an HTTP client call, else Nones."""
        method = func.attr.lower()
        owner = dotted(func.value).lower()
        url_arg: ast.expr | None = None
        method_param = None
        if method in _HTTP_METHODS and any(h in owner for h in _CLIENT_HINTS):
            url_arg = node.args[0] if node.args else _keyword(node, "url")
            verb: str | None = method.upper()
        elif method == "request" and (len(node.args) >= 2 or _keyword(node, "url") is not None):
            url_arg = node.args[1] if len(node.args) >= 2 else _keyword(node, "url")
            first = node.args[0] if node.args else _keyword(node, "method")
            verb = None
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                verb = first.value.upper()
            elif isinstance(first, ast.Name) and first.id in self.params[-1]:
                method_param = first.id
        else:
            return None, None, None
        url = self.resolver.template(url_arg, self.scopes[-1]) if url_arg is not None else None
        return verb, url, method_param

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        caller = self.stack[-1][0] if self.stack else self.path
        within = self.stack[-1][0] if self.stack and not self.stack[-1][2] else None
        if isinstance(func, ast.Attribute):
            verb, url, method_param = self._client_call(node, func)
            if url is not None and ("/" in url or "{" in url):
                if "{param:" in url and within is not None:
                    self.wrappers[within] = Wrapper(
                        within, self.params[-1], url, verb, method_param, uid=self.stack[-1][1]
                    )
                    if len(self.stack) > 1 or self.stack[0][2]:
                        self.methods.add(within)
                    self.inner_calls.setdefault(within, []).append(len(self.out.nodes))
                method = verb or (method_from_name(within or "") or "GET")
                row = http_call_row(self.repo, self.path, method, strip_params(url), caller, node.lineno)
                self.out.nodes.append(row)
                self.out.rels.append(RelRow(RelType.MAKES, self._owner(), row.uid))
            else:
                if self.stack and not self.stack[-1][2]:
                    self.calls[self.stack[-1][1]].append(func.attr)
                self.sites.append(
                    _Site(func.attr, node, dict(self.scopes[-1]), self._owner(), caller, within)
                )
        elif isinstance(func, ast.Name):
            if self.stack and not self.stack[-1][2]:
                self.calls[self.stack[-1][1]].append(func.id)
            self.sites.append(_Site(func.id, node, dict(self.scopes[-1]), self._owner(), caller, within))
        self.generic_visit(node)

    def resolve_wrappers(self) -> None:
        """Each call of a wrapper becomes an HTTP call at its own line; a wrapper whose calls were
        resolved drops its own ``{param}`` call (its call sites say more). Wrappers of wrappers
        (``url_post -> _request -> requests.request``) are followed a few levels."""
        resolved: set[int] = set()
        used: set[str] = set()
        for _ in range(4):
            added = False
            for site in self.sites:
                wrapper = self.wrappers.get(site.name)
                if wrapper is None or site.within == wrapper.name or id(site.node) in resolved:
                    continue
                found = wrapper.call(site.node, self.resolver, site.scope)
                if found is None:
                    continue
                method, url = found
                resolved.add(id(site.node))
                used.add(wrapper.name)
                row = http_call_row(
                    self.repo, self.path, method, strip_params(url), site.caller, site.node.lineno
                )
                if "{param:" in url and site.within is not None:
                    if site.within not in self.wrappers:
                        params = self.params_of.get(site.within, ())
                        self.wrappers[site.within] = Wrapper(site.within, params, url, method, uid=site.owner)
                        added = True
                    self.inner_calls.setdefault(site.within, []).append(len(self.out.nodes))
                self.out.nodes.append(row)
                self.out.rels.append(RelRow(RelType.MAKES, site.owner, row.uid))
                if site.within is None and wrapper.uid in self.local:
                    # a script's top level calls a helper of the same file: the helper is the
                    # function that makes the call ("which code rolls a VDB back?" reaches
                    # ``vdb_rollback``, not only the 400-line script). A call from inside a
                    # function is that function's, and a shared ``url_GET`` is never linked to
                    # every call (it would be the hub every endpoint question ends on).
                    self.out.rels.append(RelRow(RelType.MAKES, wrapper.uid, row.uid))
            if not added:
                break
        drop = {i for name in used for i in self.inner_calls.get(name, ())}
        if drop:
            gone = {self.out.nodes[i].uid for i in drop}
            self.out.nodes = [n for i, n in enumerate(self.out.nodes) if i not in drop]
            self.out.rels = [r for r in self.out.rels if r.end_uid not in gone]


_FSTRING_MIDDLE = getattr(tokenize, "FSTRING_MIDDLE", -1)
_STRING_PREFIX = re.compile(r"^[rRbBuUfF]{0,2}('{3}|\"{3}|'|\")")


def _string_value(token: str) -> str:
    """A string token without its prefix and quotes (f-string fields stay as written)."""
    match = _STRING_PREFIX.match(token)
    if not match:
        return token
    quote = match.group(1)
    inner = token[match.end() :]
    return inner[: -len(quote)] if inner.endswith(quote) else inner


def _equality_guard(test: ast.expr) -> dict[str, str] | None:
    """``{"args.command": "stop"}`` for ``args.command == "stop"`` (either side), else None."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return None
    left, right = test.left, test.comparators[0]
    for name, value in ((left, right), (right, left)):
        key = dotted(name) if isinstance(name, ast.Name | ast.Attribute) else ""
        if key and isinstance(value, ast.Constant) and isinstance(value.value, str):
            return {key: value.value}
    return None


def find_wrappers(source: str, repo: str = "", path: str = "") -> dict[str, Wrapper]:
    """The module-level functions of a file that are HTTP wrappers (for callers in other files);
    ``repo`` and ``path`` name their nodes, so calls made through them link back to them."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError):
        return {}
    visitor = _Visitor(repo, path, source, CodeExtract(), tree)
    try:
        visitor.visit(tree)
        visitor.resolve_wrappers()
    except RecursionError:
        return {}
    return {
        name: w
        for name, w in visitor.wrappers.items()
        if name in visitor.top_level and name not in visitor.methods
    }


def extract_python(
    repo: str, path: str, source: str, imported: Mapping[str, Wrapper] | None = None
) -> CodeExtract:
    """``imported``: wrappers defined in other files of the repository, by function name."""
    out = CodeExtract()
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError) as exc:
        out.problems.append(f"{path}: not parseable as Python ({exc.__class__.__name__}: {exc})")
        return out
    visitor = _Visitor(repo, path, source, out, tree)
    visitor.wrappers.update(imported or {})
    visitor.visit(tree)
    visitor.resolve_wrappers()
    out.summary += _script_summary(tree, out)
    return out


_CLI_TEXT = {"description", "help", "epilog", "usage"}


def _cli_texts(call: ast.Call) -> list[str]:
    """The literal description/help/epilog/usage keywords of an argparse or click call."""
    return [
        kw.value.value
        for kw in call.keywords
        if kw.arg in _CLI_TEXT and isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str)
    ]


def _script_summary(tree: ast.Module, out: CodeExtract) -> list[str]:
    """The module docstring, argparse/click command names and help texts, and the HTTP calls made
    outside any function or class (the work of a script's top level)."""
    parts: list[str] = []
    helps: list[str] = []
    doc = ast.get_docstring(tree)
    if doc:
        parts.append(doc[:600])
    commands: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr == "add_parser" and node.args and isinstance(node.args[0], ast.Constant):
                commands.append(str(node.args[0].value))
            if node.func.attr == "ArgumentParser":  # argparse.ArgumentParser(description=…)
                parts += _cli_texts(node)
            elif node.func.attr in ("add_parser", "add_argument", "command", "option"):
                helps += _cli_texts(node)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "ArgumentParser"
        ):
            parts += _cli_texts(node)
        elif isinstance(node, ast.FunctionDef) and any(
            dotted(d).endswith(("command", "group")) for d in node.decorator_list
        ):
            commands.append(f"{node.name} ({(ast.get_docstring(node) or '')[:200]})")
    if commands:
        parts.append("commands: " + ", ".join(dict.fromkeys(commands)))
    calls = [
        r.end_uid.split(":", 1)[1]
        for r in out.rels
        if r.type == RelType.MAKES and r.start_uid.startswith("File:")
    ]
    if calls:
        names = {n.uid: n.name for n in out.nodes if n.label == "HttpCall"}
        parts.append("calls " + ", ".join(dict.fromkeys(names.get(f"HttpCall:{c}", c) for c in calls[:30])))
    # what the script is, what it offers and what it calls first; option help texts last (a
    # script with 60 options would otherwise push its purpose out of the summary)
    return parts + helps


def _keyword(node: ast.Call, name: str) -> ast.expr | None:
    return next((kw.value for kw in node.keywords if kw.arg == name), None)
