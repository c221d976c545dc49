// Call-taker console: a form tuned for speed while on the phone. The router's suggestion
// appears as the call-taker types (POST /api/v1/classify, debounced) and can be overridden
// from the keyboard; likely duplicates and the caller's earlier tickets appear beside it.

import { ApiError, get, post, randomKey } from "./api.js";
import { formatDateTime, listJoin, paren, t } from "./i18n.js";
import { announce, el, fillSelect, loadReference, nameOf, priorityLabel, showError, startShell } from "./shell.js";

const CLASSIFY_DELAY_MS = 250;
const HISTORY_DELAY_MS = 400;

const $ = (id) => document.getElementById(id);
const form = $("intake-form");
const fields = {
  description: $("description"),
  phone: $("phone"),
  name: $("caller-name"),
  address: $("address"),
  district: $("district"),
  category: $("category"),
  priority: $("priority"),
  lead: $("lead"),
};

let reference = null;
let suggestion = null;
let duplicates = [];
let overridden = { category: false, priority: false, lead: false, assist: false };
let idempotencyKey = randomKey();
let classifySeq = 0;
let classifyTimer = null;
let historySeq = 0;
let historyTimer = null;
let submitting = false;
const duplicateDetails = new Map();

// ----- menus --------------------------------------------------------------------------

function autoLabel(value) {
  return value ? t("intake.auto.with", { value }) : t("intake.auto");
}

function buildMenus() {
  fillSelect(fields.district, "districts", { empty: autoLabel("") });
  const category = fields.category.value;
  fields.category.replaceChildren(new Option(autoLabel(""), ""));
  for (const agency of reference.agencies) {
    const group = el("optgroup", { label: nameOf("agencies", agency.code) });
    for (const item of reference.categories.filter((c) => c.agency === agency.code)) {
      group.append(new Option(nameOf("categories", item.code), item.code));
    }
    fields.category.append(group);
  }
  fields.category.value = category;
  fillSelect(fields.priority, "priorities", { empty: autoLabel("") });
  fillSelect(fields.lead, "agencies", { empty: autoLabel("") });
  const box = $("assist");
  const checked = new Set(assistChecked());
  box.replaceChildren();
  for (const agency of reference.agencies) {
    const id = `assist-${agency.code}`;
    const input = el("input", { type: "checkbox", id, value: agency.code });
    input.checked = checked.has(agency.code);
    input.addEventListener("change", () => {
      overridden.assist = true;
      renderSuggestion();
    });
    box.append(el("span", { class: "check" }, input, el("label", { for: id, text: nameOf("agencies", agency.code) })));
  }
  refreshAuto();
}

function assistChecked() {
  return Array.from(document.querySelectorAll("#assist input:checked"), (input) => input.value);
}

function leadAgency() {
  if (fields.lead.value) return fields.lead.value;
  if (fields.category.value) return reference.categories.find((c) => c.code === fields.category.value)?.agency;
  return suggestion?.agency || null;
}

/** Show the suggestion inside each "automatic" option, and the suggested assisting agencies. */
function refreshAuto() {
  const s = suggestion;
  fields.category.options[0].text = autoLabel(s ? nameOf("categories", s.category) : "");
  fields.priority.options[0].text = autoLabel(s ? priorityLabel(s.priority) : "");
  fields.lead.options[0].text = autoLabel(s ? nameOf("agencies", s.agency) : "");
  const lead = leadAgency();
  for (const input of document.querySelectorAll("#assist input")) {
    if (!overridden.assist) input.checked = Boolean(s && s.agencies.slice(1).includes(input.value));
    input.disabled = input.value === lead;
    if (input.disabled) input.checked = false;
  }
}

// ----- suggestion ---------------------------------------------------------------------

function renderSuggestion() {
  refreshAuto();
  const box = $("suggestion");
  if (!suggestion) {
    box.replaceChildren(el("p", { class: "muted", text: t("intake.suggestion.empty") }));
    return;
  }
  const s = suggestion;
  const mark = (key) => (overridden[key] ? el("span", { class: "tag", text: `✎ ${t("intake.overridden")}` }) : null);
  const agencies = s.agencies.map((code, i) => paren(nameOf("agencies", code), t(i === 0 ? "role.lead" : "role.assist")));
  box.replaceChildren(
    el(
      "dl",
      { class: "facts" },
      el("dt", { text: t("category") }),
      el("dd", {}, nameOf("categories", s.category), " ", mark("category")),
      el("dt", { text: t("priority") }),
      el("dd", {}, el("span", { class: `prio prio-${s.priority}`, text: priorityLabel(s.priority) }), " ", mark("priority")),
      el("dt", { text: t("agencies") }),
      el("dd", {}, listJoin(agencies), " ", mark("lead") || mark("assist")),
      el("dt", { text: t("district") }),
      el("dd", { text: s.district ? nameOf("districts", s.district) : "—" }),
    ),
    el("p", { class: "muted", text: t("intake.confidence", { value: Math.round(s.confidence * 100) }) }),
    el("h3", { text: t("intake.reasons") }),
    el("ul", { class: "reasons" }, ...s.reasons.map((reason) => el("li", { text: reason }))),
  );
}

function scheduleClassify() {
  clearTimeout(classifyTimer);
  classifyTimer = setTimeout(classify, CLASSIFY_DELAY_MS);
}

async function classify() {
  const text = fields.description.value.trim();
  const seq = ++classifySeq;
  if (text.length < 2) {
    suggestion = null;
    duplicates = [];
    renderSuggestion();
    renderDuplicates();
    return;
  }
  const body = { text };
  if (fields.address.value.trim()) body.address = fields.address.value.trim();
  if (fields.district.value) body.district = fields.district.value;
  try {
    const { data } = await post("/api/v1/classify", body);
    if (seq !== classifySeq) return; // a newer keystroke's answer is on its way
    suggestion = data;
    duplicates = data.duplicates || [];
    renderSuggestion();
    renderDuplicates();
  } catch (error) {
    if (seq === classifySeq && !(error instanceof ApiError && error.status === 422)) showError(error);
  }
}

// ----- duplicates and history -----------------------------------------------------------

async function detailOf(id) {
  if (!duplicateDetails.has(id)) {
    duplicateDetails.set(id, get(`/api/v1/tickets/${id}`).then((r) => r.data).catch(() => null));
  }
  return duplicateDetails.get(id);
}

function ticketSummary(ticket) {
  return el(
    "span",
    { class: "summary" },
    el("span", { class: "status-text", text: t(`status.${ticket.status}`) }),
    " · ",
    formatDateTime(ticket.created_at),
    el("br"),
    (ticket.description || "").slice(0, 60),
    ticket.location?.address ? ` — ${ticket.location.address}` : "",
  );
}

function renderDuplicates() {
  const list = $("duplicates");
  list.replaceChildren();
  $("duplicates-empty").hidden = duplicates.length > 0;
  duplicates.forEach((dup, index) => {
    const detail = el("span", { class: "summary muted", text: dup.reason });
    const button = el("button", {
      type: "button",
      class: "attach",
      "aria-keyshortcuts": index === 0 ? "Alt+A" : null,
      onclick: () => attach(dup),
    });
    button.append(t("intake.attach"), index === 0 ? " (Alt+A)" : "");
    list.append(
      el(
        "li",
        { class: "card" },
        el("strong", { class: "mono", text: dup.number }),
        ` · ${Math.round(dup.score * 100)}%`,
        el("br"),
        detail,
        el("div", {}, button),
      ),
    );
    detailOf(dup.id).then((ticket) => {
      if (ticket) detail.replaceWith(ticketSummary(ticket));
    });
  });
}

function scheduleHistory() {
  clearTimeout(historyTimer);
  historyTimer = setTimeout(loadHistory, HISTORY_DELAY_MS);
}

async function loadHistory() {
  const phone = fields.phone.value.trim();
  const seq = ++historySeq;
  const list = $("history");
  if ((phone.match(/[0-9０-９]/g) || []).length < 7) {
    list.replaceChildren();
    $("history-empty").hidden = false;
    return;
  }
  try {
    const { data } = await get(`/api/v1/tickets?phone=${encodeURIComponent(phone)}&limit=10`);
    if (seq !== historySeq) return;
    list.replaceChildren(
      ...data.items.map((ticket) =>
        el("li", { class: "card" }, el("strong", { class: "mono", text: ticket.number }), " ", ticketSummary(ticket)),
      ),
    );
    $("history-empty").hidden = data.items.length > 0;
  } catch (error) {
    if (seq === historySeq && !(error instanceof ApiError && error.status === 422)) showError(error);
  }
}

// ----- submit, attach, reset --------------------------------------------------------------

const FIELD_INPUTS = {
  description: "description",
  "caller.phone": "phone",
  caller: "phone",
  "location.address": "address",
  location: "address",
  "location.district": "district",
  category: "category",
  priority: "priority",
  agencies: "lead",
};

function clearErrors() {
  $("form-error").textContent = "";
  for (const input of Object.values(fields)) input.removeAttribute("aria-invalid");
}

function showFieldErrors(error) {
  const messages = [];
  for (const detail of error.details || []) {
    const key = Object.keys(FIELD_INPUTS).find((prefix) => (detail.field || "").startsWith(prefix));
    if (key) fields[FIELD_INPUTS[key]].setAttribute("aria-invalid", "true");
    messages.push(`${detail.field}: ${detail.message}`);
  }
  $("form-error").textContent = `${t("intake.invalid")}${messages.length ? ` — ${messages.join("; ")}` : ""}`;
  document.querySelector("[aria-invalid=true]")?.focus();
}

function callerBody() {
  const caller = { phone: fields.phone.value.trim() };
  if (fields.name.value.trim()) caller.name = fields.name.value.trim();
  return caller;
}

function ticketBody() {
  const body = {
    description: fields.description.value.trim(),
    channel: "phone",
    caller: callerBody(),
    location: { address: fields.address.value.trim() },
  };
  if (fields.district.value) body.location.district = fields.district.value;
  if (fields.category.value) body.category = fields.category.value;
  if (fields.priority.value) body.priority = fields.priority.value;
  if (overridden.lead || overridden.assist) {
    const lead = leadAgency();
    if (lead) body.agencies = [lead, ...assistChecked().filter((code) => code !== lead)];
  }
  return body;
}

function missingRequired() {
  const missing = ["description", "phone", "address"].filter((key) => !fields[key].value.trim());
  for (const key of missing) fields[key].setAttribute("aria-invalid", "true");
  return missing;
}

async function submit() {
  if (submitting) return;
  clearErrors();
  const missing = missingRequired();
  if (missing.length) {
    $("form-error").textContent = t("intake.need");
    fields[missing[0]].focus();
    return;
  }
  submitting = true;
  $("submit").disabled = true;
  $("submit").setAttribute("aria-busy", "true");
  try {
    const { status, data } = await post("/api/v1/tickets", ticketBody(), { headers: { "Idempotency-Key": idempotencyKey } });
    showResult(data.number, data.tracking_token, status === 200 ? t("intake.replayed") : "", data.short_code);
    announce(`${t("intake.created")} ${data.number}`);
  } catch (error) {
    if (error instanceof ApiError && error.status === 422) showFieldErrors(error);
    else showError(error);
  } finally {
    submitting = false;
    $("submit").disabled = false;
    $("submit").removeAttribute("aria-busy");
  }
}

async function attach(dup) {
  clearErrors();
  if (!fields.description.value.trim()) {
    fields.description.setAttribute("aria-invalid", "true");
    $("form-error").textContent = t("intake.need");
    fields.description.focus();
    return;
  }
  const body = { description: fields.description.value.trim(), channel: "phone" };
  if (fields.phone.value.trim()) body.caller = callerBody();
  try {
    await post(`/api/v1/tickets/${dup.id}/reports`, body);
    const ticket = await detailOf(dup.id);
    showResult(dup.number, ticket?.tracking_token || "", t("intake.attached", { number: dup.number }), ticket?.short_code);
    announce(t("intake.attached", { number: dup.number }));
  } catch (error) {
    if (error instanceof ApiError && error.status === 422) showFieldErrors(error);
    else showError(error);
  }
}

function showResult(number, token, note, code = "") {
  $("result-number").textContent = number;
  $("result-token").textContent = token;
  $("result-code").textContent = code || "";
  $("result-note").textContent = note;
  $("result").hidden = false;
  $("result").focus();
}

function reset() {
  form.reset();
  clearErrors();
  overridden = { category: false, priority: false, lead: false, assist: false };
  suggestion = null;
  duplicates = [];
  idempotencyKey = randomKey(); // a new call is a new ticket; a resubmit of this one was not
  classifySeq++;
  historySeq++;
  $("result").hidden = true;
  renderSuggestion();
  renderDuplicates();
  $("history").replaceChildren();
  $("history-empty").hidden = false;
  fields.description.focus();
}

function setPriority(code) {
  fields.priority.value = code;
  overridden.priority = Boolean(code);
  renderSuggestion();
  announce(t("intake.priority.set", { value: code ? priorityLabel(code) : t("intake.auto") }));
}

function onKey(event) {
  if ((event.ctrlKey || event.metaKey) && event.key === "Enter") {
    event.preventDefault();
    submit();
    return;
  }
  if (!event.altKey || event.ctrlKey || event.metaKey) return;
  const digit = /^Digit([0-4])$/.exec(event.code);
  if (digit) {
    event.preventDefault();
    setPriority(digit[1] === "0" ? "" : `P${digit[1]}`);
  } else if (event.code === "KeyA" && duplicates.length) {
    event.preventDefault();
    attach(duplicates[0]);
  } else if (event.code === "KeyN") {
    event.preventDefault();
    reset();
  }
}

async function main() {
  await startShell();
  reference = await loadReference();
  buildMenus();
  renderSuggestion();
  renderDuplicates();
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit();
  });
  for (const key of ["description", "address"]) fields[key].addEventListener("input", scheduleClassify);
  fields.district.addEventListener("change", scheduleClassify);
  fields.phone.addEventListener("input", scheduleHistory);
  for (const key of ["category", "priority", "lead"]) {
    fields[key].addEventListener("change", () => {
      overridden[key] = Boolean(fields[key].value);
      renderSuggestion();
    });
  }
  $("reset").addEventListener("click", reset);
  $("result-new").addEventListener("click", reset);
  document.addEventListener("keydown", onKey);
  window.addEventListener("langchange", () => {
    buildMenus();
    renderSuggestion();
    renderDuplicates();
    loadHistory();
  });
  document.body.dataset.ready = "true";
  fields.description.focus();
}

main().catch(showError);
