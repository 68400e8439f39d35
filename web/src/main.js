// The flowrag web page: ask (streamed answer, citations, plan, evidence graph), dashboard (the
// morning report's facts), explore (search, node page, neighbourhood), sources and jobs, login.
// Every value from the store is put in the page as text (textContent), never as HTML.

import { Chart, BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip } from "chart.js";
import cytoscape from "cytoscape";

import { ApiError, apiKey, gql, setApiKey, subscribe } from "./api.js";
import { EXAMPLES, lang, setLang, t } from "./i18n.js";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);

const STATUS_COLOURS = {
  FAILED: "#d64541",
  WARNING: "#f0ad4e",
  CANCELLED: "#8e7cc3",
  RUNNING: "#5bc0de",
  SKIPPED: "#bbbbbb",
  SUCCESS: "#4caf50",
};
const LABEL_COLOURS = {
  Run: "#d64541", Pipeline: "#e67e22", Error: "#c0392b", Technology: "#8e44ad", Host: "#7f8c8d",
  Environment: "#95a5a6", Record: "#bdc3c7", Collection: "#34495e", Endpoint: "#2980b9",
  Schema: "#5dade2", DelphixKind: "#1abc9c", Tag: "#76d7c4", Parameter: "#a9cce3",
  Function: "#27ae60", Class: "#229954", File: "#52be80", Route: "#f1c40f", HttpCall: "#f39c12",
  Repository: "#145a32", DocSection: "#6c3483", DocPage: "#a569bd", DocChunk: "#bb8fce",
};

// ---------------------------------------------------------------- DOM helpers

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "text") el.textContent = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

const main = () => document.getElementById("main");

function show(...children) {
  main().replaceChildren(...children);
}

function failure(error) {
  if (error instanceof ApiError && ["UNAUTHENTICATED", "FORBIDDEN"].includes(error.code) && !location.hash.startsWith("#/login")) {
    location.hash = `#/login?next=${encodeURIComponent(location.hash || "#/ask")}`;
    return h("p", { class: "error", role: "alert", text: t("refused") });
  }
  return h("p", { class: "error", role: "alert", text: `${t("error")} : ${error.message}` });
}

// ---------------------------------------------------------------- evidence graph

function drawGraph(container, nodes, edges, onExpand) {
  const cy = cytoscape({
    container,
    elements: [],
    style: [
      { selector: "node", style: { "background-color": "data(colour)", label: "data(caption)", "font-size": 9, "text-wrap": "ellipsis", "text-max-width": 120, color: "#222" } },
      { selector: "edge", style: { width: 1.2, "line-color": "#aaa", "target-arrow-shape": "triangle", "target-arrow-color": "#aaa", "curve-style": "bezier", label: "data(type)", "font-size": 7, color: "#777" } },
      { selector: "node:selected", style: { "border-width": 3, "border-color": "#222" } },
    ],
    layout: { name: "cose", animate: false },
    minZoom: 0.2,
    maxZoom: 1.6,
  });
  const add = (moreNodes, moreEdges) => {
    const fresh = [];
    for (const n of moreNodes) {
      if (cy.getElementById(n.uid).length) continue;
      fresh.push({ group: "nodes", data: { id: n.uid, caption: `${n.label}: ${(n.name || n.key).slice(0, 60)}`, label: n.label, colour: LABEL_COLOURS[n.label] || "#888" } });
    }
    for (const e of moreEdges) {
      const id = `${e.start}|${e.type}|${e.end}`;
      if (cy.getElementById(id).length) continue;
      fresh.push({ group: "edges", data: { id, source: e.start, target: e.end, type: e.type } });
    }
    cy.add(fresh.filter((el) => el.group === "nodes"));
    cy.add(fresh.filter((el) => el.group === "edges" && cy.getElementById(el.data.source).length && cy.getElementById(el.data.target).length));
    cy.layout({ name: "cose", animate: false, fit: true, padding: 30 }).run();
  };
  // an edge's far end may not be among the nodes: it comes with the edge
  const ends = edges.flatMap((e) => [e.startNode, e.endNode]).filter(Boolean);
  add([...nodes, ...ends], edges);
  cy.on("tap", "node", async (event) => {
    const id = event.target.id();
    const hood = await onExpand(id);
    if (hood) add(hood.nodes, hood.edges);
    container.dataset.expanded = String(Number(container.dataset.expanded || 0) + 1);
  });
  container.cy = cy;
  return cy;
}

const NODE_FIELDS = "uid label key name text source scope sourceId props";

async function neighbourhood(id, types = null) {
  const data = await gql(
    `query($id: ID!, $types: [RelationshipType!]) { neighbourhood(id: $id, types: $types, cap: 15) { nodes { ${NODE_FIELDS} } edges { type start end } } }`,
    { id, types },
  );
  return data.neighbourhood;
}

// ---------------------------------------------------------------- ask

let sessionId = sessionStorage.getItem("flowrag.session") || null;

const ANSWER_FIELDS = `question answer mode language sessionId cypher notes
  citations { number uid label provenance snippet }
  nodes { ${NODE_FIELDS} } edges { type start end startNode { ${NODE_FIELDS} } endNode { ${NODE_FIELDS} } }
  plan { route confidence windowPhrase windowStart windowEnd timezone statuses sources collections
         aggregate { groupBy total groupCount negate order }
         estate { labels anchors negate latest counts } }`;

function askView(params) {
  const question = h("textarea", { id: "question", rows: 2, "aria-label": t("ask"), placeholder: t("askPlaceholder") });
  question.value = params.get("q") || "";
  const sourceBoxes = ["mongo", "code", "openapi", "html"].map((s) =>
    h("label", {}, h("input", { type: "checkbox", value: s, name: "source" }), ` ${s}`),
  );
  const collections = h("input", { id: "collections", type: "text", "aria-label": t("collectionsFilter"), placeholder: t("collectionsFilter") });
  const out = h("section", { id: "answer-area", "aria-live": "polite" });
  const run = async () => {
    const text = question.value.trim();
    if (!text) return;
    const sources = sourceBoxes.map((l) => l.firstChild).filter((b) => b.checked).map((b) => b.value);
    const cols = collections.value.split(",").map((c) => c.trim()).filter(Boolean);
    await ask(text, sources, cols, out);
  };
  const form = h(
    "form",
    { class: "ask", onsubmit: (e) => { e.preventDefault(); run(); } },
    question,
    h("div", { class: "filters" }, h("span", { text: `${t("sourcesFilter")} :` }), ...sourceBoxes, collections),
    h("div", { class: "row" },
      h("button", { type: "submit", id: "ask-button", text: t("askButton") }),
      h("button", { type: "button", onclick: () => { sessionId = null; sessionStorage.removeItem("flowrag.session"); out.replaceChildren(); }, text: t("newSession") })),
  );
  const examples = h("div", { class: "examples" }, h("span", { text: `${t("examples")} :` }),
    ...EXAMPLES[lang()].map((q) => h("button", { type: "button", class: "chip", onclick: () => { question.value = q; run(); }, text: q })));
  show(h("h1", { text: t("ask") }), form, examples, out);
  if (question.value) run();
}

async function ask(question, sources, collections, out) {
  const answerText = h("div", { class: "answer", id: "answer-text", text: t("thinking") });
  out.replaceChildren(h("h2", { text: t("answer") }), answerText);
  let streamed = "";
  let final = null;
  try {
    await subscribe(
      `subscription($q: String!, $s: [Source!], $c: [String!], $session: String) {
         askStream(question: $q, sources: $s, collections: $c, sessionId: $session) { token answer { ${ANSWER_FIELDS} } } }`,
      { q: question, s: sources.length ? sources : null, c: collections.length ? collections : null, session: sessionId },
      (data) => {
        const event = data.askStream;
        if (event.token) {
          streamed += event.token;
          answerText.textContent = streamed;
        }
        if (event.answer) final = event.answer;
      },
    );
  } catch (error) {
    out.append(failure(error));
    return;
  }
  if (!final) return;
  if (final.sessionId) {
    sessionId = final.sessionId;
    sessionStorage.setItem("flowrag.session", sessionId);
  }
  answerText.textContent = final.answer;
  out.append(h("p", { class: "meta", text: `mode ${final.mode} · ${final.plan.route} · ${final.plan.confidence}` }));
  out.append(
    h("h3", { text: t("citations") }),
    h("ol", { class: "citations", id: "citations" },
      ...final.citations.map((c) =>
        h("li", { value: c.number },
          h("a", { href: `#/node?id=${encodeURIComponent(c.uid)}`, text: `${c.label} — ${c.provenance}` }),
          h("div", { class: "snippet", text: c.snippet.slice(0, 300) })))),
  );
  const plan = final.plan;
  const rows = [
    ["route", plan.route],
    ["confidence", plan.confidence],
    ["window", plan.windowPhrase ? `${plan.windowPhrase} (${plan.windowStart} → ${plan.windowEnd}, ${plan.timezone})` : ""],
    ["statuses", plan.statuses.join(", ")],
    ["sources", plan.sources.join(", ")],
    ["collections", plan.collections.join(", ")],
    ["aggregate", plan.aggregate ? `${plan.aggregate.groupBy} · ${plan.aggregate.total} / ${plan.aggregate.groupCount} groups${plan.aggregate.negate ? " · negated" : ""}` : ""],
    ["estate", plan.estate ? `${plan.estate.labels.map((l) => `${l} ${plan.estate.counts[l] ?? 0}`).join(", ")}${plan.estate.negate ? " · not since" : ""}${plan.estate.anchors.length ? ` · from ${plan.estate.anchors.join(", ")}` : ""}` : ""],
  ].filter(([, v]) => v);
  out.append(h("h3", { text: t("plan") }), h("table", { class: "plan", id: "plan" }, ...rows.map(([k, v]) => h("tr", {}, h("th", { text: k }), h("td", { text: v })))));
  const graph = h("div", { class: "graph", id: "evidence-graph", role: "img", "aria-label": t("evidence") });
  const browser = `${window.FLOWRAG.neo4jBrowser}?cmd=edit&arg=${encodeURIComponent(final.cypher)}`;
  out.append(
    h("h3", { text: t("evidence") }),
    h("div", { class: "row" },
      h("a", { href: browser, target: "_blank", rel: "noopener", id: "open-browser", text: t("openBrowser") }),
      h("button", { type: "button", onclick: () => navigator.clipboard && navigator.clipboard.writeText(final.cypher), text: t("copyCypher") })),
    graph,
  );
  drawGraph(graph, final.nodes, final.edges, (id) => neighbourhood(id));
}

// ---------------------------------------------------------------- dashboard

async function dashboardView(params) {
  const dayInput = h("input", { type: "date", id: "day", "aria-label": t("day") });
  dayInput.value = params.get("date") || "";
  const period = h("select", { id: "period", "aria-label": t("period") },
    ...[7, 14, 30, 90].map((n) => h("option", { value: String(n), text: `${n} ${t("days")}` })));
  period.value = params.get("days") || "14";
  const span = h("select", { id: "span", "aria-label": t("span") },
    ...[1, 7, 30].map((n) => h("option", { value: String(n), text: n === 1 ? t("oneDay") : `${n} ${t("days")}` })));
  span.value = params.get("span") || "1";
  const wanted = new Set((params.get("collections") || "").split(",").filter(Boolean));
  const collectionBoxes = h("fieldset", { class: "filters", id: "dashboard-collections" }, h("legend", { text: t("collections") }));
  try {
    const known = await gql("{ collections { name } }");
    for (const c of known.collections) {
      const box = h("input", { type: "checkbox", value: c.name, id: `col-${c.name}` });
      box.checked = wanted.has(c.name);
      collectionBoxes.append(h("label", { for: `col-${c.name}` }, box, ` ${c.name}`));
    }
  } catch {
    // no collection list: the report counts them all
  }
  const chosen = () => [...collectionBoxes.querySelectorAll("input:checked")].map((b) => b.value);
  const out = h("section", { id: "dashboard" });
  const load = async () => {
    out.replaceChildren(h("p", { text: t("thinking") }));
    try {
      const data = await gql(
        `query($d: String, $l: String, $n: Int, $span: Int!, $c: [String!]) {
           report(date: $d, language: $l, chartDays: $n, days: $span, collections: $c) { day firstDay days collections timezone failingFlows synthesis
           delphix { kind name pipelines citations }
           totals { status count } chart { day counts { status count } }
           failures { pipeline name technology count last causes { message count citations } citations }
           newErrors { template message count pipelines citation } technologies { technology count }
           trends { dimension name direction today mean } } }`,
        { d: dayInput.value || null, l: lang(), n: Number(period.value), span: Number(span.value), c: chosen().length ? chosen() : null },
      );
      renderDashboard(out, data.report);
      dayInput.value = data.report.day;
    } catch (error) {
      out.replaceChildren(failure(error));
    }
  };
  show(
    h("h1", { text: t("dashboard") }),
    h("form", { class: "row", onsubmit: (e) => { e.preventDefault(); load(); } },
      h("label", { for: "day", text: t("day") }), dayInput,
      h("label", { for: "span", text: t("span") }), span,
      h("label", { for: "period", text: t("period") }), period, h("button", { type: "submit", text: t("load") })),
    collectionBoxes,
    out,
  );
  await load();
}

function whyQuestion(name, report) {
  if (report.days === 1) {
    return lang() === "fr" ? `Pourquoi ${name} a-t-il échoué le ${report.day} ?` : `Why did ${name} fail on ${report.day}?`;
  }
  return lang() === "fr"
    ? `Pourquoi ${name} a-t-il échoué entre le ${report.firstDay} et le ${report.day} ?`
    : `Why did ${name} fail between ${report.firstDay} and ${report.day}?`;
}

function renderDashboard(out, report) {
  const canvas = h("canvas", { id: "runs-chart", "aria-label": t("runsPerDay"), role: "img" });
  const statuses = [...new Set(report.chart.flatMap((d) => d.counts.map((c) => c.status)))];
  const totals = h("p", { id: "totals" }, report.totals.map((c) => `${c.count} ${c.status}`).join(" · ") || t("none"));
  const flows = h("table", { class: "flows", id: "failing-flows" },
    h("tr", {}, h("th", { text: t("flow") }), h("th", { text: t("count") }), h("th", { text: t("lastCause") }), h("th", { text: "" })),
    ...report.failures.map((f) => {
      const cause = f.causes[0];
      return h("tr", { "data-flow": f.pipeline },
        h("td", {}, h("a", { href: `#/explore?q=${encodeURIComponent(f.name)}`, text: f.name })),
        h("td", { class: "count", text: String(f.count) }),
        h("td", {}, cause ? `×${cause.count} ${cause.message}` : "", cause && cause.citations[0] ? h("code", { text: ` ${cause.citations[0]}` }) : ""),
        h("td", {}, h("a", { href: `#/ask?q=${encodeURIComponent(whyQuestion(f.name, report))}`, text: t("why") })));
    }));
  const list = (items, render) => (items.length ? h("ul", {}, ...items.map((i) => h("li", {}, render(i)))) : h("p", { text: t("none") }));
  const scope = `${report.days === 1 ? report.day : `${report.firstDay} → ${report.day}`}${report.collections.length ? ` · ${report.collections.join(", ")}` : ""}`;
  out.replaceChildren(
    h("p", { class: "meta", id: "scope", text: scope }),
    h("p", { class: "synthesis", text: report.synthesis }),
    totals,
    h("h2", { text: t("runsPerDay") }),
    h("div", { class: "chart" }, canvas),
    h("h2", { text: `${t("failingFlows")} (${report.failingFlows})` }),
    report.failures.length ? flows : h("p", { text: t("none") }),
    h("h2", { text: t("newErrors") }),
    list(report.newErrors, (e) => `×${e.count} ${e.message || e.template} — ${e.pipelines.join(", ")} (${e.citation})`),
    h("h2", { text: t("technologies") }),
    list(report.technologies, (x) => `${x.technology} (×${x.count})`),
    h("h2", { text: t("delphix") }),
    list(report.delphix, (o) => `${o.kind} ${o.name}${o.pipelines.length ? ` — ${o.pipelines.join(", ")}` : ""} (${o.citations.join(", ")})`),
    h("h2", { text: t("trends") }),
    list(report.trends, (x) => `${x.dimension} ${x.name}: ${x.direction} (${x.today} / ${x.mean.toFixed(1)})`),
  );
  new Chart(canvas, {
    type: "bar",
    data: {
      labels: report.chart.map((d) => d.day.slice(5)),
      datasets: statuses.map((s) => ({
        label: s,
        backgroundColor: STATUS_COLOURS[s] || "#888",
        data: report.chart.map((d) => (d.counts.find((c) => c.status === s) || { count: 0 }).count),
      })),
    },
    options: { animation: false, responsive: true, maintainAspectRatio: false, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } },
  });
}

// ---------------------------------------------------------------- explore

async function exploreView(params) {
  const input = h("input", { type: "search", id: "search", "aria-label": t("search"), placeholder: t("searchPlaceholder") });
  input.value = params.get("q") || "";
  const results = h("ul", { class: "results", id: "results" });
  const run = async () => {
    if (!input.value.trim()) return;
    try {
      const data = await gql(`query($q: String!) { search(text: $q, topK: 20) { score node { uid label name sourceId } } }`, { q: input.value.trim() });
      results.replaceChildren(...data.search.map((r) =>
        h("li", {}, h("span", { class: "badge", style: `background:${LABEL_COLOURS[r.node.label] || "#888"}`, text: r.node.label }), " ",
          h("a", { href: `#/node?id=${encodeURIComponent(r.node.uid)}`, text: r.node.name || r.node.uid }),
          h("span", { class: "meta", text: ` ${r.node.sourceId}` }))));
    } catch (error) {
      results.replaceChildren(failure(error));
    }
  };
  show(h("h1", { text: t("explore") }),
    h("form", { class: "row", onsubmit: (e) => { e.preventDefault(); run(); } }, input, h("button", { type: "submit", text: t("search") })),
    results);
  await run();
}

async function nodeView(params) {
  const id = params.get("id");
  try {
    const data = await gql(`query($id: ID!) { node(id: $id) { ${NODE_FIELDS} } }`, { id });
    const node = data.node;
    if (!node) {
      show(h("p", { text: `${id}: —` }));
      return;
    }
    const hood = await neighbourhood(id);
    const types = [...new Set(hood.edges.map((e) => e.type))].sort();
    const boxes = types.map((ty) => h("label", {}, h("input", { type: "checkbox", value: ty, checked: true }), ` ${ty}`));
    const graph = h("div", { class: "graph", id: "node-graph", role: "img", "aria-label": t("neighbourhood") });
    const redraw = async () => {
      const chosen = boxes.map((b) => b.firstChild).filter((b) => b.checked).map((b) => b.value);
      const sub = chosen.length === types.length ? hood : await neighbourhood(id, chosen);
      if (graph.cy) graph.cy.destroy();
      drawGraph(graph, [node, ...sub.nodes], sub.edges, (other) => neighbourhood(other));
    };
    show(
      h("h1", {}, h("span", { class: "badge", style: `background:${LABEL_COLOURS[node.label] || "#888"}`, text: node.label }), ` ${node.name || node.key}`),
      h("p", {}, h("strong", { text: `${t("provenance")} : ` }), h("code", { text: `${node.source} · ${node.scope} · ${node.sourceId}` })),
      h("pre", { class: "text", text: node.text.slice(0, 4000) }),
      h("h2", { text: t("properties") }),
      h("table", { class: "props" }, ...Object.entries(node.props || {}).map(([k, v]) => h("tr", {}, h("th", { text: k }), h("td", { text: typeof v === "string" ? v : JSON.stringify(v) })))),
      h("h2", { text: t("neighbourhood") }),
      h("fieldset", { class: "types" }, h("legend", { text: t("types") }), ...boxes.map((b) => { b.firstChild.addEventListener("change", redraw); return b; })),
      graph,
    );
    drawGraph(graph, [node, ...hood.nodes], hood.edges, (other) => neighbourhood(other));
  } catch (error) {
    show(failure(error));
  }
}

// ---------------------------------------------------------------- sources and jobs

const JOB_FIELDS = "id kind state done total message createdAt";

async function sourcesView() {
  const out = h("section", { id: "sources" });
  const jobs = h("ul", { class: "jobs", id: "jobs" });
  const kind = h("select", { id: "ingest-kind", "aria-label": t("kind") }, ...["openapi", "code", "html"].map((k) => h("option", { value: k, text: k })));
  const location_ = h("input", { id: "ingest-location", type: "text", "aria-label": t("location"), placeholder: t("location") });
  const name = h("input", { id: "ingest-name", type: "text", "aria-label": t("name"), placeholder: t("name") });
  const start = async () => {
    const field = { openapi: "ingestOpenApi(location: $l, name: $n)", code: "ingestCode(location: $l, name: $n)", html: "ingestHtml(location: $l, site: $n)" }[kind.value];
    try {
      const data = await gql(`mutation($l: String!, $n: String) { job: ${field} { ${JOB_FIELDS} } }`, { l: location_.value.trim(), n: name.value.trim() || null });
      watch(data.job, jobs);
    } catch (error) {
      jobs.prepend(h("li", {}, failure(error)));
    }
  };
  show(
    h("h1", { text: t("sources") }),
    h("h2", { text: t("ingested") }), out,
    h("h2", { text: t("startIngestion") }),
    h("form", { class: "row", onsubmit: (e) => { e.preventDefault(); start(); } }, kind, location_, name, h("button", { type: "submit", id: "ingest-start", text: t("start") })),
    h("h2", { text: t("jobs") }), jobs,
  );
  try {
    const data = await gql(`{ sources { nodes { name count } collections { name props } specs { name } repositories { name } } jobs(first: 10) { ${JOB_FIELDS} } }`);
    const s = data.sources;
    out.replaceChildren(
      h("table", { class: "counts" }, ...s.nodes.map((c) => h("tr", {}, h("th", { text: c.name }), h("td", { text: String(c.count) })))),
      h("p", { text: `collections: ${s.collections.map((c) => c.name).join(", ") || "—"}` }),
      mappingTable(s.collections),
      h("p", { text: `specs: ${s.specs.map((c) => c.name).join(", ") || "—"}` }),
      h("p", { text: `repositories: ${s.repositories.map((c) => c.name).join(", ") || "—"}` }),
    );
    jobs.replaceChildren(...data.jobs.map((j) => jobItem(j)));
  } catch (error) {
    out.replaceChildren(failure(error));
  }
}

// which field of each Mongo collection holds each monitoring concept (as the ingestion read it)
function mappingTable(collections) {
  const rows = collections.filter((c) => c.props && c.props.mapping).map((c) => [c.name, JSON.parse(c.props.mapping)]);
  if (!rows.length) return h("p", { text: "" });
  const concepts = [...new Set(rows.flatMap(([, m]) => Object.keys(m)))].sort();
  return h("table", { class: "counts", id: "mappings", "aria-label": t("mapping") },
    h("tr", {}, h("th", { text: t("mapping") }), ...concepts.map((c) => h("th", { text: c }))),
    ...rows.map(([name, m]) => h("tr", { "data-collection": name }, h("th", { text: name }), ...concepts.map((c) => h("td", { "data-concept": c, text: m[c] || "—" })))));
}

function jobItem(job) {
  const total = job.total ? `/${job.total}` : "";
  return h("li", { "data-job": job.id, "data-state": job.state }, `${job.kind} · ${job.state} · ${job.done}${total} ${job.message || ""}`);
}

async function watch(job, list) {
  let item = jobItem(job);
  list.prepend(item);
  try {
    await subscribe(`subscription($id: ID!) { jobProgress(id: $id) { ${JOB_FIELDS} } }`, { id: job.id }, (data) => {
      const fresh = jobItem(data.jobProgress);
      item.replaceWith(fresh);
      item = fresh;
    });
  } catch (error) {
    item.append(failure(error));
  }
}

// ---------------------------------------------------------------- login

function loginView(params) {
  const input = h("input", { type: "password", id: "api-key", autocomplete: "off", "aria-label": t("login") });
  const message = h("p", { role: "status" });
  const next = params.get("next") || "#/ask";
  show(
    h("h1", { text: t("login") }),
    h("p", { text: t("keyPrompt") }),
    h("form", {
      class: "row",
      onsubmit: async (e) => {
        e.preventDefault();
        setApiKey(input.value.trim());
        try {
          await gql("{ collections { name } }");
          location.hash = next;
        } catch (error) {
          setApiKey("");
          message.replaceWith((message.textContent = t("refused"), message));
          message.className = "error";
        }
      },
    }, input, h("button", { type: "submit", id: "login-button", text: t("keyButton") })),
    message,
  );
}

// ---------------------------------------------------------------- shell

const VIEWS = { ask: askView, dashboard: dashboardView, explore: exploreView, node: nodeView, sources: sourcesView, login: loginView };

function route() {
  const [path, query] = (location.hash.replace(/^#\/?/, "") || "ask").split("?");
  const view = VIEWS[path] || askView;
  document.querySelectorAll("nav a[data-view]").forEach((a) => a.setAttribute("aria-current", a.dataset.view === path ? "page" : "false"));
  view(new URLSearchParams(query || ""));
}

function shell() {
  setLang(lang());
  const nav = h("nav", { "aria-label": "flowrag" },
    h("strong", { class: "brand", text: "flowrag" }),
    ...["ask", "dashboard", "explore", "sources"].map((v) => h("a", { href: `#/${v}`, "data-view": v, text: t(v) })),
    h("span", { class: "spacer" }),
    h("label", {}, `${t("language")} `,
      (() => {
        const select = h("select", { id: "lang", onchange: (e) => { setLang(e.target.value); shell(); } },
          h("option", { value: "fr", text: "Français" }), h("option", { value: "en", text: "English" }));
        select.value = lang();
        return select;
      })()),
    apiKey() ? h("button", { type: "button", onclick: () => { setApiKey(""); shell(); }, text: t("logout") }) : h("a", { href: "#/login", text: t("login") }),
  );
  document.getElementById("nav").replaceChildren(nav);
  route();
}

window.addEventListener("hashchange", route);
shell();
