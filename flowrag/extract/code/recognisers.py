"""What a call expression is, read by a table of small recognisers instead of one long chain.

Each recogniser looks at one call (its name, receiver and arguments, already taken apart in any
language by :func:`flowrag.extract.code.syntax._call_parts`) and either handles it — emits an HTTP
call, a route, a shell step, an import — and says so, or leaves it to the next one. The first that
handles a call wins; a call none of them knows goes to the walker's generic ``x.get(url)`` /
``r.GET("/p", h)`` reader. Adding a client library is adding a function to :data:`RECOGNISERS`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from flowrag.extract.code.rows import CodeExtract
from flowrag.extract.code.syntax import (
    _CLIENT_HINTS,
    _REST_TEMPLATE,
    _STRINGS,
    Node,
    _fetch_method,
    _text,
    _unquote,
    _verb,
)

__all__ = ["RECOGNISERS", "Call", "Recogniser"]


@dataclass(frozen=True)
class Call:
    node: Node
    receiver_node: Node | None
    receiver: str  # lower-case source of what it is called on ("this.http", "resttemplate")
    name: str  # the called simple name, as written
    args: list[Node]
    line: int

    @property
    def lname(self) -> str:
        return self.name.lower()


class Walker(Protocol):
    """What a recogniser may ask of the walker."""

    lang: str
    out: CodeExtract

    def _emit_call(
        self, method: str, url_node: Node | None, line: int, method_param: str | None = None
    ) -> None: ...
    def _shell_step(self, string: Node) -> None: ...
    def _uri_chain(self, node: Node, receiver: Node | None, url: Node, line: int) -> None: ...
    def _fetch_method_param(self, options: Node | None) -> str | None: ...
    def _param(self, node: Node | None) -> str | None: ...
    def _go_handle(self, node: Node, args: list[Node], line: int) -> None: ...


Recogniser = Callable[[Walker, Call], bool]


def jenkins_sh_step(w: Walker, c: Call) -> bool:
    """A Jenkinsfile's ``sh '…'`` step is a shell script: walked as shell (its curl calls)."""
    if w.lang == "groovy" and c.lname == "sh" and c.args and c.args[0].type in _STRINGS:
        w._shell_step(c.args[0])
        return True
    return False


def commonjs_require(w: Walker, c: Call) -> bool:
    if c.lname == "require" and not c.receiver and c.args and c.args[0].type in _STRINGS:
        w.out.imports.append(_unquote(_text(c.args[0])))
        return True
    return False


def dotnet_request_message(w: Walker, c: Call) -> bool:
    """``new HttpRequestMessage(HttpMethod.Post, url)``; any other ``new X(…)`` is no call."""
    if c.node.type != "object_creation_expression":
        return False
    if "httprequestmessage" in c.lname and len(c.args) >= 2:
        w._emit_call(_verb(_text(c.args[0])), c.args[1], c.line)
    return True


def rest_template(w: Walker, c: Call) -> bool:
    """Spring ``getForObject(url)``, ``postForEntity(url, …)``…"""
    if c.lname in _REST_TEMPLATE and c.args:
        w._emit_call(_REST_TEMPLATE[c.lname], c.args[0], c.line)
        return True
    return False


def exchange_with_method(w: Walker, c: Call) -> bool:
    """``rest.exchange(url, HttpMethod.POST, …)``."""
    if c.lname == "exchange" and len(c.args) >= 2 and "httpmethod" in _text(c.args[1]).lower():
        w._emit_call(_verb(_text(c.args[1])), c.args[0], c.line)
        return True
    return False


def rest_template_put_delete(w: Walker, c: Call) -> bool:
    if c.lname in ("put", "delete") and "rest" in c.receiver and c.args and "template" in c.receiver:
        w._emit_call(c.lname.upper(), c.args[0], c.line)
        return True
    return False


def uri_chain(w: Walker, c: Call) -> bool:
    """WebClient/RestClient ``.post().uri(u)``, java.net.http ``newBuilder().uri(u).POST(b)``."""
    if c.lname == "uri" and c.args:
        w._uri_chain(c.node, c.receiver_node, c.args[0], c.line)
        return True
    return False


def browser_fetch(w: Walker, c: Call) -> bool:
    """``fetch(url, {method: "POST"})``, the method possibly the caller's parameter."""
    if c.lname == "fetch" and c.args and c.receiver in ("", "window", "globalthis"):
        options = c.args[1] if len(c.args) > 1 else None
        param = w._fetch_method_param(options)
        w._emit_call("" if param else _fetch_method(options), c.args[0], c.line, method_param=param)
        return True
    return False


def go_new_request(w: Walker, c: Call) -> bool:
    """Go ``http.NewRequest("POST", url, body)`` / ``http.NewRequestWithContext(ctx, …)``."""
    if c.lname not in ("newrequest", "newrequestwithcontext") or c.receiver != "http":
        return False
    at = 1 if c.lname == "newrequestwithcontext" else 0
    if at + 1 < len(c.args):
        method = _verb(_text(c.args[at]).replace("Method", "."))  # "POST", http.MethodPost
        param = None if method else w._param(c.args[at])
        w._emit_call(method, c.args[at + 1], c.line, method_param=param)
    return True


def request_with_verb(w: Walker, c: Call) -> bool:
    """``client.request("POST", url)``, ``send("GET", url)``: the method first, as a literal."""
    if c.lname in ("request", "exchange", "send") and len(c.args) >= 2 and _verb(_text(c.args[0])):
        w._emit_call(_verb(_text(c.args[0])), c.args[1], c.line)
        return True
    return False


def exchange_method_parameter(w: Walker, c: Call) -> bool:
    """``exchange(url, method, …)`` whose method is the enclosing function's parameter."""
    if c.lname == "exchange" and len(c.args) >= 2 and w._param(c.args[1]):
        w._emit_call("", c.args[0], c.line, method_param=w._param(c.args[1]))
        return True
    return False


def dispatcher(w: Walker, c: Call) -> bool:
    """``this.http.request(method, url)`` / Go ``c.do(method, path)``: a wrapper whose method is
    its parameter (its call sites say which)."""
    if (
        c.lname in ("request", "do")
        and len(c.args) >= 2
        and any(h in c.receiver for h in _CLIENT_HINTS)
        and w._param(c.args[0])
    ):
        w._emit_call("", c.args[1], c.line, method_param=w._param(c.args[0]))
        return True
    return False


def go_http_helpers(w: Walker, c: Call) -> bool:
    """Go ``http.Get(url)``, ``http.Post(url, …)``, ``http.PostForm(url, …)``."""
    if c.receiver == "http" and w.lang == "go" and c.lname in ("get", "post", "head", "postform"):
        w._emit_call(
            "POST" if c.lname == "postform" else c.lname.upper(), c.args[0] if c.args else None, c.line
        )
        return True
    return False


def go_handle(w: Walker, c: Call) -> bool:
    """Go ``mux.HandleFunc("/x", h).Methods("POST")``: a route served."""
    if w.lang == "go" and c.lname in ("handlefunc", "handle") and c.args:
        w._go_handle(c.node, c.args, c.line)
        return True
    return False


#: In order: the first recogniser that handles a call wins.
RECOGNISERS: tuple[Recogniser, ...] = (
    jenkins_sh_step,
    commonjs_require,
    dotnet_request_message,
    rest_template,
    exchange_with_method,
    rest_template_put_delete,
    uri_chain,
    browser_fetch,
    go_new_request,
    request_with_verb,
    exchange_method_parameter,
    dispatcher,
    go_http_helpers,
    go_handle,
)
