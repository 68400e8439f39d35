// GraphQL over HTTP (queries, mutations) and over WebSocket (graphql-transport-ws: askStream,
// jobProgress), with the API key of this browser session.

const KEY = "flowrag.apiKey";

export function apiKey() {
  return sessionStorage.getItem(KEY) || "";
}

export function setApiKey(value) {
  if (value) sessionStorage.setItem(KEY, value);
  else sessionStorage.removeItem(KEY);
}

export class ApiError extends Error {
  constructor(message, code) {
    super(message);
    this.code = code || "";
  }
}

export async function gql(query, variables = {}) {
  const headers = { "content-type": "application/json" };
  if (apiKey()) headers["x-api-key"] = apiKey();
  const response = await fetch("/graphql", {
    method: "POST",
    headers,
    body: JSON.stringify({ query, variables }),
  });
  let body;
  try {
    body = await response.json();
  } catch {
    throw new ApiError(`HTTP ${response.status}`, "HTTP");
  }
  if (body.errors && body.errors.length) {
    const first = body.errors[0];
    throw new ApiError(first.message, (first.extensions || {}).code);
  }
  return body.data;
}

// One subscription; onNext(data) for each event; resolves when the server completes it.
export function subscribe(query, variables, onNext) {
  return new Promise((resolve, reject) => {
    const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql`;
    const ws = new WebSocket(url, "graphql-transport-ws");
    ws.onopen = () => {
      const payload = apiKey() ? { apiKey: apiKey() } : {};
      ws.send(JSON.stringify({ type: "connection_init", payload }));
    };
    ws.onmessage = (event) => {
      const message = JSON.parse(event.data);
      if (message.type === "connection_ack") {
        ws.send(JSON.stringify({ id: "1", type: "subscribe", payload: { query, variables } }));
      } else if (message.type === "next") {
        if (message.payload.errors && message.payload.errors.length) {
          const first = message.payload.errors[0];
          reject(new ApiError(first.message, (first.extensions || {}).code));
          ws.close();
        } else {
          onNext(message.payload.data);
        }
      } else if (message.type === "error") {
        const first = (message.payload || [])[0] || {};
        reject(new ApiError(first.message || "subscription refused", (first.extensions || {}).code));
        ws.close();
      } else if (message.type === "complete") {
        resolve();
        ws.close();
      } else if (message.type === "ping") {
        ws.send(JSON.stringify({ type: "pong" }));
      }
    };
    ws.onerror = () => reject(new ApiError("WebSocket error", "WS"));
    ws.onclose = (event) => {
      if (event.code === 4403 || event.code === 4401) reject(new ApiError("forbidden", "UNAUTHENTICATED"));
      else resolve();
    };
  });
}
