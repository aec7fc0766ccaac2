// The interactive page: builds the form from /ui/form.json (labelled choices generated from
// accidents/serving/schema.py, so the page never drifts from the API) and posts one road
// user to /predict. No framework, no build step: the Bento serves these files as they are.
"use strict";

const GROUP_TITLES = {
  accident: "The accident",
  road: "The road",
  vehicle: "The vehicle (for a pedestrian: the vehicle that hit them)",
  person: "The person",
  scene: "At the scene",
};

function el(tag, attrs = {}, text = "") {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text) node.textContent = text;
  return node;
}

function pad(n) { return String(n).padStart(2, "0"); }

function buildField(f, today) {
  const wrap = el("div", { class: "field" + (f.required ? " required" : "") });
  const id = "f-" + f.name;
  wrap.appendChild(el("label", { for: id, title: f.label_fr }, f.label_en));
  let input;
  if (f.kind === "code") {
    input = el("select", { id, name: f.name });
    for (const c of f.choices) {
      const opt = el("option", { value: String(c.code), title: c.label_fr }, c.label_en);
      input.appendChild(opt);
    }
    const initial = f.default !== null ? f.default : f.choices.find((c) => c.code !== -1).code;
    input.value = String(initial);
  } else if (f.kind === "hrmn") {
    input = el("input", { id, name: f.name, type: "time", required: "" });
    input.value = `${pad(today.getHours())}:${pad(today.getMinutes())}`;
  } else {
    input = el("input", { id, name: f.name, type: "number", step: "1" });
    if (f.min !== null) input.min = f.min;
    if (f.max !== null) input.max = f.max;
    const defaults = { an: today.getFullYear(), mois: today.getMonth() + 1, jour: today.getDate(),
                       n_vehicles: 2, n_users: 2 };
    if (f.name in defaults) input.value = defaults[f.name];
    else if (f.default !== null) input.value = f.default;
    else input.placeholder = "not recorded";
  }
  input.dataset.kind = f.kind;
  wrap.appendChild(input);
  return wrap;
}

function readRow(form) {
  const row = {};
  for (const input of form.querySelectorAll("[data-kind]")) {
    const v = input.value.trim();
    if (input.dataset.kind === "hrmn") row[input.name] = v;
    else if (v === "") { if (input.dataset.kind !== "measure") row[input.name] = null; }
    else row[input.name] = Number(v);
  }
  for (const k of Object.keys(row)) if (row[k] === null) delete row[k];
  return row;
}

function showError(text) {
  const box = document.getElementById("error");
  box.textContent = text;
  box.hidden = false;
  document.getElementById("result").hidden = true;
}

async function predict(event) {
  event.preventDefault();
  const form = document.getElementById("situation");
  const headers = { "Content-Type": "application/json" };
  const key = document.getElementById("api-key").value.trim();
  if (key) headers["X-API-Key"] = key;
  document.getElementById("error").hidden = true;
  let resp;
  try {
    resp = await fetch("/predict", { method: "POST", headers,
                                     body: JSON.stringify({ road_users: [readRow(form)] }) });
  } catch (err) {
    showError("The service did not answer: " + err);
    return;
  }
  const body = await resp.json().catch(() => ({}));
  if (!resp.ok) {
    const details = Array.isArray(body.detail) ? body.detail.map((d) => d.msg).join("\n") : "";
    showError(`Error ${resp.status}: ${details || body.error || resp.statusText}`);
    return;
  }
  const p = body[0];
  const result = document.getElementById("result");
  document.getElementById("result-decision").textContent =
    p.severe ? "Severe: likely killed or hospitalised" : "Not severe: likely unhurt or slightly hurt";
  result.className = p.severe ? "severe" : "not-severe";
  document.getElementById("result-probability").textContent =
    `Probability of a severe outcome: ${(100 * p.probability).toFixed(1)} %`;
  document.getElementById("result-detail").textContent =
    `Decision threshold ${(100 * p.threshold).toFixed(1)} % · model version ${p.model_version} · prediction ${p.prediction_id}`;
  result.hidden = false;
}

async function init() {
  const resp = await fetch("form.json");
  const spec = await resp.json();
  const today = new Date();
  const groups = document.getElementById("groups");
  for (const g of spec.groups) {
    const fs = el("fieldset", { id: "group-" + g.group });
    fs.appendChild(el("legend", {}, GROUP_TITLES[g.group] || g.group));
    for (const f of g.fields) fs.appendChild(buildField(f, today));
    groups.appendChild(fs);
  }
  const m = spec.model || {};
  document.getElementById("model-line").textContent = m.model_version
    ? `Model ${m.zenml_model} version ${m.model_version}, trained on ${(m.data_years || []).join(", ")}.`
    : "";
  document.getElementById("situation").addEventListener("submit", predict);
  document.body.dataset.ready = "1";
}

init().catch((err) => showError("Could not load the form: " + err));
