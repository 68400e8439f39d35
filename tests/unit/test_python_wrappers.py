"""HTTP calls through wrappers in Python: each call site of a helper that hands its parameter to
an HTTP client becomes an HttpCall with the path resolved from constants and the argument."""

from __future__ import annotations

from flowrag.extract.code import extract_file
from flowrag.extract.code.python import extract_python
from flowrag.extract.code.python_urls import method_from_name

SCRIPT = '''
"""Provision and refresh VDBs from the command line."""
import argparse
import os
import requests
from urllib.parse import urljoin

BASE = "https://dct.example.com"
API = BASE + "/v3"
base_url = "/vdbs"


def url_GET(path):
    return requests.get(API + path, timeout=30)


def url_POST(path, body):
    return requests.post(f"{API}{path}", json=body)


def _request(method, path, **kw):
    return requests.request(method, urljoin(API + "/", path.lstrip("/")), **kw)


def delete_thing(path):
    return _request("DELETE", path)


def forever(path):
    return forever(path)  # a recursive helper resolves nothing and does not hang


class Client:
    root = "/api/v2"

    def __init__(self, host):
        self.host = host
        self.session = requests.Session()

    def call(self, verb, path):
        return self.session.request(verb, self.host + self.root + path)

    def refresh(self, vdb_id):
        return self.call("POST", "/vdbs/%s/refresh" % vdb_id)


def main(args):
    url_GET(base_url)
    url_GET(base_url + "/" + args.vdb + "/snapshots")
    url_POST("{}/{}/refresh_by_snapshot".format(base_url, args.vdb), {"snapshot_id": args.snap})
    delete_thing("/bookmarks/" + args.bookmark)
    url_GET(os.path.join(base_url, "search"))
    forever("/x")


parser = argparse.ArgumentParser(description="DCT helper")
sub = parser.add_subparsers()
sub.add_parser("provision", help="provision a VDB from a snapshot")
if __name__ == "__main__":
    url_POST(base_url + "/provision_by_snapshot", {})
'''


def _calls(source: str) -> list[tuple[int, str]]:
    out = extract_python("r", "tools/vdb.py", source)
    return sorted((int(n.props["line"]), n.name) for n in out.nodes if n.label == "HttpCall")


def test_every_wrapper_shape_resolves_at_its_call_sites() -> None:
    api = "https://dct.example.com/v3"
    lines = {line: name for line, name in _calls(SCRIPT)}
    found = set(lines.values())
    assert f"GET {api}/vdbs" in found  # module constant passed to a + wrapper
    assert f"GET {api}/vdbs/{{vdb}}/snapshots" in found  # + on both sides, unknown part -> {vdb}
    assert f"POST {api}/vdbs/{{vdb}}/refresh_by_snapshot" in found  # f-string wrapper, .format
    assert f"DELETE {api}/bookmarks/{{bookmark}}" in found  # wrapper of a wrapper, urljoin, method arg
    assert f"GET {api}/vdbs/search" in found  # os.path.join
    assert "POST {host}/api/v2/vdbs/{vdb_id}/refresh" in found  # class constant, self.x, % format
    assert f"POST {api}/vdbs/provision_by_snapshot" in found  # module-level code
    # the wrappers' own calls, now said better by their call sites, are gone
    assert not any("{path}" in name for name in found), found


def test_methods_come_from_the_client_the_argument_or_the_name() -> None:
    assert method_from_name("url_GET") == "GET" and method_from_name("postJson") == "POST"
    assert method_from_name("deleteResource") == "DELETE" and method_from_name("fetch") is None


def test_a_script_file_says_what_it_does() -> None:
    out = extract_file("r", "tools/vdb.py", SCRIPT)
    file_row = out.nodes[0]
    assert file_row.label == "File" and file_row.embed
    assert (
        "Provision and refresh VDBs" in file_row.text and "provision a VDB from a snapshot" in file_row.text
    )
    assert "POST https://dct.example.com/v3/vdbs/provision_by_snapshot" in file_row.text
    plain = extract_file("r", "lib/util.py", "def f():\n    return 1\n").nodes[0]
    assert not plain.embed and plain.text == "lib/util.py (python, 3 lines)"


DISPATCH = """
import argparse
import urllib.parse
import requests

dct_base_url = "/vdbs"


def url_POST(path, body):
    return requests.post("https://dct.example.com/v3" + path, json=body)


def vdb_operation(base_url, vdb_id, ops):
    # start, stop, enable or disable a VDB
    if ops == "snapshot":
        ops = "snapshots"
    return url_POST(base_url + "/" + urllib.parse.quote(vdb_id) + "/" + ops, {})


def report():
    return url_POST("/reporting/storage", {})


args = argparse.ArgumentParser().parse_args()
if args.command == "stop":
    vdb_operation(dct_base_url, args.id, args.command)
if "start" == args.command:
    vdb_operation(dct_base_url, args.id, args.command)
"""


def test_a_scripts_dispatch_resolves_the_command_it_passes_on() -> None:
    """``if args.command == "stop":`` gives ``args.command`` its value in the body; a value assigned
    in a branch of the helper (``ops = "snapshots"``) is not its value after the ``if``; an
    encoded part (``quote(vdb_id)``) is the part it encodes."""
    found = {name for _, name in _calls(DISPATCH)}
    api = "https://dct.example.com/v3"
    assert f"POST {api}/vdbs/{{id}}/stop" in found and f"POST {api}/vdbs/{{id}}/start" in found
    assert not any("snapshots" in name or "{quote}" in name for name in found), found


def test_top_level_calls_are_linked_to_the_helper_of_the_file_that_makes_them() -> None:
    out = extract_python("r", "dct_vdb.py", DISPATCH)
    made = {(r.start_uid.split("::")[-1], r.end_uid.split(":", 3)[-1]) for r in out.rels if r.type == "MAKES"}
    api = "https://dct.example.com/v3"
    assert ("vdb_operation", f"POST {api}/vdbs/{{id}}/stop") in made  # the helper makes it
    assert ("File:r/dct_vdb.py", f"POST {api}/vdbs/{{id}}/stop") in made  # and the script calls it
    # a call from inside a function is that function's only: url_POST is never a hub
    assert ("report", f"POST {api}/reporting/storage") in made
    assert not any(start == "url_POST" for start, _ in made), made


def test_a_symbol_is_indexed_by_what_names_it_not_by_its_code() -> None:
    out = extract_file("r", "dct_vdb.py", DISPATCH)
    row = next(n for n in out.nodes if n.name == "vdb_operation")
    assert "start, stop, enable or disable a VDB" in row.text  # its comment
    assert "snapshots" in row.text  # a literal it uses
    assert "url POST" in row.text  # what it calls, in words
    assert "HTTP: POST https://dct.example.com/v3/vdbs/{id}/stop" in row.text  # the endpoints
    assert "return url_POST(" not in row.text and "if ops ==" not in row.text  # not the body
    assert "if ops ==" in row.props["code"]  # which is kept for display
    assert "POST v 3 vdbs stop" in (row.embed_text or "")  # the vector carries the endpoints' words
    assert "start, stop" in (row.embed_text or "")  # and the purpose, from the comment


def test_a_secret_literal_never_leaves_its_context() -> None:
    source = 'def login():\n    password = "S3cr3tValue!x"\n    return {"authorization": password}\n'
    row = next(n for n in extract_file("r", "a.py", source).nodes if n.name == "login")
    blob = row.text + str(row.props) + (row.embed_text or "")
    assert "S3cr3tValue" not in blob and "authorization" in row.text
