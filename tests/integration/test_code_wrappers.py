"""HTTP wrappers in TypeScript, Java and Go, written here in the shapes real API clients use: a
helper whose parameter reaches the URL of a client call, called in the same file and from other
files; nested helpers; the method from a literal, a constant or the caller. On both stores, each
call site must become an HttpCall that TARGETS the right DCT operation."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from flowrag.extract.code.treesitter import extract_treesitter, find_treesitter_wrappers
from flowrag.graph.port import GraphStore, all_nodes
from flowrag.ingest.code import ingest_code
from flowrag.ingest.openapi import ingest_openapi
from flowrag.schema import NodeLabel

SPEC = str(resources.files("flowrag.examples").joinpath("data/dct-subset.yaml"))

FILES = {
    "web/src/dct.ts": """
const BASE = process.env.DCT_URL + "/v3";

/** POST to DCT with the API key. */
export async function dctPost(path: string, body: unknown) {
  return fetch(`${BASE}${path}`, { method: "POST", body: JSON.stringify(body) });
}

export async function dctCall(method: string, path: string) {
  return fetch(BASE + path, { method, headers: { Authorization: "apk " + KEY } });
}

const cache = new Map<string, string>();
export function cached(key: string) { return cache.get(key); }
""",
    "web/src/vdbs.ts": """
import { dctPost, dctCall } from "./dct";

export class VdbService {
  refresh(vdbId: string, snapshotId: string) {
    return dctPost(`/vdbs/${vdbId}/refresh_by_snapshot`, { snapshot_id: snapshotId });
  }
  stop(vdbId: string) {
    return dctCall("POST", "/vdbs/" + vdbId + "/stop");
  }
  list() {
    return dctCall("GET", "/vdbs");
  }
}
""",
    "web/src/agent.js": """
const API_ROOT = 'https://dct.bank.example/v3';
const requests = {
  get: url => superagent.get(`${API_ROOT}${url}`).then(body),
  post: (url, payload) => superagent.post(`${API_ROOT}${url}`, payload).then(body),
  del: url => superagent.del(`${API_ROOT}${url}`).then(body),
};
const Vdbs = {
  get: id => requests.get(`/vdbs/${id}`),
  refresh: (vdb, payload) => requests.post(`/vdbs/${vdb.id}/refresh_by_snapshot`, payload),
  start: id => requests.post(`/vdbs/${id}/start`),
};
export default { Vdbs };
""",
    "web/src/page.ts": """
import agent from "./agent";
export class VdbPage {
  constructor(private readonly vdbs: VdbService, private cache: Map<string, string>) {}
  open(params: Record<string, string>) {
    this.cache.get("/vdbs/x");
    agent.Vdbs.get(params['vdbId']);
    agent.Vdbs.refresh({ ...this.current, id: params['vdbId'] }, {});
    return this.vdbs.stop(params['vdbId']);
  }
}
""",
    "src/main/java/bank/dct/DctClient.java": """
package bank.dct;

public class DctClient {
    private static final String V3 = "/v3";
    private final RestTemplate rest;
    private final String baseUrl;

    private <T> T post(String path, Object body, Class<T> type) {
        return rest.postForObject(baseUrl + V3 + path, body, type);
    }

    private <T> T call(HttpMethod method, String path, Class<T> type) {
        return rest.exchange(baseUrl + V3 + path, method, null, type).getBody();
    }

    public Job refreshVdb(String vdbId, String snapshotId) {
        return post("/vdbs/" + vdbId + "/refresh_by_snapshot", new RefreshRequest(snapshotId), Job.class);
    }

    public Job startVdb(String vdbId) {
        return call(HttpMethod.POST, "/vdbs/" + vdbId + "/start", Job.class);
    }
}
""",
    "src/main/java/bank/flows/OrdersRefresh.java": """
package bank.flows;

public class OrdersRefresh {
    private final DctClient dct;

    public void run(String vdb, String snap) {
        dct.refreshVdb(vdb, snap);
        dct.startVdb(vdb);
    }
}
""",
    "go/dct/client.go": """
package dct

func (c *Client) do(ctx context.Context, method, path string, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.baseURL+"/v3"+path, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "apk "+c.key)
	return c.http.Do(req)
}

func (c *Client) get(ctx context.Context, path string) (*http.Response, error) {
	return c.do(ctx, http.MethodGet, path, nil)
}

func (c *Client) loop(path string) { c.loop(path + "/again") }
""",
    "go/dct/vdbs.go": """
package dct

func (c *Client) RefreshVDB(ctx context.Context, id string) error {
	_, err := c.do(ctx, http.MethodPost, fmt.Sprintf("/vdbs/%s/refresh_by_snapshot", id), nil)
	return err
}

func (c *Client) ListSnapshots(ctx context.Context, id string) error {
	_, err := c.get(ctx, "/vdbs/"+id+"/snapshots")
	return err
}
""",
}

# (file, line of the call site) -> the operation it must TARGET
EXPECTED = {
    ("web/src/vdbs.ts", 6): "POST /vdbs/{vdbId}/refresh_by_snapshot",
    ("web/src/vdbs.ts", 9): "POST /vdbs/{vdbId}/stop",
    ("web/src/vdbs.ts", 12): "GET /vdbs",
    ("web/src/agent.js", 9): "GET /vdbs/{vdbId}",
    ("web/src/agent.js", 10): "POST /vdbs/{vdbId}/refresh_by_snapshot",
    ("web/src/agent.js", 11): "POST /vdbs/{vdbId}/start",
    ("web/src/page.ts", 7): "GET /vdbs/{vdbId}",  # an object's helper, from another file
    ("web/src/page.ts", 8): "POST /vdbs/{vdbId}/refresh_by_snapshot",  # the path from an object
    ("web/src/page.ts", 9): "POST /vdbs/{vdbId}/stop",  # a method of the receiver's declared type
    ("src/main/java/bank/dct/DctClient.java", 18): "POST /vdbs/{vdbId}/refresh_by_snapshot",
    ("src/main/java/bank/dct/DctClient.java", 22): "POST /vdbs/{vdbId}/start",
    ("src/main/java/bank/flows/OrdersRefresh.java", 8): "POST /vdbs/{vdbId}/refresh_by_snapshot",
    ("src/main/java/bank/flows/OrdersRefresh.java", 9): "POST /vdbs/{vdbId}/start",
    ("go/dct/vdbs.go", 5): "POST /vdbs/{vdbId}/refresh_by_snapshot",
    ("go/dct/vdbs.go", 10): "GET /vdbs/{vdbId}/snapshots",
}


def _write(root: Path) -> Path:
    for rel, text in FILES.items():
        path = root / "clients" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root / "clients"


def test_wrappers_are_found_with_their_templates_and_methods() -> None:
    ts = find_treesitter_wrappers("typescript", FILES["web/src/dct.ts"])
    assert ts["dctPost"].template == "{DCT_URL}/v3{param:path}" and ts["dctPost"].method == "POST"
    assert ts["dctCall"].method is None and ts["dctCall"].method_param == "method"
    assert "cached" not in ts  # a Map lookup is not an HTTP call
    go = find_treesitter_wrappers("go", FILES["go/dct/client.go"])
    assert go["do"].params == ("ctx", "method", "path", "body") and go["do"].method_param == "method"
    assert go["get"].method == "GET" and go["get"].template == "{baseURL}/v3{param:path}"
    java = find_treesitter_wrappers("java", FILES["src/main/java/bank/dct/DctClient.java"])
    assert java["post"].method == "POST" and java["call"].method_param == "method"
    assert java["refreshVdb"].template == "{baseUrl}/v3/vdbs/{param:vdbId}/refresh_by_snapshot"


def test_a_wrapper_alone_keeps_its_own_call_and_a_recursive_helper_ends() -> None:
    out = extract_treesitter("go", "r", "client.go", FILES["go/dct/client.go"])
    calls = [n.name for n in out.nodes if n.label == NodeLabel.HTTP_CALL]
    # `do` takes its method from a parameter: only its callers say which, so no call of its own;
    # `get` is not called in this file: its own call stays, with the path left as a parameter
    assert calls == ["GET {baseURL}/v3{path}"]


async def test_each_call_site_targets_its_operation(
    store: GraphStore, cached_embedder: Any, tmp_path: Path
) -> None:
    repo = _write(tmp_path)
    await ingest_openapi(store, cached_embedder, SPEC, "delphix-dct")
    report = await ingest_code(store, cached_embedder, str(repo), "clients")
    assert not [e for e in report.errors if "syntax" in e], report.errors
    calls = await all_nodes(store, NodeLabel.HTTP_CALL.value)
    hood = await store.neighbours([c.uid for c in calls], ["TARGETS"], 5)
    endpoints = {n.uid: n for n in hood.nodes}
    targets: dict[tuple[str, int], set[str]] = {}
    for call in calls:
        site = (str(call.props["path"]), int(call.props["line"]))
        found = {
            f"{endpoints[e.end].props['method']} {endpoints[e.end].props['path']}"
            for e in hood.edges
            if e.start == call.uid and e.end in endpoints
        }
        targets[site] = targets.get(site, set()) | found
    linked = {site: ops for site, ops in targets.items() if ops}
    assert {site: ops for site, ops in linked.items()} == {site: {op} for site, op in EXPECTED.items()}


def test_csharp_and_kotlin_helpers_are_followed_too() -> None:
    csharp = """
public class DctClient {
    private readonly HttpClient _http;
    private Task<HttpResponseMessage> Post(string path, HttpContent body) {
        return _http.PostAsync(_baseUrl + "/v3" + path, body);
    }
    public Task<HttpResponseMessage> RefreshVdb(string vdbId) {
        return Post("/vdbs/" + vdbId + "/refresh_by_snapshot", null);
    }
}
"""
    kotlin = """
class DctApi(private val client: HttpClient) {
    suspend fun post(path: String) = client.post("$base/v3$path")
    suspend fun start(id: String) = post("/vdbs/$id/start")
}
"""
    for language, source, expected in (
        ("csharp", csharp, [("POST {_baseUrl}/v3/vdbs/{vdbId}/refresh_by_snapshot", 8)]),
        ("kotlin", kotlin, [("POST {base}/v3/vdbs/{id}/start", 4)]),
    ):
        out = extract_treesitter(language, "r", "f", source)
        calls = [(n.name, n.props.get("line")) for n in out.nodes if n.label == NodeLabel.HTTP_CALL]
        assert calls == expected, language  # the helper handed the whole path gives way to its caller
