"""Python source -> File, Class, Function, Route, HttpCall rows (Python ``ast``, no regexes on code).

Routes: FastAPI/Flask style decorators (``@app.get("/x")``, ``@router.post``, ``@app.route("/x",
methods=[...])``). HTTP calls: ``requests``/``httpx``/session objects (``.get/.post/...(url)``),
``requests.request("POST", url)``, with f-strings turned into URL templates (``{vdb_id}``)."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from flowrag.extract.secrets import redact
from flowrag.schema import NodeLabel, NodeRow, RelRow, RelType, make_uid

__all__ = ["CodeExtract", "extract_python", "url_template"]

SOURCE = "code"
_HTTP_METHODS = {"get", "post", "put", "patch", "delete", "head", "options"}
_CLIENT_HINTS = ("requests", "httpx", "session", "client", "http", "api")


@dataclass
class CodeExtract:
    nodes: list[NodeRow] = field(default_factory=list)
    rels: list[RelRow] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


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
    if isinstance(node, ast.Name):
        return None
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
        self.file_uid = make_uid(NodeLabel.FILE, f"{repo}/{path}")
        self.stack: list[tuple[str, str]] = []  # (qualname, uid)
        self.local_calls: list[tuple[str, str]] = []  # (caller uid, callee simple name)
        self.functions: dict[str, str] = {}  # simple name -> uid

    def _owner(self) -> str:
        return self.stack[-1][1] if self.stack else self.file_uid

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        qual = ".".join([*(q for q, _ in self.stack), node.name])
        key = f"{self.repo}/{self.path}::{qual}"
        uid = make_uid(NodeLabel.CLASS, key)
        doc = ast.get_docstring(node) or ""
        self.out.nodes.append(
            NodeRow(
                NodeLabel.CLASS,
                key,
                SOURCE,
                self.repo,
                f"{self.path}:{node.lineno}",
                name=qual,
                text=redact(f"class {qual} in {self.path}. {doc[:800]}"),
                props={
                    "repo": self.repo,
                    "path": self.path,
                    "line": node.lineno,
                    "end_line": node.end_lineno or node.lineno,
                    "language": "python",
                },
            )
        )
        self.out.rels.append(RelRow(RelType.CONTAINS, self._owner(), uid))
        self.stack.append((node.name, uid))
        self.generic_visit(node)
        self.stack.pop()

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        qual = ".".join([*(q for q, _ in self.stack), node.name])
        key = f"{self.repo}/{self.path}::{qual}"
        uid = make_uid(NodeLabel.FUNCTION, key)
        doc = ast.get_docstring(node) or ""
        signature = _signature(node)
        body = ast.get_source_segment(self.source, node) or ""
        self.out.nodes.append(
            NodeRow(
                NodeLabel.FUNCTION,
                key,
                SOURCE,
                self.repo,
                f"{self.path}:{node.lineno}",
                name=qual,
                text=redact(f"{signature} in {self.path}:{node.lineno}. {doc[:600]}\n{body[:1200]}"),
                embed_text=redact(f"{signature}. {doc[:600]} {body[:600]}"),
                props={
                    "repo": self.repo,
                    "path": self.path,
                    "line": node.lineno,
                    "end_line": node.end_lineno or node.lineno,
                    "signature": signature,
                    "docstring": doc[:1000],
                    "language": "python",
                    "kind": "method" if self.stack and self.stack[-1][1].startswith("Class:") else "function",
                },
            )
        )
        self.out.rels.append(RelRow(RelType.CONTAINS, self._owner(), uid))
        self.functions.setdefault(node.name, uid)
        for deco in node.decorator_list:
            self._route(deco, uid, qual, node.lineno)
        self.stack.append((node.name, uid))
        self.generic_visit(node)
        self.stack.pop()

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
            key = f"{self.repo}/{self.path}:{method} {path}"
            uid = make_uid(NodeLabel.ROUTE, key)
            self.out.nodes.append(
                NodeRow(
                    NodeLabel.ROUTE,
                    key,
                    SOURCE,
                    self.repo,
                    f"{self.path}:{line}",
                    name=f"{method} {path}",
                    text=f"route {method} {path} served by {qual} ({self.path}:{line})",
                    props={
                        "repo": self.repo,
                        "path_template": path,
                        "method": method,
                        "path": self.path,
                        "line": line,
                        "framework": _dotted(deco.func.value),
                    },
                )
            )
            self.out.rels.append(RelRow(RelType.SERVES, handler, uid))

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
                self._http_call(method.upper(), url, node.lineno)
            elif self.stack:
                self.local_calls.append((self.stack[-1][1], func.attr))
        elif isinstance(func, ast.Name) and self.stack:
            self.local_calls.append((self.stack[-1][1], func.id))
        self.generic_visit(node)

    def _http_call(self, method: str, url: str, line: int) -> None:
        key = f"{self.repo}/{self.path}:{line}:{method} {url}"
        uid = make_uid(NodeLabel.HTTP_CALL, key)
        caller = self._owner()
        self.out.nodes.append(
            NodeRow(
                NodeLabel.HTTP_CALL,
                key,
                SOURCE,
                self.repo,
                f"{self.path}:{line}",
                name=f"{method} {url}",
                text=redact(
                    f"HTTP call {method} {url} from {self.stack[-1][0] if self.stack else self.path} ({self.path}:{line})"
                ),
                props={
                    "repo": self.repo,
                    "method": method,
                    "url": redact(url),
                    "path": self.path,
                    "line": line,
                },
            )
        )
        self.out.rels.append(RelRow(RelType.MAKES, caller, uid))


def extract_python(repo: str, path: str, source: str) -> CodeExtract:
    out = CodeExtract()
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError) as exc:
        out.problems.append(f"{path}: not parseable as Python ({exc.__class__.__name__}: {exc})")
        return out
    visitor = _Visitor(repo, path, source, out)
    visitor.visit(tree)
    for caller, callee in visitor.local_calls:
        target = visitor.functions.get(callee)
        if target and target != caller:
            out.rels.append(RelRow(RelType.CALLS, caller, target))
    return out
