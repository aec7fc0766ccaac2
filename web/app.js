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

function buildField(f) {
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
  } else {
    input = el("input", { id, name: f.name, type: "number", step: "1" });
    if (f.min !== null) input.min = f.min;
    if (f.max !== null) input.max = f.max;
    if (f.default !== null) input.value = f.default;
    else input.placeholder = "not recorded";
  }
  input.dataset.kind = f.kind;
  input.dataset.label = f.label_en;
  wrap.appendChild(input);
  return wrap;
}

// Fill every field from one of the service's examples (accidents/serving/examples.py).
function applyExample(values) {
  for (const [name, value] of Object.entries(values)) {
    const input = document.getElementById("f-" + name);
    if (input) input.value = value === null ? "" : String(value);
  }
}

// Inputs left "not recorded" (code -1 or an empty measure): the police files use them mostly
// for people who were not examined, i.e. unhurt, so the model reads them that way.
function notRecorded(form) {
  const missing = [];
  let total = 0;
  for (const input of form.querySelectorAll("[data-kind]")) {
    total += 1;
    const v = input.value.trim();
    if (v === "-1" || (input.dataset.kind === "measure" && v === "")) missing.push(input.dataset.label);
  }
  return { missing, total };
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
                                     body: JSON.stringify({ road_users: [readRow(form)], explain: true }) });
  } catch (err) {
    showError("The service did not answer: " + err);
    return;
  }
  const body = await resp.json().catch(() => ({}));
  if (resp.status === 401) {
    showError("This service needs an API key: enter it under \u201cAccess\u201d and press Predict.");
    return;
  }
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
  const { missing, total } = notRecorded(form);
  document.getElementById("result-missing").textContent = missing.length
    ? `Not recorded (${missing.length} of ${total} inputs): ${missing.join(", ")}.`
    : `All ${total} inputs are recorded.`;
  const warning = document.getElementById("result-warning");
  warning.hidden = missing.length * 2 <= total;
  warning.textContent = "Most inputs are \u201cnot recorded\u201d: in the police files that mostly " +
    "describes people nobody examined (unhurt), so this probability is likely too low. " +
    "Fill in the situation, or start from an example.";
  showExplanation(p.explanation);
  result.hidden = false;
}

// "What raised / lowered the risk": the service's largest contributions, by field label.
// XGBoost gives them in log-odds (TreeSHAP), a random forest in probability points.
function showExplanation(exp) {
  const box = document.getElementById("explanation");
  const raised = document.getElementById("explanation-raised");
  const lowered = document.getElementById("explanation-lowered");
  raised.replaceChildren();
  lowered.replaceChildren();
  box.hidden = !exp;
  if (!exp) return;
  for (const c of exp.top) {
    const size = exp.units === "probability"
      ? `${(100 * Math.abs(c.contribution)).toFixed(1)} points` : `${Math.abs(c.contribution).toFixed(2)} log-odds`;
    let shown = c.value === null ? "not recorded" : String(c.value);
    const input = document.getElementById("f-" + c.field);  // a code field: show its label
    const option = input && input.tagName === "SELECT" && [...input.options].find((o) => o.value === shown);
    if (option) shown = option.textContent;
    const item = el("li", { "data-field": c.field }, `${c.label} (${shown}): ${size}`);
    (c.contribution > 0 ? raised : lowered).appendChild(item);
  }
  document.getElementById("explanation-note").textContent = exp.units === "probability"
    ? "The fields that moved this prediction most (decision-path contributions of the random forest)."
    : "The fields that moved this prediction most (TreeSHAP contributions to the model's log-odds).";
  for (const list of [raised, lowered]) {
    if (!list.children.length) list.appendChild(el("li", { class: "none" }, "nothing among the largest effects"));
  }
}

async function init() {
  const resp = await fetch("form.json");
  const spec = await resp.json();
  const groups = document.getElementById("groups");
  for (const g of spec.groups) {
    const fs = el("fieldset", { id: "group-" + g.group });
    fs.appendChild(el("legend", {}, GROUP_TITLES[g.group] || g.group));
    for (const f of g.fields) fs.appendChild(buildField(f));
    groups.appendChild(fs);
  }
  const m = spec.model || {};
  document.getElementById("model-line").textContent = m.model_version
    ? `Model ${m.zenml_model} version ${m.model_version}, trained on ${(m.data_years || []).join(", ")}.`
    : "";
  const form = document.getElementById("situation");
  form.addEventListener("submit", predict);
  const bar = document.getElementById("examples");
  for (const ex of spec.examples || []) {
    const button = el("button", { type: "button", id: "example-" + ex.name }, ex.label);
    button.addEventListener("click", () => { applyExample(ex.values); form.requestSubmit(); });
    bar.appendChild(button);
  }
  if (spec.examples && spec.examples.length) applyExample(spec.examples[0].values);
  const lim = m.limits;  // the served values (they may differ from the page's defaults)
  if (lim) {
    document.getElementById("limits-line").textContent =
      `API limits: up to ${lim.max_rows_predict} road users per /predict request, ` +
      `${lim.max_rows_batch.toLocaleString("en")} per /predict_batch or /predict_columns request, ` +
      `request bodies up to ${lim.max_body_mb} MB (larger ones get 413).`;
  }
  document.body.dataset.ready = "1";
  form.requestSubmit();  // the first example's prediction, without a click
}

init().catch((err) => showError("Could not load the form: " + err));
