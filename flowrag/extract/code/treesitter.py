"""Source in Java, Kotlin, Scala, C#, Go, JavaScript/TypeScript, Perl, PHP, Ruby, Rust, C/C++,
Terraform/HCL, Groovy (Jenkinsfiles, whose ``sh`` steps are walked as shell), PowerShell, shell and
SQL -> the same rows as
the Python extractor, from tree-sitter syntax trees (one walker; languages differ only by data in
:mod:`flowrag.extract.code.langs` and by the small readers below).

- symbols: classes/types/tables and functions/methods with signature, doc comment, line span;
- routes the code serves: Spring/Micronaut/JAX-RS annotations (class prefix included), ASP.NET
  attributes (``[Route("api/[controller]")]`` + ``[HttpPost("{id}/refresh")]``), NestJS decorators,
  Express/Koa/Fastify/gin/echo/chi/net-http registrations;
- HTTP calls it makes: RestTemplate, WebClient/RestClient chains, java.net.http, fetch, axios and
  other clients, Go net/http, .NET HttpClient/HttpRequestMessage, ktor, curl/wget in shell, Perl
  LWP/HTTP::Tiny/Mojo (``$ua->post``), PHP Guzzle-style ``->post``, Ruby RestClient/Faraday, Rust
  reqwest, PowerShell ``Invoke-RestMethod``;
- URL arguments evaluated as templates: literals, concatenation, interpolation, ``Sprintf``/``format``
  and same-file string constants (``REFRESH = "/vdbs/{id}/refresh"``);
- HTTP wrappers: a function or method one of whose parameters reaches the URL of a client call
  (``post(path, body) { return this.http.post(BASE + path, body) }``, Go ``c.do(method, path)``)
  is followed to its call sites, in the same file and, for names defined once in the repository,
  in other files; each call site becomes an HTTP call whose URL is the wrapper's template with the
  argument's own template in place (nested wrappers too, bounded)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from flowrag.extract.code.langs import LANGUAGES, LangSpec, parser_for
from flowrag.extract.code.python_urls import Wrapper
from flowrag.extract.code.recognisers import RECOGNISERS, Call
from flowrag.extract.code.rows import (
    CodeExtract,
    Symbol,
    contains,
    file_uid,
    http_call_row,
    normalise_url_template,
    route_row,
    symbol_row,
    symbol_uid,
)
from flowrag.extract.code.syntax import (
    _ASSIGNMENTS,
    _CLIENT_HINTS,
    _CLIENT_TOKENS,
    _FUNCTION_VALUES,
    _METHODS,
    _PARAM_NAMES,
    _ROUTER_HINTS,
    _SIGIL_NAMES,
    _SIGILS,
    _STRINGS,
    Node,
    _arguments,
    _assigned,
    _bare,
    _call_parts,
    _constructed,
    _descendants,
    _object_name,
    _parameters,
    _text,
    _type_name,
    _unquote,
    _verb,
)
from flowrag.schema import NodeLabel, RelRow, RelType

__all__ = ["extract_treesitter", "find_treesitter_wrappers"]


_COMMENT_TEXT = re.compile(r"^(?:#+|//+|/\*+|\*+/?|--+|<#|#>)\s*|\s*\*+/$")
_PLACEHOLDER = re.compile(r"\$?\{(\w+)\}|\$(?=[A-Za-z_])(\w+)")
_EMBEDDED = re.compile(r"#\{\s*(\w+)\s*\}|\{\$(\w+)\}")  # Ruby "#{id}", PHP "{$id}"
_DOTTED = re.compile(r"\$\{\s*(\w+)\.[\w.]+\s*\}")  # ${article.slug}
_NAME_TYPES = (
    "object_reference",
    "identifier",
    "type_identifier",
    "word",
    "function_name",
    "bareword",
    "package",
)
_MARK = re.compile(r"\{@(\w+)\}")  # a parameter of the enclosing function inside a URL template
_MAX_WRAPPER_ROUNDS = 3  # wrappers of wrappers of wrappers
_ANNOTATION_METHODS = {
    "getmapping": "GET",
    "postmapping": "POST",
    "putmapping": "PUT",
    "deletemapping": "DELETE",
    "patchmapping": "PATCH",
    "httpget": "GET",
    "httppost": "POST",
    "httpput": "PUT",
    "httpdelete": "DELETE",
    "httppatch": "PATCH",
    **{m.lower(): m for m in _METHODS},  # JAX-RS @GET, NestJS/Micronaut @Get("…")
}
_PREFIX_ANNOTATIONS = {"requestmapping", "route", "path", "controller"}
_CURL_VALUE_OPTIONS = {
    "-H", "--header", "-u", "--user", "-o", "--output", "-b", "--cookie", "-c", "--cookie-jar", "-A",
    "--user-agent", "-e", "--referer", "--cacert", "--cert", "--key", "-w", "--write-out", "-m",
    "--max-time", "--connect-timeout", "-x", "--proxy", "--resolve",
}  # fmt: skip
_CURL_DATA_OPTIONS = {
    "-d",
    "--data",
    "--data-raw",
    "--data-binary",
    "--data-urlencode",
    "-F",
    "--form",
    "--json",
}


@dataclass
class _Annotation:
    name: str  # lower-case simple name
    args: list[Node]
    kwargs: dict[str, Node]


@dataclass
class _Scope:
    name: str
    uid: str
    is_class: bool
    symbol: Symbol
    annotations: list[_Annotation]
    prefix: str = ""  # route prefix from class annotations
    calls: list[str] | None = None
    params: tuple[str, ...] = ()
    qual: str = ""  # dotted: Class.method, object.key, Type.method (Go)
    comments: list[str] = field(default_factory=list)
    literals: list[str] = field(default_factory=list)


@dataclass
class _Site:
    """A call that may go through an HTTP wrapper, kept until every wrapper is known."""

    name: str
    args: list[str | None]  # each argument as a URL template (``{@p}``: the caller's parameter p)
    texts: list[str]  # each argument's source text (a method argument: "POST", http.MethodPost)
    line: int
    owner_uid: str
    within: str | None  # the calling function's qualified name
    params: tuple[str, ...]
    receiver: str = ""  # last part of what the call is made on: "requests", "this", "c", ""
    cls: str = ""  # the enclosing class's qualified name (for this.x(…) calls)


@dataclass
class _Found:
    wrapper: Wrapper
    rows: list[str]  # uids of the wrapper's own HTTP calls (dropped once its call sites resolve)


def _plausible(url: str) -> bool:
    """A URL template worth an HttpCall: a path or an absolute URL, no spaces."""
    return "/" in url and " " not in url.strip() and url.startswith(("/", "{", "http://", "https://"))


def _marked(template: str) -> str:
    """``{@p}`` (walker) -> ``{param:p}`` (:class:`Wrapper` templates)."""
    return _MARK.sub(lambda m: "{param:" + m.group(1) + "}", template)


def _unmarked(template: str) -> str:
    return _MARK.sub(lambda m: "{" + m.group(1) + "}", template)


class _Walker:
    def __init__(self, spec: LangSpec, repo: str, path: str, source: bytes, out: CodeExtract) -> None:
        self.spec, self.repo, self.path, self.source, self.out = spec, repo, path, source, out
        self.lang = spec.name
        self.file_uid = file_uid(repo, path)
        self.scopes: list[_Scope] = []
        self.constants: dict[str, str] = {}
        self.wrappers: dict[str, _Found] = {}
        self.sites: list[_Site] = []
        self.direct: dict[tuple[str, int], list[str]] = {}  # HTTP calls by (maker, line)
        self.types: dict[str, str] = {}  # variable, field or parameter name -> its declared type
        self.line_offset = 0  # a script inside a string (Jenkinsfile sh step) starts at this line

    # ------------------------------------------------------------------ traversal
    def run(self, root: Node) -> None:
        self._collect_constants(root)
        self._collect_types(root)
        stack: list[tuple[Node, bool]] = [(root, False)]
        while stack:
            node, leaving = stack.pop()
            if leaving:
                self._leave(node)
                continue
            kind = node.type
            entered = False
            if kind in self.spec.classes or kind in self.spec.functions:
                entered = self._enter(node)
            elif kind in self.spec.calls:
                self._call(node)
            elif kind in self.spec.imports:
                self._import(node)
            if entered:
                stack.append((node, True))
            if kind in _STRINGS or kind in self.spec.comments:
                if self.scopes:
                    scope = self.scopes[-1]
                    if kind in _STRINGS:
                        scope.literals.append(_unquote(_text(node)))
                    else:
                        scope.comments.append(_text(node))
                continue
            stack.extend((child, False) for child in reversed(node.named_children))

    def _collect_constants(self, root: Node) -> None:
        """Same-file string constants, so ``post(BASE + REFRESH)`` resolves to a template: literals
        first, then expressions over them (``BASE = process.env.URL + "/v3"``) that look like URLs."""
        stack = [root]
        later: list[tuple[str, Node]] = []
        while stack:
            node = stack.pop()
            name, value = node.child_by_field_name("name"), node.child_by_field_name("value")
            if node.type in _ASSIGNMENTS:  # Perl/PHP/Ruby/PowerShell: $base = "…", BASE = "…"
                name, value = _assigned(node)
            if name is not None and value is not None and name.type in ("identifier", *_SIGIL_NAMES):
                if value.type == "expression_list" and value.named_child_count == 1:  # Go const
                    value = value.named_children[0]
                if value.type in _STRINGS:
                    self.constants[_bare(name)] = normalise_url_template(_unquote(_text(value)))
                elif value.type in ("binary_expression", "additive_expression", "binary"):
                    later.append((_bare(name), value))
            if node.type not in _STRINGS:
                stack.extend(node.named_children)
        for name, value in later:
            template = self._url(value)
            if template is not None and "/" in template and name not in self.constants:
                self.constants[name] = template

    def _collect_types(self, root: Node) -> None:
        """Declared types of names, file-wide (``private readonly api: DctApi``, ``DctClient dct``,
        ``func (c *Client)``, ``x = new Client()``, ``inject(Service)``): a call ``api.refresh(…)``
        then goes to ``DctApi.refresh``, not to any ``refresh``."""
        stack = [root]
        while stack:
            node = stack.pop()
            if node.type in _STRINGS or node.type in self.spec.comments:
                continue
            stack.extend(node.named_children)
            type_node = node.child_by_field_name("type")
            value = node.child_by_field_name("value")
            names = [
                node.child(i)
                for i in range(node.child_count)
                if node.field_name_for_child(i) in ("name", "pattern")
            ]
            declarator = node.child_by_field_name("declarator")  # Java fields and locals
            if declarator is not None and declarator.child_by_field_name("name") is not None:
                names.append(declarator.child_by_field_name("name"))
                value = value or declarator.child_by_field_name("value")
            names = [n for n in names if n is not None and n.type in ("identifier", "simple_identifier")]
            if not names:
                continue
            type_name = _type_name(type_node) if type_node is not None else ""
            if not type_name and value is not None:
                type_name = _constructed(value)
            if type_name:
                for name in names:
                    self.types.setdefault(_text(name), type_name)

    def _owner(self) -> _Scope | None:
        return self.scopes[-1] if self.scopes else None

    def _owner_uid(self) -> str:
        return self.scopes[-1].uid if self.scopes else self.file_uid

    def _function_scope(self) -> _Scope | None:
        for scope in reversed(self.scopes):
            if not scope.is_class:
                return scope
        return None

    # ------------------------------------------------------------------ symbols
    def _name(self, node: Node) -> str:
        if node.type == "pair":
            return _unquote(_text(node.child_by_field_name("key")))
        if node.type == "block" and self.lang == "hcl":  # resource "delphix_vdb" "orders_qa"
            parts = [
                _unquote(_text(c)) for c in node.named_children if c.type in ("identifier", "string_lit")
            ]
            return ".".join(p for p in parts if p)
        declarator = node.child_by_field_name("declarator")
        while declarator is not None and node.child_by_field_name("name") is None:  # C/C++ functions
            inner = declarator.child_by_field_name("declarator")
            if inner is None:
                return _text(declarator).split("(")[0].strip()
            declarator = inner
        name = node.child_by_field_name("name")
        if name is None:
            for child in node.named_children:
                if child.type in _NAME_TYPES:
                    name = child
                    break
        text = _text(name)
        return text.split("(")[0].strip() if text else ""

    def _kind(self, node: Node) -> str | None:
        if node.type in ("struct_specifier", "class_specifier") and node.child_by_field_name("body") is None:
            return None  # `struct dct x;`: a use of the type, not its definition
        if node.type == "block" and self.lang == "hcl":
            return _text(node.named_children[0]) if node.named_children else "block"
        if node.type in self.spec.classes:
            kind = self.spec.classes[node.type]
            if self.lang == "go":  # type_spec: only structs and interfaces are types worth a node
                body = node.child_by_field_name("type")
                return {"struct_type": "struct", "interface_type": "interface"}.get(body.type if body else "")
            return kind
        if node.type in ("variable_declarator", "pair"):
            value = node.child_by_field_name("value")
            return "function" if value is not None and value.type in _FUNCTION_VALUES else None
        kind = self.spec.functions[node.type]
        owner = self._owner()
        return "method" if owner is not None and owner.is_class and kind == "function" else kind

    def _enter(self, node: Node) -> bool:
        kind = self._kind(node)
        name = self._name(node)
        if kind is None or not name:
            return False
        if self.lang == "rust" and node.parent is not None and node.parent.parent is not None:
            impl = node.parent.parent  # impl Dct { fn list(&self) … }: Dct.list
            if impl.type == "impl_item" and impl.child_by_field_name("type") is not None:
                name = f"{_type_name(impl.child_by_field_name('type'))}.{name}"
        if self.lang == "go" and node.type == "method_declaration":
            receiver = node.child_by_field_name("receiver")
            types = [c for c in _descendants(receiver) if c.type == "type_identifier"] if receiver else []
            name = f"{_text(types[0])}.{name}" if types else name
        container = _object_name(node) if node.type == "pair" else ""
        qual = ".".join([*(s.name for s in self.scopes), *([container] if container else []), name])
        symbol = Symbol(kind, qual, node.start_point[0] + 1, node.end_point[0] + 1, self.lang)
        uid = symbol_uid(self.repo, self.path, qual, is_class=symbol.is_class)
        scope = _Scope(name, uid, symbol.is_class, symbol, self._annotations(node), qual=qual)
        if symbol.is_class:
            scope.prefix = self._class_prefix(scope.annotations, name)
        else:
            scope.calls = []
            scope.params = _parameters(node)
        self.scopes.append(scope)
        return True

    def _leave(self, node: Node) -> None:
        scope = self.scopes.pop()
        symbol, annotations = scope.symbol, scope.annotations
        body = node.child_by_field_name("body") or next(
            (c for c in node.named_children if c.type in ("function_body", "class_body", "block")), None
        )
        whole = _text(node)
        signature = (
            self.source[node.start_byte : body.start_byte].decode("utf-8", "replace")
            if body is not None
            else whole.split("\n", 1)[0]
        )
        symbol = Symbol(
            symbol.kind,
            symbol.qualname,
            symbol.line,
            symbol.end_line,
            symbol.language,
            signature=" ".join(signature.split())[:300],
            doc=_doc_comment(node, self.spec),
            body=whole[:3000],
            calls=tuple(scope.calls or ()),
            comments=tuple(scope.comments),
            literals=tuple(scope.literals),
        )
        row = symbol_row(self.repo, self.path, symbol)
        self.out.nodes.append(row)
        self.out.rels.append(contains(self._owner_uid(), row))
        if not symbol.is_class:
            self._annotation_routes(annotations, scope, symbol)

    def _import(self, node: Node) -> None:
        if self.lang == "go":
            spec = _unquote(_text(node.child_by_field_name("path")))
        elif self.lang in ("javascript", "typescript", "tsx"):
            spec = _unquote(_text(node.child_by_field_name("source")))
        else:  # import a.b.C; / import a.b.C / using A.B;
            spec = re.sub(r"^(import|using)\s+(static\s+)?|[;\s]|\.\*$|\._$", "", _text(node))
        if spec:
            self.out.imports.append(spec)

    # ------------------------------------------------------------------ annotations and routes
    def _annotations(self, node: Node) -> list[_Annotation]:
        found: list[_Annotation] = []
        candidates = list(node.named_children)
        sibling = node.prev_named_sibling
        while sibling is not None and sibling.type == "decorator":  # TS decorators before a method
            candidates.append(sibling)
            sibling = sibling.prev_named_sibling
        if node.parent is not None and node.parent.type == "export_statement":
            candidates += [c for c in node.parent.named_children if c.type == "decorator"]
        for child in candidates:
            if child.type in ("modifiers", "attribute_list"):
                for item in child.named_children:
                    if item.type in ("annotation", "marker_annotation", "attribute"):
                        found.append(self._annotation(item))
            elif child.type == "decorator":
                found.append(self._annotation(child))
        return found

    def _annotation(self, node: Node) -> _Annotation:
        if node.type == "decorator":
            inner = node.named_children[0] if node.named_children else node
            if inner.type == "call_expression":
                return _Annotation(
                    _text(inner.child_by_field_name("function")).rsplit(".", 1)[-1].lower(),
                    _arguments(inner.child_by_field_name("arguments")),
                    {},
                )
            return _Annotation(_text(inner).rsplit(".", 1)[-1].lower(), [], {})
        name = node.child_by_field_name("name")
        args_node = node.child_by_field_name("arguments")
        if name is None:  # Kotlin: annotation -> constructor_invocation(user_type, value_arguments)
            inner = node.named_children[0] if node.named_children else node
            name = next((c for c in inner.named_children if c.type == "user_type"), inner)
            args_node = next((c for c in inner.named_children if c.type == "value_arguments"), None)
        if args_node is None:
            args_node = next((c for c in node.named_children if c.type == "attribute_argument_list"), None)
        args: list[Node] = []
        kwargs: dict[str, Node] = {}
        for arg in args_node.named_children if args_node is not None else ():
            key = arg.child_by_field_name("key")
            if arg.type == "element_value_pair" and key is not None:
                kwargs[_text(key)] = arg.child_by_field_name("value")
            elif arg.type in ("attribute_argument", "value_argument") and arg.named_child_count:
                first = arg.named_children[0]
                if arg.named_child_count > 1 and first.type in (
                    "identifier",
                    "name_equals",
                    "simple_identifier",
                ):
                    kwargs[_text(first).rstrip("=: ")] = arg.named_children[-1]
                else:
                    args.append(arg.named_children[-1])
            else:
                args.append(arg)
        return _Annotation(_text(name).rsplit(".", 1)[-1].lower(), args, kwargs)

    def _annotation_path(self, annotation: _Annotation) -> str | None:
        value = annotation.args[0] if annotation.args else None
        for key in ("value", "path", "template", "uri"):
            value = value or annotation.kwargs.get(key)
        if value is None:
            return None
        if value.type in ("element_value_array_initializer", "array_initializer", "array"):
            value = value.named_children[0] if value.named_children else None
        return self._url(value)

    def _class_prefix(self, annotations: list[_Annotation], class_name: str) -> str:
        for annotation in annotations:
            if annotation.name in _PREFIX_ANNOTATIONS:
                prefix = self._annotation_path(annotation) or ""
                controller = re.sub(r"Controller$", "", class_name).lower()
                return prefix.replace("[controller]", controller)
        return ""

    def _annotation_routes(self, annotations: list[_Annotation], scope: _Scope, symbol: Symbol) -> None:
        methods: list[str] = []
        path: str | None = None
        for annotation in annotations:
            method = _ANNOTATION_METHODS.get(annotation.name)
            if method is not None:
                methods.append(method)
                path = path or self._annotation_path(annotation)
            elif annotation.name == "requestmapping":
                verb = _text(annotation.kwargs.get("method")).upper()
                methods += [m for m in _METHODS if m in verb] or ["GET"]
                path = path or self._annotation_path(annotation)
            elif annotation.name in ("route", "path"):
                path = self._annotation_path(annotation) or path
        if not methods:
            return
        owner = next((s for s in reversed(self.scopes) if s.is_class), None)
        template = _join(owner.prefix if owner else "", path or "")
        for method in dict.fromkeys(methods):
            framework = "annotation" if self.lang in ("java", "kotlin") else self.lang
            row = route_row(self.repo, self.path, method, template, symbol.qualname, symbol.line, framework)
            self.out.nodes.append(row)
            self.out.rels.append(RelRow(RelType.SERVES, scope.uid, row.uid))

    # ------------------------------------------------------------------ calls
    def _call(self, node: Node) -> None:
        if self.lang == "shell":
            self._command(node)
            return
        if self.lang == "powershell":
            self._ps_command(node)
            return
        receiver_node, name, args = _call_parts(node, self.lang)
        function = self._function_scope()
        if function is not None and function.calls is not None and name:
            function.calls.append(name)
        if name and args:
            # the last link of the receiver, without sigil: this.api / $this->api / self.api -> api
            tail = re.split(r"\.|->|::", _text(receiver_node))[-1].lstrip(_SIGILS)
            self._site(name, args, node.start_point[0] + 1, function, tail)
        call = Call(node, receiver_node, _text(receiver_node).lower(), name, args, node.start_point[0] + 1)
        if not any(recognise(self, call) for recognise in RECOGNISERS):
            self._verb_call(node, call.receiver, name, args, call.line)

    def _verb_call(self, node: Node, receiver: str, name: str, args: list[Node], line: int) -> None:
        """``x.get(url)`` / ``x.PostAsync(url)`` / ``r.GET("/p", h)``: a call made, or a route served."""
        verb = re.sub(r"(?i)(AsJson|FromJson|String|ByteArray|Stream)?Async$", "", name).upper()
        verb = "DELETE" if verb == "DEL" else verb  # superagent, some request libraries
        if (verb not in _METHODS and verb != "ALL") or not args:
            return
        url = self._url(args[0])
        if url is None:
            return
        tail = receiver.rsplit(".", 1)[-1].lstrip("$")
        has_handler = len(args) >= 2 and (
            args[-1].type in _FUNCTION_VALUES or (self.lang == "go" and args[-1].type == "identifier")
        )
        router = tail in _ROUTER_HINTS or (self.lang == "go" and name.isupper())
        if url.startswith("/") and (has_handler or (router and len(args) >= 2)):
            owner = self._function_scope()
            handler = (
                _text(args[-1])[:80]
                if args[-1].type == "identifier"
                else (owner.name if owner else self.path)
            )
            for method in _METHODS if verb == "ALL" else (verb,):
                row = route_row(self.repo, self.path, method, url, handler, line, receiver or self.lang)
                self.out.nodes.append(row)
                self.out.rels.append(RelRow(RelType.SERVES, self._owner_uid(), row.uid))
        elif (
            not router
            and verb != "ALL"
            and (
                any(h in receiver for h in _CLIENT_HINTS)
                or bool(_CLIENT_TOKENS & set(re.findall(r"[a-z]+", receiver)))
                or url.startswith(("http://", "https://"))
            )
        ):  # a client by its name, or any receiver handed an absolute URL (`${ROOT}${path}`)
            self._emit_call(verb, args[0], line)

    def _uri_chain(self, node: Node, receiver: Node | None, url: Node, line: int) -> None:
        """WebClient/RestClient ``.post().uri(u)`` or java.net.http ``newBuilder().uri(u).POST(b)``."""
        verb = ""
        if receiver is not None and receiver.type in self.spec.calls:
            verb = _verb(_call_parts(receiver, self.lang)[1])
        parent = node.parent
        while not verb and parent is not None and parent.type in (*self.spec.calls, "field_access"):
            verb = _verb(_call_parts(parent, self.lang)[1]) if parent.type in self.spec.calls else ""
            parent = parent.parent
        inner = url
        if url.type in self.spec.calls:  # URI.create("…")
            _, inner_name, inner_args = _call_parts(url, self.lang)
            if inner_name.lower() in ("create", "of", "fromuristring") and inner_args:
                inner = inner_args[0]
        self._emit_call(verb or "GET", inner, line)

    def _go_handle(self, node: Node, args: list[Node], line: int) -> None:
        url = self._url(args[0])
        if url is None or not url.startswith("/"):
            return
        methods: list[str] = []
        parent = node.parent  # r.HandleFunc("/x", h).Methods("POST")
        if parent is not None and parent.type == "selector_expression" and parent.parent is not None:
            _, name, more = _call_parts(parent.parent, self.lang)
            if name == "Methods":
                methods = [_verb(_text(a)) for a in more if _verb(_text(a))]
        for method in methods or ["GET"]:
            handler = _text(args[-1])[:80]
            row = route_row(self.repo, self.path, method, url, handler, line, "net/http")
            self.out.nodes.append(row)
            self.out.rels.append(RelRow(RelType.SERVES, self._owner_uid(), row.uid))

    def _command(self, node: Node) -> None:
        name = _text(node.child_by_field_name("name")).rsplit("/", 1)[-1]
        function = self._function_scope()
        if function is not None and function.calls is not None and name:
            function.calls.append(name)
        if name not in ("curl", "wget"):
            return
        words = [
            normalise_url_template(_unquote(_text(child)))
            for i, child in enumerate(node.children)
            if node.field_name_for_child(i) == "argument"
        ]
        method, url, expect_value = "", None, False
        for i, word in enumerate(words):
            if expect_value:
                expect_value = False
                continue
            if word in ("-X", "--request") and i + 1 < len(words):
                method = words[i + 1].upper()
                expect_value = True
            elif word.startswith("--method="):
                method = word.split("=", 1)[1].upper()
            elif word in _CURL_DATA_OPTIONS or word.startswith("--post-data"):
                method = method or "POST"
                expect_value = word in _CURL_DATA_OPTIONS
            elif word in _CURL_VALUE_OPTIONS:
                expect_value = True
            elif url is None and not word.startswith("-") and ("://" in word or word.startswith(("/", "{"))):
                url = word
        if url is not None and "/" in url:
            self._emit_url(method or "GET", url, node.start_point[0] + 1)

    def _ps_command(self, node: Node) -> None:
        """``Invoke-RestMethod -Method Post -Uri "$Base/vdbs/$Id/stop"`` (and Invoke-WebRequest)."""
        written = _text(node.child_by_field_name("command_name"))
        name = written.lower()
        function = self._function_scope()
        if function is not None and function.calls is not None and name:
            function.calls.append(written)
        elements = node.child_by_field_name("command_elements")
        items = [
            c
            for c in (elements.named_children if elements is not None else [])
            if c.type != "command_argument_sep"
        ]
        if name not in ("invoke-restmethod", "invoke-webrequest", "irm", "iwr"):
            # a call of a function of the script: its positional arguments, for HTTP wrappers
            positional = [
                c
                for i, c in enumerate(items)
                if c.type != "command_parameter" and (i == 0 or items[i - 1].type != "command_parameter")
            ]
            if positional:
                self._site(written, positional, node.start_point[0] + 1, function, "")
            return
        method, url_node, expect = "GET", None, ""
        for item in items:
            if item.type == "command_parameter":
                expect = _text(item).lower().lstrip("-")
                continue
            if expect == "method":
                method = _verb(_text(item)) or method
            elif expect in ("uri", "url") or (not expect and url_node is None):
                url_node = item
            expect = ""
        if url_node is not None:
            self._emit_call(method, url_node, node.start_point[0] + 1)

    def _shell_step(self, string: Node) -> None:
        """The shell inside a Jenkinsfile ``sh '…'`` step, walked as shell (its curl calls)."""
        script = _unquote(_text(string)).encode("utf-8", "replace")
        inner = _Walker(LANGUAGES["shell"], self.repo, self.path, script, CodeExtract())
        inner.scopes = list(self.scopes)
        inner.line_offset = self.line_offset + string.start_point[0]
        inner.run(parser_for("shell").parse(script).root_node)
        self.out.nodes += [n for n in inner.out.nodes if n.label == NodeLabel.HTTP_CALL]
        self.out.rels += [r for r in inner.out.rels if r.type == RelType.MAKES]

    def _emit_call(
        self, method: str, url_node: Node | None, line: int, method_param: str | None = None
    ) -> None:
        url = self._url(url_node) if url_node is not None else None
        if url is not None and (method or method_param):
            self._emit_url(method, url, line, method_param)

    def _emit_url(self, method: str, url: str, line: int, method_param: str | None = None) -> None:
        owner = self._function_scope()
        found = None
        if owner is not None and (_MARK.search(url) or method_param):  # a parameter reaches the call
            wrapper = Wrapper(
                owner.qual, owner.params, _marked(url), method or None, method_param, uid=owner.uid
            )
            found = self.wrappers.setdefault(owner.qual, _Found(wrapper, []))
        url = _unmarked(url)
        if not method or not _plausible(url):
            return  # (a dispatcher whose method is a parameter: its call sites say which)
        caller = owner.name if owner else self.path
        line += self.line_offset
        row = http_call_row(self.repo, self.path, method or "GET", url, caller, line)
        self.out.nodes.append(row)
        self.out.rels.append(RelRow(RelType.MAKES, owner.uid if owner else self.file_uid, row.uid))
        self.direct.setdefault((owner.uid if owner else self.file_uid, line), []).append(row.uid)
        if found is not None:
            found.rows.append(row.uid)

    def _param(self, node: Node | None) -> str | None:
        """The enclosing function's parameter this argument is, if it is one."""
        function = self._function_scope()
        if node is None or function is None or node.type not in _PARAM_NAMES:
            return None
        name = _bare(node)
        return name if name in function.params else None

    def _fetch_method_param(self, options: Node | None) -> str | None:
        if options is None or options.type != "object":
            return None
        for pair in options.named_children:
            if pair.type == "pair" and _text(pair.child_by_field_name("key")).strip("\"'") == "method":
                return self._param(pair.child_by_field_name("value"))
            if pair.type == "shorthand_property_identifier" and _text(pair) == "method":
                function = self._function_scope()
                return "method" if function is not None and "method" in function.params else None
        return None

    def _site(self, name: str, args: list[Node], line: int, function: _Scope | None, receiver: str) -> None:
        templates = [self._url(a) for a in args[:6]]  # None: not string-like ({param} once filled)
        cls = next((s.qual for s in reversed(self.scopes) if s.is_class), "")
        self.sites.append(
            _Site(
                name,
                templates,
                [_text(a)[:60] for a in args[:6]],
                line,
                self._owner_uid(),
                function.qual if function else None,
                function.params if function else (),
                receiver,
                cls,
            )
        )

    def _lookup(self, site: _Site, external: dict[str, Wrapper]) -> Wrapper | None:
        """The wrapper a call goes to, by what it is called on: ``this.get`` -> the class's ``get``;
        ``api.refresh`` with ``api: DctApi`` declared -> ``DctApi.refresh``; ``requests.get`` -> the
        object's ``get``; a bare ``post(…)`` -> the function ``post``, here or defined once in the
        repository. A call on something of unknown type goes nowhere."""
        if site.receiver in ("this", "self", ""):
            keys = [f"{site.cls}.{site.name}"] if site.cls else []
            if not site.receiver:
                keys.append(site.name)
        else:
            container = self.types.get(site.receiver, site.receiver)
            keys = [f"{container}.{site.name}"]
        for key in keys:
            if key in self.wrappers:
                return self.wrappers[key].wrapper
        for key in keys:
            if key in external:
                return external[key]
        if not site.receiver:  # a function of another file (imported), by its simple name
            same = [q for q in self.wrappers if q.rsplit(".", 1)[-1] == site.name]
            if len(same) == 1:
                return self.wrappers[same[0]].wrapper
            return None if same else external.get(site.name)
        return None

    def resolve_wrappers(self, external: dict[str, Wrapper] | None = None) -> None:
        """Each call of a wrapper (of this file, else of the repository) becomes an HTTP call at its
        own line; a wrapper whose call sites resolved drops its own ``{param}`` call."""
        external = external or {}
        done: set[int] = set()
        used: set[str] = set()
        replaced: set[str] = set()
        resolved: set[str] = set()
        for _ in range(_MAX_WRAPPER_ROUNDS):
            grew = False
            for i, site in enumerate(self.sites):
                if i in done or (
                    site.receiver not in ("", "this", "self") and (site.owner_uid, site.line) in self.direct
                ):
                    continue  # a client call on another object, already recognised as one
                wrapper = self._lookup(site, external)
                if wrapper is None or site.within == wrapper.name:
                    continue
                given = dict(zip(wrapper.params, site.args, strict=False))
                method_value = passed_on = None
                if wrapper.method_param in wrapper.params:
                    at = wrapper.params.index(wrapper.method_param)
                    method_value = site.texts[at] if at < len(site.texts) else None
                    if method_value in site.params:  # the caller hands its own method parameter on
                        method_value, passed_on = None, method_value
                result = wrapper.fill({k: _marked(v) if v else v for k, v in given.items()}, method_value)
                if result is None:
                    continue
                done.add(i)
                used.add(wrapper.name)
                replaced.update(self.direct.get((site.owner_uid, site.line), ()))  # the wrapper says more
                method, url = result
                url = re.sub(r"\{param:(\w+)\}", lambda m: "{@" + m.group(1) + "}", url)
                nested = None
                if site.within and _MARK.search(url):  # the caller passes its own parameter on
                    nested = self.wrappers.get(site.within)
                    if nested is None:
                        fixed = None if passed_on else method
                        wrapped = Wrapper(
                            site.within, site.params, _marked(url), fixed, passed_on, uid=site.owner_uid
                        )
                        nested = self.wrappers[site.within] = _Found(wrapped, [])
                        grew = True
                plain = _unmarked(url)
                if _plausible(plain):
                    row = http_call_row(
                        self.repo, self.path, method, plain, site.within or self.path, site.line
                    )
                    self.out.nodes.append(row)
                    self.out.rels.append(RelRow(RelType.MAKES, site.owner_uid, row.uid))
                    local = self.wrappers.get(wrapper.name)
                    if not site.within and local is not None and local.wrapper is wrapper:
                        # top-level script code calls a helper of this file (see code.python)
                        self.out.rels.append(RelRow(RelType.MAKES, wrapper.uid, row.uid))
                    resolved.add(row.uid)
                    if nested is not None:
                        nested.rows.append(row.uid)
            if not grew:
                break
        # direct calls a wrapper call replaced (unless it produced the same row), and the own calls
        # of wrappers whose call sites said more
        # A wrapper's own call stays when its parameters are whole path segments (StopVDB(base, id)
        # calls POST {base}/v3/vdbs/{id}/stop itself: it is the code that calls the endpoint); it goes
        # when a parameter carries the path (post(path) -> {base}{path}): its callers say which. A
        # parameter that starts the template is the base URL, not the path.
        generic = {
            name
            for name in used
            if name in self.wrappers
            and re.search(r"(?<=[^/])\{param:\w+\}", self.wrappers[name].wrapper.template)
        }
        drop = (replaced - resolved) | {u for name in generic for u in self.wrappers[name].rows}
        if drop:
            self.out.nodes = [n for n in self.out.nodes if n.uid not in drop]
            self.out.rels = [r for r in self.out.rels if r.end_uid not in drop]

    # ------------------------------------------------------------------ URL expressions
    def _url(self, node: Node | None, depth: int = 0) -> str | None:
        if node is None or depth > 12:
            return None
        kind = node.type
        if kind in _STRINGS:
            # Ruby #{x} and PHP {$x} read as ${x}: one placeholder form below
            raw = _EMBEDDED.sub(lambda m: "${" + (m.group(1) or m.group(2)) + "}", _unquote(_text(node)))
            function = self._function_scope()
            params = set(function.params) if function is not None else set()
            if params:  # `${article.slug}`: derived from the parameter article
                raw = _DOTTED.sub(
                    lambda m: "{@" + m.group(1) + "}" if m.group(1) in params else m.group(0), raw
                )
            if self.constants or params:  # `${BASE}/vdbs` with const BASE = "/dct/v3" in the same file
                raw = _PLACEHOLDER.sub(
                    lambda m: (
                        "{@" + (m.group(1) or m.group(2)) + "}"
                        if (m.group(1) or m.group(2)) in params
                        else self.constants.get(m.group(1) or m.group(2), m.group(0))
                    ),
                    raw,
                )
            return normalise_url_template(raw)
        if kind in ("scalar", "variable_name", "constant", "variable") and node.named_child_count <= 1:
            name = _text(node).lstrip("$@%")  # Perl $base, PHP $base, Ruby BASE, PowerShell $Base
            if "{" in name or "[" in name:
                return None
            function = self._function_scope()
            if function is not None and name in function.params:
                return "{@" + name + "}"
            return self.constants.get(name, "{" + name + "}")
        if kind == "macro_invocation" and _text(node.child_by_field_name("macro")) == "format":
            tokens = next((c for c in node.named_children if c.type == "token_tree"), None)
            parts = tokens.named_children if tokens is not None else []
            if not parts or parts[0].type not in _STRINGS:
                return None
            values = iter(self._url(a, depth + 1) or "{" + _text(a) + "}" for a in parts[1:])
            # format!("{}/vdbs/{}", BASE, id): each {} is the next argument, {name} stays a name
            return normalise_url_template(
                re.sub(r"\{\}", lambda _: next(values, "{param}"), _unquote(_text(parts[0])))
            )
        if kind == "reference_expression" and node.named_child_count:  # Rust &format!(…)
            return self._url(node.named_children[-1], depth + 1)
        if kind in ("array_literal_expression", "unary_expression") and node.named_child_count == 1:
            return self._url(node.named_children[0], depth + 1)
        if kind in ("parenthesized_expression", "argument", "value_argument") and node.named_child_count:
            return self._url(node.named_children[-1], depth + 1)
        if kind in ("binary_expression", "additive_expression", "binary") and node.named_child_count >= 2:
            left = self._url(node.named_children[0], depth + 1)
            right = self._url(node.named_children[-1], depth + 1)
            if left is not None and right is not None:
                return left + right
            return None
        if kind in ("identifier", "simple_identifier"):
            name = _text(node)
            if self._param(node):
                return "{@" + name + "}"
            return self.constants.get(name, "{" + name + "}")
        if kind in ("member_expression", "selector_expression", "field_access", "member_access_expression"):
            root = node
            while root.named_children and root.type == kind:
                root = root.named_children[0]
            if root is not node and self._param(root):  # article.slug: derived from the parameter
                return "{@" + _text(root) + "}"
            last = node.named_children[-1] if node.named_children else node
            return self.constants.get(_text(last), "{" + _text(last) + "}")
        if kind in ("subscript_expression", "element_access_expression", "index_expression"):
            index = node.child_by_field_name("index") or (
                node.named_children[-1] if node.named_children else None
            )
            if index is not None and index.type in _STRINGS:  # params['username'] -> {username}
                return "{" + _unquote(_text(index)) + "}"
            return None
        if kind in self.spec.calls or kind == "call_expression":  # Sprintf / String.format / URI.create
            _, name, args = _call_parts(node, self.lang)
            if name.lower() in ("sprintf", "format", "create", "formatted") and args:
                return self._url(args[0], depth + 1)
        return None


def _join(prefix: str, path: str) -> str:
    parts = [p.strip("/") for p in (prefix, path) if p and p.strip("/")]
    return "/" + "/".join(parts)


def _doc_comment(node: Node, spec: LangSpec) -> str:
    anchor = node.parent if node.parent is not None and node.parent.type == "export_statement" else node
    if node.type == "variable_declarator" and node.parent is not None:  # const f = () => …
        anchor = node.parent
        if anchor.parent is not None and anchor.parent.type == "export_statement":
            anchor = anchor.parent
    lines: list[str] = []
    sibling, row = anchor.prev_named_sibling, anchor.start_point[0]
    while (
        sibling is not None
        and sibling.type in (*spec.comments, "decorator")
        and sibling.end_point[0] >= row - 1
    ):
        if sibling.type != "decorator" and not _text(sibling).startswith("#!"):
            lines.insert(0, _text(sibling))
        row = sibling.start_point[0]
        sibling = sibling.prev_named_sibling
    text = "\n".join(lines)
    text = re.sub(r"(?m)^\s*(/\*\*?|\*/|\*|///?|#)\s?", "", text).replace("*/", "")
    return re.sub(r"</?\w+[^>]*>", "", text).strip()


def extract_treesitter(
    language: str, repo: str, path: str, text: str, wrappers: dict[str, Wrapper] | None = None
) -> CodeExtract:
    """``wrappers``: HTTP wrappers defined once in the repository's other files of this language
    family (see :func:`find_treesitter_wrappers`)."""
    out = CodeExtract()
    spec = LANGUAGES[language]
    source = text.encode("utf-8", "replace")
    tree = parser_for(language).parse(source)
    walker = _Walker(spec, repo, path, source, out)
    walker.run(tree.root_node)
    walker.resolve_wrappers(wrappers)
    header = _header_comment(tree.root_node, spec)
    if header:
        out.summary.insert(0, header)
    if tree.root_node.has_error:
        out.problems.append(f"{path}: {language} syntax errors; symbols outside them were kept")
    return out


def _header_comment(root: Node, spec: LangSpec) -> str:
    """The comments a file starts with (its purpose, usage line), without a shebang: what a
    script's header says it does ("# Refresh a VDB to a point in time")."""
    lines: list[str] = []
    for child in root.named_children:
        if child.type not in spec.comments:
            break
        lines += [line for line in _text(child).splitlines() if not line.startswith("#!")]
    text = " ".join(" ".join(_COMMENT_TEXT.sub("", line.strip()).split()) for line in lines).strip()
    return text[:600]


def find_treesitter_wrappers(
    language: str, text: str, known: dict[str, Wrapper] | None = None
) -> dict[str, Wrapper]:
    """The HTTP wrappers a file defines, by qualified name (``Client.do``, ``requests.get``) and by
    simple name when only one has it (for callers in other files)."""
    source = text.encode("utf-8", "replace")
    walker = _Walker(LANGUAGES[language], "_", "_", source, CodeExtract())
    walker.run(parser_for(language).parse(source).root_node)
    walker.resolve_wrappers(known)
    out = {qual: found.wrapper for qual, found in walker.wrappers.items()}
    simple: dict[str, list[Wrapper]] = {}
    for qual, wrapper in out.items():
        simple.setdefault(qual.rsplit(".", 1)[-1], []).append(wrapper)
    out.update({name: ws[0] for name, ws in simple.items() if len(ws) == 1 and name not in out})
    return out
