"""Code extraction per language (pure functions, no store): symbols, routes, HTTP calls, imports,
config keys and Markdown sections, plus import resolution."""

from __future__ import annotations

import pytest

from flowrag.extract.code import extract_file, file_digest
from flowrag.extract.code.langs import detect_language
from flowrag.extract.imports import SuffixIndex, resolve_import


def _names(path: str, source: str, label: str) -> set[str]:
    return {n.name for n in extract_file("r", path, source).nodes if n.label.value == label}


JAVA = """
package com.acme;
import com.acme.dct.DctClient;
/** Snapshots controller. */
@RestController
@RequestMapping("/api/v1")
public class VdbController {
  private static final String REFRESH = "/v3/vdbs/{id}/refresh";
  /** Refresh a VDB. */
  @PostMapping(value = "/vdbs/{id}/refresh")
  public String refresh(@PathVariable String id) {
    helper();
    return restTemplate.postForObject(baseUrl + REFRESH, null, String.class, id);
  }
  @RequestMapping(path = "/x", method = RequestMethod.DELETE)
  void x() { webClient.post().uri("/v3/vdbs/{id}/snapshots", id).retrieve(); }
  @GET @Path("/jaxrs") public void jax() {
    rest.exchange(base + "/v3/jobs/" + jobId, HttpMethod.GET, null, String.class);
    HttpRequest.newBuilder().uri(URI.create(base + "/v3/bookmarks")).POST(body).build();
  }
  private void helper() {}
}
"""


def test_java_symbols_routes_calls() -> None:
    out = extract_file("r", "src/VdbController.java", JAVA)
    by_label: dict[str, set[str]] = {}
    for node in out.nodes:
        by_label.setdefault(node.label.value, set()).add(node.name)
    assert {"VdbController.refresh", "VdbController.x", "VdbController.helper"} <= by_label["Function"]
    assert by_label["Class"] == {"VdbController"}
    assert by_label["Route"] == {"POST /api/v1/vdbs/{id}/refresh", "DELETE /api/v1/x", "GET /api/v1/jaxrs"}
    assert by_label["HttpCall"] == {
        "POST {baseUrl}/v3/vdbs/{id}/refresh",  # constant REFRESH resolved, concatenation kept
        "POST /v3/vdbs/{id}/snapshots",  # WebClient: verb from the chain
        "GET {base}/v3/jobs/{jobId}",  # exchange(url, HttpMethod.GET)
        "POST {base}/v3/bookmarks",  # java.net.http builder: verb after .uri(...)
    }
    refresh = next(n for n in out.nodes if n.name == "VdbController.refresh")
    assert refresh.props["docstring"] == "Refresh a VDB."
    assert refresh.props["line"] == 10 and refresh.props["language"] == "java"
    assert "helper" in refresh.props["calls"]
    assert "com.acme.dct.DctClient" in out.imports


def test_typescript_express_nest_fetch_axios() -> None:
    source = """
import axios from "axios";
import { x } from "./client";
const DCT = "/dct/v3";
/** Rewind a VDB. */
export async function rewind(id: string) {
  await fetch(`${DCT}/vdbs/${id}/refresh_from_bookmark`, { method: "POST" });
  await fetch("/v3/jobs/" + id);
  return axios.get(DCT + "/bookmarks");
}
router.post("/api/vdbs/:id/refresh", async (req, res) => { res.send(); });
app.get("/health", health);
@Controller("vdbs")
export class VdbsController {
  @Post(":id/start")
  start() {}
}
const refreshLater = async (id: string) => this.http.delete(`/v3/vdbs/${id}`);
"""
    out = extract_file("r", "web/api.ts", source)
    names = {(n.label.value, n.name) for n in out.nodes}
    assert ("HttpCall", "POST /dct/v3/vdbs/{id}/refresh_from_bookmark") in names
    assert ("HttpCall", "GET /v3/jobs/{id}") in names  # fetch without options is a GET
    assert ("HttpCall", "GET /dct/v3/bookmarks") in names
    assert ("HttpCall", "DELETE /v3/vdbs/{id}") in names
    assert ("Route", "POST /api/vdbs/:id/refresh") in names
    assert ("Route", "GET /health") in names
    assert ("Route", "POST /vdbs/:id/start") in names  # NestJS controller prefix + method decorator
    assert {
        ("Function", "rewind"),
        ("Function", "refreshLater"),
        ("Function", "VdbsController.start"),
    } <= names
    rewind = next(n for n in out.nodes if n.name == "rewind")
    assert rewind.props["docstring"] == "Rewind a VDB."
    assert out.imports == ["axios", "./client"]


def test_go_gin_mux_and_net_http() -> None:
    source = """package dct
import (
  "fmt"
  "net/http"
  "github.com/acme/vdbtools/internal/auth"
)
// Client talks to DCT.
type Client struct { base string }
// Stop stops a VDB.
func (c *Client) Stop(id string) error {
  req, _ := http.NewRequest("POST", c.base+"/v3/vdbs/"+id+"/stop", nil)
  _, err := http.Post(fmt.Sprintf("%s/v3/vdbs/%s/start", c.base, id), "application/json", nil)
  return err
}
func routes() {
  r.GET("/api/vdbs/:id", show)
  mux.HandleFunc("/api/refresh", refresh).Methods("POST")
  http.HandleFunc("/health", health)
}
"""
    out = extract_file("r", "dct/client.go", source)
    names = {(n.label.value, n.name) for n in out.nodes}
    assert ("HttpCall", "POST {base}/v3/vdbs/{id}/stop") in names
    assert ("HttpCall", "POST {}/v3/vdbs/{}/start") in names
    assert {("Route", "GET /api/vdbs/:id"), ("Route", "POST /api/refresh"), ("Route", "GET /health")} <= names
    assert {("Function", "Client.Stop"), ("Class", "Client"), ("Function", "routes")} <= names
    stop = next(n for n in out.nodes if n.name == "Client.Stop")
    assert stop.props["docstring"] == "Stop stops a VDB."
    assert "github.com/acme/vdbtools/internal/auth" in out.imports


def test_csharp_attributes_and_httpclient() -> None:
    source = """using System.Net.Http;
namespace Acme {
/// <summary>VDB API.</summary>
[Route("api/[controller]")]
public class VdbsController : ControllerBase {
  [HttpPost("{id:int}/refresh")]
  public async Task<IActionResult> Refresh(int id) {
    await _client.PostAsJsonAsync($"{_base}/v3/vdbs/{id}/refresh_by_snapshot", body);
    var m = new HttpRequestMessage(HttpMethod.Delete, "/v3/bookmarks/" + id);
    return Ok();
  }
}}
"""
    out = extract_file("r", "Api/VdbsController.cs", source)
    names = {(n.label.value, n.name) for n in out.nodes}
    # [controller] -> the class name; the {id:int} route constraint is dropped from the template
    assert ("Route", "POST /api/vdbs/{id}/refresh") in names
    assert ("HttpCall", "POST {_base}/v3/vdbs/{id}/refresh_by_snapshot") in names
    assert ("HttpCall", "DELETE /v3/bookmarks/{id}") in names
    cls = next(n for n in out.nodes if n.name == "VdbsController")
    assert "VDB API." in cls.text


def test_kotlin_scala_shell_sql() -> None:
    kotlin = """class Dct(private val base: String) {
  @GetMapping("/api/envs")
  fun envs(): String = rest.getForObject("$base/v3/environments", String::class.java)
}
fun jobs() = client.get("/v3/jobs")
"""
    names = {(n.label.value, n.name) for n in extract_file("r", "Dct.kt", kotlin).nodes}
    assert {("Route", "GET /api/envs"), ("HttpCall", "GET {base}/v3/environments")} <= names
    assert {("HttpCall", "GET /v3/jobs"), ("Function", "Dct.envs"), ("Function", "jobs")} <= names

    scala = "object IngestTrades {\n  def main(args: Array[String]): Unit = run()\n  def run(): Int = 1\n}\n"
    assert _names("jobs/IngestTrades.scala", scala, "Function") == {"IngestTrades.main", "IngestTrades.run"}

    shell = """#!/bin/bash
# Refresh a VDB to a timestamp.
refresh() {
  curl -sS -X POST -H "Authorization: apk $KEY" "$DCT_URL/v3/vdbs/${VDB_ID}/refresh_by_timestamp" -d '{}'
}
curl --data '{"name":"x"}' https://dct.example.com/v3/bookmarks
wget -q -O out.json "$DCT_URL/v3/jobs/$JOB"
"""
    out = extract_file("r", "ops/refresh", shell)  # no extension: detected from the shebang
    names = {(n.label.value, n.name) for n in out.nodes}
    assert ("HttpCall", "POST {DCT_URL}/v3/vdbs/{VDB_ID}/refresh_by_timestamp") in names
    assert ("HttpCall", "POST https://dct.example.com/v3/bookmarks") in names  # --data implies POST
    assert ("HttpCall", "GET {DCT_URL}/v3/jobs/{JOB}") in names
    refresh = next(n for n in out.nodes if n.name == "refresh")
    assert refresh.props["docstring"] == "Refresh a VDB to a timestamp."

    sql = "CREATE TABLE flow_runs (id INT);\nCREATE VIEW failed AS SELECT * FROM flow_runs;\n"
    assert _names("db/schema.sql", sql, "Class") == {"flow_runs", "failed"}


def test_config_keys_and_markdown_sections() -> None:
    yaml_text = "delphix:\n  url: https://dct\n  vdb: orders_qa\n  password: hunter2secret\nschedule: daily\n"
    out = extract_file("r", "config/app.yaml", yaml_text)
    chunks = {n.name: n for n in out.nodes if n.label.value == "DocChunk"}
    assert set(chunks) == {"delphix", "schedule"}
    assert "delphix.vdb" in chunks["delphix"].text and chunks["delphix"].source_id == "config/app.yaml:1"
    assert "hunter2secret" not in chunks["delphix"].text
    toml = 'title = "x"\n[tool.flowrag]\nname = "a"\n'
    assert _names("pyproject.toml", toml, "DocChunk") == {"title", "tool.flowrag"}
    assert _names("package.json", '{"name": "x", "scripts": {"build": "tsc"}}', "DocChunk") == {
        "name",
        "scripts",
    }
    markdown = "# Title\nintro\n## Refresh\n```sh\n# not a heading\n```\n## Other\ntext\n"
    sections = [n for n in extract_file("r", "README.md", markdown).nodes if n.label.value == "DocChunk"]
    assert [s.name for s in sections] == ["Title", "Refresh", "Other"]
    assert "# not a heading" in sections[1].text


@pytest.mark.parametrize(
    ("source", "problem"),
    [("public class {{{", "java syntax errors"), ("key: [unclosed", "yaml syntax errors")],
)
def test_broken_files_report_a_problem_and_keep_what_parses(source: str, problem: str) -> None:
    path = "Broken.java" if "class" in source else "broken.yaml"
    out = extract_file("r", path, source)
    assert out.nodes[0].label.value == "File"
    assert any(problem in p for p in out.problems)


def test_secrets_are_redacted_in_every_language() -> None:
    java = 'class C { String password = "S3cr3tValue!"; void f() { String apiKey = "abcd1234efgh"; } }'
    ts = 'const token = "ghp_' + "a" * 36 + '";\nexport function f() { return 1; }\n'
    for path, source, secret in (("C.java", java, "S3cr3tValue"), ("f.ts", ts, "ghp_aaaa")):
        blob = " ".join(
            n.text + str(n.props) + (n.embed_text or "") for n in extract_file("r", path, source).nodes
        )
        assert secret not in blob


def test_language_detection_and_digest() -> None:
    assert detect_language("a/b.tsx", "") == "tsx"
    assert detect_language("bin/run", "#!/usr/bin/env bash\necho") == "shell"
    assert detect_language("bin/tool", "#!/usr/bin/python3\n") == "python"
    assert detect_language(".env.prod", "A=1") == "dotenv"
    assert detect_language("notes.txt", "hello") == "text"
    assert file_digest("a") == file_digest("a") != file_digest("b")


def test_import_resolution() -> None:
    index = SuffixIndex(
        [
            "src/app/main.py",
            "src/app/util.py",
            "src/app/db/__init__.py",
            "web/src/api.ts",
            "web/src/client/index.ts",
            "jobs/src/main/java/com/acme/Dct.java",
            "internal/auth/auth.go",
            "internal/auth/token.go",
        ]
    )
    assert resolve_import("python", "src/app/main.py", "app.util", index) == ["src/app/util.py"]
    assert resolve_import("python", "src/app/main.py", ".db", index) == ["src/app/db/__init__.py"]
    assert resolve_import("python", "src/app/main.py", "requests", index) == []
    assert resolve_import("typescript", "web/src/api.ts", "./client", index) == ["web/src/client/index.ts"]
    assert resolve_import("typescript", "web/src/api.ts", "axios", index) == []
    assert resolve_import("java", "X.java", "com.acme.Dct", index) == ["jobs/src/main/java/com/acme/Dct.java"]
    assert resolve_import("go", "main.go", "github.com/acme/tools/internal/auth", index) == [
        "internal/auth/auth.go",
        "internal/auth/token.go",
    ]
    assert resolve_import("go", "main.go", "net/http", index) == []  # standard library


LANGUAGE_SAMPLES = {
    # path: (source, symbols (label, qualified name, line), HTTP calls (name, line))
    "lib/Dct.pm": (
        "package Dct;\nuse LWP::UserAgent;\n# Refresh a VDB from a snapshot\nsub refresh_vdb {\n"
        "  my ($self, $id) = @_;\n"
        '  return $self->{ua}->post("$self->{base}/vdbs/$id/refresh_by_snapshot", Content => $b);\n}\n'
        'sub list { my $ua = LWP::UserAgent->new; return $ua->get($base . "/vdbs"); }\n1;\n',
        {("Class", "Dct", 1), ("Function", "refresh_vdb", 4), ("Function", "list", 8)},
        {("POST {base}/vdbs/{id}/refresh_by_snapshot", 6), ("GET {base}/vdbs", 8)},
    ),
    "src/Dct.php": (
        "<?php\nclass DctClient {\n  /** Refresh a VDB */\n"
        '  public function refresh($id) { return $this->client->post("/vdbs/{$id}/refresh_by_snapshot"); }\n}\n'
        'function helper($x) { return Http::get("/vdbs"); }\n',
        {("Class", "DctClient", 2), ("Function", "DctClient.refresh", 4), ("Function", "helper", 6)},
        {("POST /vdbs/{id}/refresh_by_snapshot", 4), ("GET /vdbs", 6)},
    ),
    "lib/dct.rb": (
        'class DctClient\n  # Refresh a VDB\n  def refresh(id)\n    RestClient.post("#{BASE}/vdbs/#{id}/refresh_by_snapshot", body)\n  end\nend\n',
        {("Class", "DctClient", 1), ("Function", "DctClient.refresh", 3)},
        {("POST {BASE}/vdbs/{id}/refresh_by_snapshot", 4)},
    ),
    "src/lib.rs": (
        "/// Refresh a VDB\npub async fn refresh(client: &Client, id: &str) -> Result<()> {\n"
        '    client.post(format!("{}/vdbs/{}/refresh_by_snapshot", BASE, id)).send().await?;\n    Ok(())\n}\n'
        'struct Dct { base: String }\nimpl Dct { fn list(&self) { self.http.get("/vdbs"); } }\n',
        {("Function", "refresh", 2), ("Class", "Dct", 6), ("Function", "Dct.list", 7)},
        {("POST {BASE}/vdbs/{id}/refresh_by_snapshot", 3), ("GET /vdbs", 7)},  # format! args fill {}
    ),
    "src/dct.c": (
        '/* refresh */\nint refresh_vdb(const char *id) { return http_post("/vdbs/refresh"); }\n'
        "struct dct { int x; };\nstruct dct value;\n",
        {("Function", "refresh_vdb", 2), ("Class", "dct", 3)},  # a use of the struct is not a definition
        set(),
    ),
    "src/dct.cpp": (
        'class Dct { public: int refresh(std::string id) { return cli.Post("/vdbs"); } };\n',
        {("Class", "Dct", 1), ("Function", "Dct.refresh", 1)},
        set(),
    ),
    "infra/main.tf": (
        'resource "delphix_vdb" "orders_qa" {\n  name = "orders_qa"\n}\nvariable "dct_url" { default = "https://dct" }\n',
        {("Class", "resource.delphix_vdb.orders_qa", 1), ("Class", "variable.dct_url", 4)},
        set(),
    ),
    "Jenkinsfile": (
        "pipeline {\n  stages {\n    stage('Refresh') {\n      steps {\n"
        "        sh 'curl -X POST https://dct.bank/v3/vdbs/orders/refresh_by_snapshot'\n"
        "      }\n    }\n  }\n}\n"
        'def refresh(String id) { client.post("/vdbs/" + id + "/stop") }\n',
        {("Function", "refresh", 10)},
        {("POST https://dct.bank/v3/vdbs/orders/refresh_by_snapshot", 5), ("POST /vdbs/{id}/stop", 10)},
    ),
    "ops/Refresh.ps1": (
        'function Invoke-Refresh {\n  param([string]$Id)\n  Invoke-RestMethod -Method Post -Uri "$Base/vdbs/$Id/refresh_by_snapshot" -Headers $h\n}\n',
        {("Function", "Invoke-Refresh", 1)},
        {("POST {Base}/vdbs/{Id}/refresh_by_snapshot", 3)},
    ),
}


@pytest.mark.parametrize("path", sorted(LANGUAGE_SAMPLES))
def test_the_platform_teams_other_languages(path: str) -> None:
    """Perl, PHP, Ruby, Rust, C/C++, Terraform, Jenkinsfiles (Groovy, their sh steps as shell) and
    PowerShell: symbols with their lines, and the HTTP calls their clients make."""
    source, symbols, calls = LANGUAGE_SAMPLES[path]
    out = extract_file("r", path, source)
    assert out.problems == []
    found = {
        (n.label.value, n.name, n.props.get("line"))
        for n in out.nodes
        if n.label.value in ("Class", "Function")
    }
    assert found == symbols
    assert {(n.name, n.props.get("line")) for n in out.nodes if n.label.value == "HttpCall"} == calls


def test_a_files_header_comment_says_what_it_is_for() -> None:
    shell = "#!/usr/bin/env bash\n# Refresh a VDB to a point in time.\n# usage: refresh.sh ID TS\nset -e\n"
    row = extract_file("r", "ops/refresh.sh", shell).nodes[0]
    assert "Refresh a VDB to a point in time. usage: refresh.sh ID TS" in row.text
    assert row.embed and "#!" not in row.text and "refresh" in (row.embed_text or "")


def test_java_method_text_names_its_call_and_keeps_its_code_for_display() -> None:
    java = (
        "class DctClient {\n"
        '  private static final String BASE = "https://dct.example.com/v3";\n'
        "  String refresh(String vdbId) {\n"
        "    // ask DCT for a refresh from the latest snapshot\n"
        '    return rest.postForObject(BASE + "/vdbs/" + vdbId + "/refresh_by_snapshot", null, String.class);\n'
        "  }\n"
        "}\n"
    )
    out = extract_file("r", "DctClient.java", java)
    method = next(n for n in out.nodes if n.name == "DctClient.refresh")
    assert "ask DCT for a refresh from the latest snapshot" in method.text
    assert "HTTP: POST https://dct.example.com/v3/vdbs/{vdbId}/refresh_by_snapshot" in method.text
    assert "postForObject(" not in method.text and "postForObject(" in method.props["code"]
    made = [r for r in out.rels if r.type == "MAKES"]
    assert [r.start_uid for r in made] == [method.uid]  # the call is the method's, cited at its line


_WRAPPED = "POST https://dct.example.com/v3/vdbs/{%s}/refresh_by_snapshot"
_HELPERS = {
    # each language's own way to write a helper that hands its path to an HTTP client
    "perl": (
        "dct.pl",
        'package Dct;\nuse LWP::UserAgent;\nmy $base = "https://dct.example.com/v3";\n\n'
        "sub api_post {\n    my ($path, $body) = @_;\n    my $ua = LWP::UserAgent->new;\n"
        "    return $ua->post($base . $path, Content => $body);\n}\n\n"
        'sub refresh_vdb {\n    my ($vdb_id) = @_;\n    return api_post("/vdbs/$vdb_id/refresh_by_snapshot", "{}");\n}\n1;\n',
        "vdb_id",
    ),
    "php": (
        "DctClient.php",
        '<?php\nclass DctClient {\n    private $base = "https://dct.example.com/v3";\n'
        "    private function post($path, $body) {\n"
        "        return $this->http->request('POST', $this->base . $path, ['json' => $body]);\n    }\n"
        "    public function refreshVdb($vdbId) {\n"
        '        return $this->post("/vdbs/{$vdbId}/refresh_by_snapshot", []);\n    }\n}\n',
        "vdbId",
    ),
    "ruby": (
        "dct_client.rb",
        'class DctClient\n  BASE = "https://dct.example.com/v3"\n  def post(path, body)\n'
        "    HTTParty.post(BASE + path, body: body)\n  end\n  def refresh_vdb(vdb_id)\n"
        '    post("/vdbs/#{vdb_id}/refresh_by_snapshot", {})\n  end\nend\n',
        "vdb_id",
    ),
    "rust": (
        "dct.rs",
        'const BASE: &str = "https://dct.example.com/v3";\n'
        "fn post(client: &reqwest::Client, path: &str) -> reqwest::RequestBuilder {\n"
        '    client.post(format!("{}{}", BASE, path))\n}\n'
        "fn refresh_vdb(client: &reqwest::Client, vdb_id: &str) {\n"
        '    post(client, &format!("/vdbs/{}/refresh_by_snapshot", vdb_id));\n}\n',
        "vdb_id",
    ),
    "powershell": (
        "Dct.ps1",
        '$Base = "https://dct.example.com/v3"\nfunction Invoke-DctPost($Path, $Body) {\n'
        '    Invoke-RestMethod -Method Post -Uri "$Base$Path" -Body $Body\n}\n'
        'function Update-Vdb($VdbId) {\n    Invoke-DctPost "/vdbs/$VdbId/refresh_by_snapshot" "{}"\n}\n',
        "VdbId",
    ),
}


@pytest.mark.parametrize("language", sorted(_HELPERS))
def test_helpers_are_followed_to_their_call_sites_in_every_scripting_language(language: str) -> None:
    path, source, param = _HELPERS[language]
    out = extract_file("r", path, source)
    calls = {n.name: n for n in out.nodes if n.label == "HttpCall"}
    assert set(calls) == {_WRAPPED % param}, calls  # the helper's own {path} call gives way
    makers = {r.start_uid.rsplit("::", 1)[-1] for r in out.rels if r.type == "MAKES"}
    assert len(makers) == 1 and "refresh" in makers.pop().lower().replace("update-vdb", "refresh")
