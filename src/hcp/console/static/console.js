// hcp console: polls the console's JSON API every few seconds and redraws; every error shown is the API's own words.
"use strict";

const POLL_MS = 3000;
const PLOTS_MS = 30000;  // the plots cover an hour at a point a minute: redrawing them every 3 s would show nothing new
const $ = (id) => document.getElementById(id);

function el(tag, text, attrs) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
  return node;
}

function showError(id, message) {
  const node = $(id);
  if (node) node.textContent = message || "";
}

async function api(method, path, body) {
  const options = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  let data = {};
  try { data = await response.json(); } catch (e) { data = { error: `HTTP ${response.status}` }; }
  if (response.status === 401) {  // no session (any more), or the API server no longer takes the token
    window.location.assign("/login");
  }
  if (!response.ok) {
    const error = new Error(data.error || `HTTP ${response.status}`);
    error.status = response.status;
    throw error;
  }
  return data;
}

function poll(step) {
  let timer = null;
  const run = async () => {
    try { await step(); } finally { timer = setTimeout(run, POLL_MS); }
  };
  run();
  return () => clearTimeout(timer);
}

function stamp() {
  const node = $("updated");
  if (node) node.textContent = `updated ${new Date().toLocaleTimeString()} (live, every ${POLL_MS / 1000}s)`;
}

function conditionCell(condition, kind) {
  const td = el("td", null, { class: `cond cond-${kind}` });
  if (!condition) { td.textContent = "—"; return td; }
  const status = el("span", condition.status, { class: `status health-${condition.health}` });
  td.append(status);
  if (condition.message) td.append(el("div", condition.message, { class: "message" }));
  return td;
}

// -- the cluster list ------------------------------------------------------------------------------------------

function listPage() {
  const namespace = document.body.dataset.namespace;
  const query = namespace ? `?namespace=${encodeURIComponent(namespace)}` : "";
  const create = $("create-link");
  if (namespace) create.href = `/new?namespace=${encodeURIComponent(namespace)}`;
  poll(async () => {
    try {
      const data = await api("GET", `/api/clusters${query}`);
      showError("error", "");
      const body = $("clusters").tBodies[0];
      body.replaceChildren();
      for (const c of data.clusters) {
        const key = `${c.namespace}/${c.name}`;
        const row = el("tr", null, { "data-cluster": key });
        const link = el("a", c.name, { href: `/clusters/${c.namespace}/${c.name}` });
        const name = el("td"); name.append(link);
        const job = data.destroys[key];
        if (c.deleting || (job && !job.done)) name.append(el("span", " deleting", { class: "badge deleting" }));
        row.append(name, el("td", c.namespace), el("td", c.version || "—", { class: "version" }),
          conditionCell(c.conditions.Available, "Available"), conditionCell(c.conditions.Progressing, "Progressing"),
          conditionCell(c.conditions.Degraded, "Degraded"), el("td", c.nodePools, { class: "nodepools" }));
        body.append(row);
      }
      $("empty").hidden = data.clusters.length > 0;
      stamp();
    } catch (error) {
      showError("error", error.message);
    }
  });
  const capacity = async () => {
    try {
      const data = await api("GET", "/api/capacity");
      $("capacity").textContent = data.table;
      showError("capacity-error", "");
    } catch (error) {
      $("capacity").textContent = "";
      showError("capacity-error", error.message);
    }
  };
  capacity();
  setInterval(capacity, 30000);
}

// -- creating ------------------------------------------------------------------------------------------------

async function newPage() {
  const form = $("create");
  try {
    const releases = await api("GET", "/api/releases");
    const list = $("release-images");
    for (const image of releases.images) list.append(el("option", null, { value: image }));
    if (!$("release-image").value) $("release-image").value = releases.default;
    $("supported-versions").textContent = releases.supportedVersions.length
      ? `Supported Kubernetes versions (ConfigMap hypershift/supported-versions): ${releases.supportedVersions.join(", ")}`
      : (releases.supportedVersionsError ? `Supported versions not readable: ${releases.supportedVersionsError}` : "");
  } catch (error) {
    showError("error", error.message);
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = $("create-button");
    button.disabled = true;
    showError("error", "");
    const fields = Object.fromEntries(new FormData(form).entries());
    fields.replicas = Number(fields.replicas);
    try {
      const created = await api("POST", "/api/clusters", fields);
      const log = $("create-log");
      log.hidden = false;
      log.textContent = created.lines.join("\n");
      window.location.assign(`/?namespace=${encodeURIComponent(created.namespace)}`);
    } catch (error) {
      showError("error", error.message);
    } finally {
      button.disabled = false;
    }
  });
}

// -- one cluster ----------------------------------------------------------------------------------------------

function clusterPage() {
  const { namespace, name } = document.body.dataset;
  const base = `/api/clusters/${namespace}/${name}`;
  const poolRows = new Map();
  let updates = "";

  const scaleRow = (pool) => {
    const row = el("tr", null, { "data-nodepool": pool.name });
    const cells = {};
    for (const key of ["name", "platform", "replicas", "currentReplicas", "version", "ready"]) {
      cells[key] = el("td", null, { class: key });
      row.append(cells[key]);
    }
    const form = el("form", null, { class: "inline scale" });
    const input = el("input", null, { type: "number", min: "0", name: "replicas", value: pool.replicas ?? 0,
      "aria-label": `replicas of ${pool.name}` });
    const button = el("button", "Scale", { type: "submit" });
    form.append(input, button);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      button.disabled = true;
      try {
        await api("POST", `${base}/nodepools/${pool.name}/scale`, { replicas: Number(input.value) });
        showError("error", "");
        refresh();
      } catch (error) {
        showError("error", error.message);
      } finally {
        button.disabled = false;
      }
    });
    const cell = el("td"); cell.append(form); row.append(cell);
    return { row, cells };
  };

  const render = (c) => {
    const badges = $("badges");
    badges.replaceChildren();
    for (const kind of ["Available", "Progressing", "Degraded"]) {
      const condition = c.conditions[kind];
      badges.append(el("span", `${kind}: ${condition ? condition.status : "—"}`,
        { class: `badge status health-${condition ? condition.health : "neutral"}`, id: `badge-${kind}` }));
    }
    if (c.deleting) badges.append(el("span", "deleting", { class: "badge deleting" }));
    const endpoint = c.controlPlaneEndpoint ? `https://${c.controlPlaneEndpoint.host}:${c.controlPlaneEndpoint.port}` : "not yet published";
    $("summary").textContent = `Version ${c.version || "—"} · release ${c.releaseImage} · API server ${endpoint}`;
    $("kubeconfig").hidden = !c.kubeconfigReady;
    $("kubeconfig-pending").hidden = c.kubeconfigReady;

    const now = c.availableUpdates.join("\n");
    if (now !== updates) {
      updates = now;
      const select = $("update-image");
      select.replaceChildren(...c.availableUpdates.map((image) => el("option", image, { value: image })));
    }
    $("update").hidden = c.availableUpdates.length === 0;
    $("no-updates").hidden = c.availableUpdates.length > 0;

    const conditions = $("conditions").tBodies[0];
    conditions.replaceChildren(...c.allConditions.map((k) => {
      const row = el("tr", null, { "data-condition": k.type });
      row.append(el("td", k.type), el("td", k.status, { class: `status health-${k.health}` }), el("td", k.reason || ""),
        el("td", k.message || "", { class: "message" }), el("td", k.lastTransitionTime || ""));
      return row;
    }));

    const pools = $("nodepools").tBodies[0];
    const seen = new Set();
    for (const pool of c.nodePools) {
      seen.add(pool.name);
      if (!poolRows.has(pool.name)) {
        const entry = scaleRow(pool);
        poolRows.set(pool.name, entry);
        pools.append(entry.row);
      }
      const { cells } = poolRows.get(pool.name);
      const ready = pool.conditions.find((k) => k.type === "Ready");
      cells.name.textContent = pool.name;
      cells.platform.textContent = pool.platform || "";
      cells.replicas.textContent = pool.replicas ?? "";
      cells.currentReplicas.textContent = pool.currentReplicas;
      cells.version.textContent = pool.version || "—";
      cells.ready.textContent = ready ? `${ready.status}${ready.message ? ": " + ready.message : ""}` : "—";
    }
    for (const [poolName, entry] of poolRows) {
      if (!seen.has(poolName)) { entry.row.remove(); poolRows.delete(poolName); }
    }

    showError("events-error", c.eventsError);
    const events = $("events").tBodies[0];
    events.replaceChildren(...c.events.map((e) => {
      const row = el("tr");
      row.append(el("td", e.lastTimestamp || ""), el("td", e.type || ""), el("td", e.reason || ""), el("td", e.count),
        el("td", e.message || "", { class: "message" }));
      return row;
    }));
    showDestroy(c.destroy);
  };

  const showDestroy = (job) => {
    if (!job) return;
    const log = $("destroy-log");
    log.hidden = false;
    log.textContent = job.lines.join("\n") + (job.error ? `\nerror: ${job.error}` : "");
  };

  let gone = false;
  // Whether the error shown is the refresh's own. A good refresh clears only that one: an action's refusal
  // (a scale, a destroy with the wrong name) stays until the next action, not until the next poll.
  let refreshFailed = false;
  const refresh = async () => {
    if (gone) return;
    try {
      render(await api("GET", base));
      if (refreshFailed) showError("error", "");
      refreshFailed = false;
      stamp();
    } catch (error) {
      if (error.status === 404) {
        gone = true;
        $("summary").textContent = `HostedCluster ${namespace}/${name} does not exist (any more).`;
        document.body.classList.add("gone");
      }
      showError("error", error.message);
      refreshFailed = true;
    }
  };
  poll(refresh);
  drawPlots(base, () => gone);

  $("update").addEventListener("submit", async (event) => {
    event.preventDefault();
    const image = $("update-image").value;
    if (!window.confirm(`Update ${namespace}/${name} to ${image}?`)) return;
    try {
      await api("POST", `${base}/update`, { image });
      showError("error", "");
      refresh();
    } catch (error) {
      showError("error", error.message);
    }
  });

  $("destroy").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const job = await api("POST", `${base}/destroy`, { confirm: $("destroy-confirm").value });
      showError("error", "");
      showDestroy(job);
    } catch (error) {
      showError("error", error.message);
    }
  });
}

// The plots arrive as SVG drawn by the console's server; parsed as SVG (never as HTML) and put in place.
function drawPlots(base, gone) {
  const svg = (text) => document.importNode(
    new DOMParser().parseFromString(text, "image/svg+xml").documentElement, true);
  const draw = async () => {
    if (gone()) return;
    try {
      const data = await api("GET", `${base}/metrics`);
      showError("plots-error", "");
      const note = $("plots-unavailable");
      note.hidden = !data.unavailable;
      note.textContent = data.unavailable || "";
      $("plots").replaceChildren(...data.plots.map((plot) => {
        const figure = el("figure", null, { "data-plot": plot.title });
        figure.append(el("figcaption", plot.title));
        figure.append(plot.svg ? svg(plot.svg) : el("p", plot.error, { class: "error" }));
        return figure;
      }));
    } catch (error) {
      showError("plots-error", error.message);
    }
  };
  draw();
  setInterval(draw, PLOTS_MS);
}

document.addEventListener("DOMContentLoaded", () => {
  const page = document.body.dataset.page;
  if (page === "list") listPage();
  else if (page === "new") newPage();
  else if (page === "cluster") clusterPage();
});
