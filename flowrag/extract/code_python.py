"""Python source -> File, Class, Function, Route, HttpCall rows (Python ``ast``, no regexes on code).

Routes: FastAPI/Flask style decorators (``@app.get("/x")``, ``@router.post``, ``@app.route("/x",
methods=[...])``). HTTP calls: ``requests``/``httpx``/session objects (``.get/.post/...(url)``),
``requests.request("POST", url)``, with f-strings turned into URL templates (``{vdb_id}``).
Imports are kept as raw module names for the linker; calls as simple names."""

from __future__ import annotations

import ast

from flowrag.extract.code_rows import (
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

__all__ = ["extract_python", "url_template"]

_HTTP_METHODS = {"get", "post", "put", "patch", "delete", "head", "options"}
_CLIENT_HINTS = ("requests", "httpx", "session", "client", "http", "api")


def url_template(node: ast.expr) -> str | None:
    """A string literal, an f-string (expressions become ``{name}``) or ``base + "/path"``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        parts = []
        for value in node.values:
            if isinstance(value, ast.Constant):
                parts.append(str(value.value))
            elif isinstance(value, ast.FormattedValue):
                inner = value.value
                name = (
                    inner.attr
                    if isinstance(inner, ast.Attribute)
                    else inner.id
                    if isinstance(inner, ast.Name)
                    else "param"
                )
                parts.append("{" + name + "}")
        return "".join(parts)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = url_template(node.left), url_template(node.right)
        if left is None and right is not None:
            left = "{base}"
        if left is not None and right is not None:
            return left + right
    return None


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Call):
        return _dotted(node.func)
    return ""


def _signature(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    try:
        args = ast.unparse(fn.args)
    except Exception:
        args = "..."
    returns = f" -> {ast.unparse(fn.returns)}" if fn.returns is not None else ""
    prefix = "async def" if isinstance(fn, ast.AsyncFunctionDef) else "def"
    return f"{prefix} {fn.name}({args}){returns}"


class _Visitor(ast.NodeVisitor):
    def __init__(self, repo: str, path: str, source: str, out: CodeExtract) -> None:
        self.repo, self.path, self.source, self.out = repo, path, source, out
        self.file_uid = file_uid(repo, path)
        self.stack: list[tuple[str, str, bool]] = []  # (name, uid, is_class)
        self.calls: dict[str, list[str]] = {}  # function uid -> callee simple names

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
        self.stack.append((node.name, uid, False))
        self.generic_visit(node)
        self.stack.pop()
        in_class = bool(self.stack) and self.stack[-1][2]
        symbol = Symbol(
            "method" if in_class else "function",
            qual,
            node.lineno,
            node.end_lineno or node.lineno,
            "python",
            signature=_signature(node),
            doc=ast.get_docstring(node) or "",
            body=ast.get_source_segment(self.source, node) or "",
            calls=tuple(self.calls[uid]),
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
        path = url_template(deco.args[0])
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
            row = route_row(self.repo, self.path, method, path, qual, line, _dotted(deco.func.value))
            self.out.nodes.append(row)
            self.out.rels.append(RelRow(RelType.SERVES, handler, row.uid))

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Attribute):
            method = func.attr.lower()
            owner = _dotted(func.value).lower()
            url: str | None = None
            if method in _HTTP_METHODS and node.args and any(h in owner for h in _CLIENT_HINTS):
                url = url_template(node.args[0])
            elif method == "request" and len(node.args) >= 2 and isinstance(node.args[0], ast.Constant):
                method = str(node.args[0].value).lower()
                url = url_template(node.args[1])
            if url is not None and ("/" in url or "{" in url):
                caller = self.stack[-1][0] if self.stack else self.path
                row = http_call_row(self.repo, self.path, method.upper(), url, caller, node.lineno)
                self.out.nodes.append(row)
                self.out.rels.append(RelRow(RelType.MAKES, self._owner(), row.uid))
            elif self.stack and not self.stack[-1][2]:
                self.calls[self.stack[-1][1]].append(func.attr)
        elif isinstance(func, ast.Name) and self.stack and not self.stack[-1][2]:
            self.calls[self.stack[-1][1]].append(func.id)
        self.generic_visit(node)


def extract_python(repo: str, path: str, source: str) -> CodeExtract:
    out = CodeExtract()
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError) as exc:
        out.problems.append(f"{path}: not parseable as Python ({exc.__class__.__name__}: {exc})")
        return out
    _Visitor(repo, path, source, out).visit(tree)
    return out
