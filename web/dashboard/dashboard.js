// The esp dashboard: experiments, fitness over generations, the Pareto front, lineage and
// operations, drawn from espd's REST API with the user's bearer token. The token lives in
// sessionStorage (this tab only); a token in the URL fragment (#token=...) is taken from
// there and removed from the address bar at once. No inline script: the page's
// Content-Security-Policy allows this file and ECharts only.
"use strict";

const TOKEN_KEY = "esp.token";
const PAGE_SIZE = 20;
const $ = (id) => document.getElementById(id);

// --- the token and the API ---------------------------------------------------------

function takeTokenFromFragment() {
  const found = location.hash.match(/^#(?:.*&)?token=([^&]+)/);
  if (!found) return;
  sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(found[1]));
  history.replaceState(null, "", location.pathname + location.search);
}

const token = () => sessionStorage.getItem(TOKEN_KEY);

function claims() {
  try {
    const part = token().split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(part));
  } catch {
    return {};
  }
}

function isAdmin() {
  const c = claims();
  const scopes = `${c.scope || ""} ${(c.permissions || []).join(" ")}`.split(" ");
  return scopes.includes("esp:admin") || scopes.includes("all:esp");
}

class SignedOut extends Error {}

async function api(path, { method = "GET", body, blob = false, signal } = {}) {
  const headers = { Authorization: `Bearer ${token()}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const answer = await fetch(path, {
    method, headers, signal, body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (answer.status === 401) {
    signOut("Your session has ended: sign in again.");
    throw new SignedOut();
  }
  if (!answer.ok) {
    const problem = await answer.json().catch(() => ({}));
    throw new Error(problem.detail || problem.title || `${answer.status} ${answer.statusText}`);
  }
  return blob ? answer.blob() : answer.json();
}

const enc = encodeURIComponent;
const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

// --- views -----------------------------------------------------------------------------

let live = null; // the experiment page's refresh loop, stopped when the view changes

function show(section) {
  for (const id of ["sign-in", "experiments", "experiment"]) $(id).hidden = id !== section;
  $("sign-out").hidden = section === "sign-in";
  $("who").textContent = section === "sign-in" ? "" : claims().email || claims().sub || "";
}

function signOut(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  if (live) live.stop();
  $("sign-in-message").textContent = message || "";
  show("sign-in");
}

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

function row(cells, onClick) {
  const tr = document.createElement("tr");
  for (const cell of cells) tr.appendChild(cell instanceof Node ? wrap(cell) : element("td", String(cell)));
  if (onClick) {
    tr.className = "link";
    tr.addEventListener("click", onClick);
  }
  return tr;
}

function wrap(node) {
  const td = document.createElement("td");
  td.appendChild(node);
  return td;
}

const when = (iso) => (iso ? new Date(iso).toLocaleString() : "");
const seconds = (from, to) => (from && to ? `${((Date.parse(to) - Date.parse(from)) / 1000).toFixed(2)} s` : "");
const number = (x) => (typeof x === "number" ? (Math.abs(x) >= 1e6 || (x !== 0 && Math.abs(x) < 1e-3)
  ? x.toExponential(3) : x.toFixed(4)) : String(x));

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// --- sign-in ---------------------------------------------------------------------------

$("password-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("sign-in-message").textContent = "";
  const answer = await fetch("/auth", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ email: $("email").value, password: $("password").value }),
  });
  const body = await answer.json().catch(() => ({}));
  if (!answer.ok) {
    $("sign-in-message").textContent = body.detail || body.title || "Sign-in failed.";
    return;
  }
  $("password").value = "";
  sessionStorage.setItem(TOKEN_KEY, body.token);
  route();
});

$("token-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const pasted = $("token").value.trim();
  if (!pasted) return;
  $("token").value = "";
  sessionStorage.setItem(TOKEN_KEY, pasted);
  route();
});

$("sign-out").addEventListener("click", () => signOut(""));

// --- the experiments ---------------------------------------------------------------------

const listing = { tokens: [""], index: 0 };

async function showExperiments() {
  show("experiments");
  $("owner-switch").hidden = !isAdmin();
  const all = isAdmin() && $("all-owners").checked;
  const pageToken = listing.tokens[listing.index];
  const table = $("experiment-table");
  table.dataset.loaded = "false"; // "true" once this page's rows are drawn
  const page = await api(`/v1/experiments?page_size=${PAGE_SIZE}${all ? "&all=true" : ""}`
    + (pageToken ? `&page_token=${enc(pageToken)}` : ""));
  const body = table.tBodies[0];
  body.replaceChildren(...page.experiments.map((e) => row(
    [e.id, e.owner, when(e.created_at)],
    () => { location.hash = `#/experiments/${enc(e.id)}${all ? `?owner=${enc(e.owner)}` : ""}`; })));
  $("no-experiments").hidden = page.experiments.length > 0;
  listing.tokens[listing.index + 1] = page.next_page_token || null;
  $("next-page").disabled = !page.next_page_token;
  $("previous-page").disabled = listing.index === 0;
  table.dataset.loaded = "true";
}

$("next-page").addEventListener("click", () => { listing.index += 1; showExperiments().catch(report); });
$("previous-page").addEventListener("click", () => { listing.index -= 1; showExperiments().catch(report); });
$("all-owners").addEventListener("change", () => {
  listing.tokens = [""];
  listing.index = 0;
  showExperiments().catch(report);
});

// --- one experiment ------------------------------------------------------------------------

class ExperimentView {
  constructor(id, owner) {
    this.id = id;
    this.owner = owner;
    this.stopped = false;
    this.abort = new AbortController();
    this.charts = [];
    this.checkpointsByGeneration = new Map();
    this.populations = new Map(); // checkpoint id -> its candidates without weights
  }

  path(tail = "", query = "") {
    const owner = this.owner ? `owner=${enc(this.owner)}` : "";
    const all = [query, owner].filter(Boolean).join("&");
    return `/v1/experiments/${enc(this.id)}${tail}${all ? `?${all}` : ""}`;
  }

  stop() {
    this.stopped = true;
    this.abort.abort();
    for (const chart of this.charts) chart.dispose();
  }

  async load() {
    this.experiment = await api(this.path());
    const fitness = this.experiment.params.evolution?.fitness || [{ metric_name: "score", maximize: true }];
    this.objectives = fitness.map((f) => ({ name: f.metric_name, maximize: f.maximize !== false }));
    $("experiment-title").textContent = this.experiment.id;
    $("experiment-summary").textContent = `Owner ${this.experiment.owner}, generation ${this.experiment.generation}, `
      + `created ${when(this.experiment.created_at)}.`;
    $("params").textContent = JSON.stringify(this.experiment.params, null, 2);
    const [stats] = await Promise.all([api(this.path("/stats")), this.loadCheckpoints()]);
    this.drawFitness(stats.generations);
    await this.drawFront();
  }

  async loadCheckpoints() {
    const all = [];
    let pageToken = "";
    do {
      const page = await api(this.path("/checkpoints", `page_size=500${pageToken ? `&page_token=${enc(pageToken)}` : ""}`));
      all.push(...page.checkpoints);
      pageToken = page.next_page_token || "";
    } while (pageToken);
    for (const c of all) this.checkpointsByGeneration.set(c.generation, c.id);
    const newest = all.slice(-PAGE_SIZE).reverse();
    $("checkpoints").tBodies[0].replaceChildren(...newest.map((c) => {
      const download = element("button", "Download");
      download.type = "button";
      download.addEventListener("click", () => this.download(c.id).catch(report));
      return row([c.id, c.generation, `${(c.size_bytes / 1024).toFixed(1)} KiB`, when(c.created_at), download]);
    }));
  }

  async download(checkpointId) {
    const blob = await api(this.path(`/checkpoints/${enc(checkpointId)}`), { blob: true });
    const link = element("a");
    link.href = URL.createObjectURL(blob);
    link.download = `${checkpointId.replace(/\//g, "_")}.json`;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  }

  drawFitness(generations) {
    for (const chart of this.charts) chart.dispose();
    this.charts = [];
    const holder = $("charts");
    holder.replaceChildren();
    const x = generations.map((g) => g.generation);
    this.objectives.forEach((objective, i) => {
      const div = element("div", undefined, "chart");
      div.dataset.metric = objective.name;
      holder.appendChild(div);
      const values = generations.map((g) => g.objectives[i] || {});
      const best = values.map((v) => (objective.maximize ? v.max : v.min));
      const worst = values.map((v) => (objective.maximize ? v.min : v.max));
      const chart = echarts.init(div);
      chart.setOption({
        title: { text: `${objective.name} (${objective.maximize ? "maximised" : "minimised"})`, textStyle: { fontSize: 14 } },
        tooltip: { trigger: "axis" },
        legend: { top: 24 },
        grid: { top: 60, left: 60, right: 20, bottom: 40 },
        xAxis: { type: "category", name: "generation", data: x },
        yAxis: { type: "value", scale: true },
        series: [
          { name: "best", type: "line", data: best, showSymbol: x.length < 60 },
          { name: "mean", type: "line", data: values.map((v) => v.mean), showSymbol: x.length < 60 },
          { name: objective.maximize ? "min" : "max", type: "line", data: worst, showSymbol: x.length < 60 },
        ],
        animation: false,
      });
      this.charts.push(chart);
    });
    if (!generations.length) holder.appendChild(element("p", "No generation has been evaluated yet."));
  }

  // The newest checkpoint's evaluation_stats: every candidate of the generation it was
  // bred from, with its metrics and NSGA-II rank.
  async drawFront() {
    const latest = this.experiment.latest_checkpoint;
    const frontDiv = $("front");
    if (this.frontChart) this.frontChart.dispose();
    this.frontChart = null;
    $("front-note").textContent = "";
    if (!latest) {
      $("front-generation").textContent = "–";
      $("front-note").textContent = "No generation has been evaluated yet.";
      return;
    }
    const population = await api(this.path(`/checkpoints/${enc(latest)}`, "interpretations=false"));
    const stats = population.evaluation_stats;
    if (!stats || !stats.server_metrics) {
      $("front-generation").textContent = "–";
      $("front-note").textContent = "No generation has been evaluated yet.";
      return;
    }
    this.evaluatedGeneration = population.generation - 1;
    $("front-generation").textContent = String(this.evaluatedGeneration);
    this.candidates = Object.entries(stats.server_metrics).map(([id, metrics]) => ({ id, metrics }));
    const names = this.objectives.map((o) => o.name);
    const picker = $("pair-picker");
    if (names.length < 2) {
      picker.hidden = true;
      $("front-note").textContent = "One objective: the front is the best candidate.";
      this.showCandidate(this.best(names[0]));
      return;
    }
    picker.hidden = names.length < 3;
    for (const [select, initial] of [[$("front-x"), 0], [$("front-y"), 1]]) {
      if (select.options.length !== names.length) {
        select.replaceChildren(...names.map((n) => element("option", n)));
        select.selectedIndex = initial;
      }
    }
    this.frontChart = echarts.init(frontDiv);
    this.frontChart.on("click", (event) => this.showCandidate(event.data.candidate));
    this.plotPair();
  }

  best(name) {
    const objective = this.objectives.find((o) => o.name === name);
    const scored = this.candidates.filter((c) => typeof c.metrics[name] === "number");
    scored.sort((a, b) => (objective.maximize ? b.metrics[name] - a.metrics[name] : a.metrics[name] - b.metrics[name]));
    return scored[0];
  }

  plotPair() {
    const [xName, yName] = [$("front-x").value, $("front-y").value];
    const point = (c) => ({ value: [c.metrics[xName], c.metrics[yName]], candidate: c });
    const complete = this.candidates.filter((c) => typeof c.metrics[xName] === "number" && typeof c.metrics[yName] === "number");
    const first = complete.filter((c) => c.metrics["NSGA-II_rank"] === 0);
    const rest = complete.filter((c) => c.metrics["NSGA-II_rank"] !== 0);
    this.frontChart.setOption({
      tooltip: {
        trigger: "item",
        formatter: (p) => [`<b>${escapeHtml(p.data.candidate.id)}</b>`,
          ...Object.entries(p.data.candidate.metrics).map(([k, v]) => `${escapeHtml(k)}: ${escapeHtml(number(v))}`)].join("<br>"),
      },
      legend: { top: 0 },
      grid: { top: 40, left: 70, right: 20, bottom: 50 },
      xAxis: { type: "value", name: xName, nameLocation: "middle", nameGap: 30, scale: true },
      yAxis: { type: "value", name: yName, scale: true },
      series: [
        { name: "first front", type: "scatter", data: first.map(point), symbolSize: 10 },
        { name: "other candidates", type: "scatter", data: rest.map(point), symbolSize: 6, itemStyle: { opacity: 0.45 } },
      ],
      animation: false,
    }, true);
    if (first.length) this.showCandidate(first[0]);
  }

  // Identity and lineage come from the checkpoint the candidate was handed out in.
  async showCandidate(candidate) {
    if (!candidate) return;
    const holder = $("candidate");
    const checkpointId = this.checkpointsByGeneration.get(this.evaluatedGeneration);
    let identity = {};
    if (checkpointId) {
      if (!this.populations.has(checkpointId)) {
        const population = await api(this.path(`/checkpoints/${enc(checkpointId)}`, "interpretations=false"));
        this.populations.set(checkpointId, new Map(population.population.map((c) => [c.id, c])));
      }
      identity = this.populations.get(checkpointId).get(candidate.id)?.identity || {};
    }
    const list = element("dl");
    list.dataset.candidate = candidate.id;
    const add = (term, value) => {
      list.appendChild(element("dt", term));
      list.appendChild(element("dd", value === undefined || value === null ? "" : String(value)));
    };
    add("id", candidate.id);
    add("birth generation", identity.birth_generation);
    add("origin", identity.origin);
    add("parents", (identity.ancestor_ids || []).join(", ") || "none (a seed)");
    add("ancestors", identity.ancestor_count);
    if (identity.crossover) add("crossover", identity.crossover);
    if (identity.mutation) add("mutation", identity.mutation);
    for (const [name, value] of Object.entries(candidate.metrics)) add(name, number(value));
    holder.replaceChildren(list);
  }

  renderOperations(operations) {
    $("operations").tBodies[0].replaceChildren(...operations.map((o) => {
      const at = Object.fromEntries(o.stages.map((s) => [s.name, s.at]));
      const ended = at.succeeded || at.failed || at.cancelled;
      const status = element("span", o.status, `status-${o.status}`);
      const result = o.result ? `generation ${o.result.generation}` : o.error?.message || "";
      const tr = row([o.id, status, when(at.queued), seconds(at.queued, at.running || ended),
        seconds(at.running, ended), result]);
      tr.dataset.operation = o.id;
      tr.dataset.status = o.status;
      return tr;
    }));
  }

  // Refreshes by itself: a running operation is long-polled, and when it ends (or
  // another client starts a generation) the page is drawn again.
  async refreshLoop() {
    let generation = this.experiment.generation;
    while (!this.stopped) {
      const page = await api(this.path("/operations", `page_size=${PAGE_SIZE}`), { signal: this.abort.signal });
      if (this.stopped) return;
      this.renderOperations(page.operations);
      const running = page.operations.find((o) => o.status === "queued" || o.status === "running");
      if (running) {
        await api(`/v1/operations/${enc(running.id)}?wait=20`, { signal: this.abort.signal });
      } else {
        await sleep(2000);
      }
      if (this.stopped) return;
      const experiment = await api(this.path(), { signal: this.abort.signal });
      if (experiment.generation !== generation) {
        generation = experiment.generation;
        await this.load();
      }
    }
  }
}

async function showExperiment(id, owner) {
  show("experiment");
  $("experiment-error").textContent = "";
  const view = new ExperimentView(id, owner);
  live = view;
  window.espDashboard = view; // for the browser tests and the curious
  await view.load();
  view.refreshLoop().catch((error) => { if (!view.stopped) report(error); });
}

// --- routing ---------------------------------------------------------------------------

function report(error) {
  if (error instanceof SignedOut || error.name === "AbortError") return;
  const shown = ["experiment", "experiments"].find((id) => !$(id).hidden);
  $(shown ? `${shown}-error` : "sign-in-message").textContent = error.message;
}

function route() {
  takeTokenFromFragment();
  if (live) {
    live.stop();
    live = null;
  }
  if (!token()) {
    signOut("");
    return;
  }
  const found = location.hash.match(/^#\/experiments\/([^?]+)(?:\?owner=(.+))?$/);
  const shown = found ? showExperiment(decodeURIComponent(found[1]), found[2] && decodeURIComponent(found[2]))
    : showExperiments();
  shown.catch(report);
}

window.addEventListener("hashchange", route);
$("front-x").addEventListener("change", () => live?.plotPair());
$("front-y").addEventListener("change", () => live?.plotPair());
route();
