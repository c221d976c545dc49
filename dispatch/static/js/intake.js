// Call-taker console: a form tuned for speed while on the phone, for a whole shift in one page
// load. The router's suggestion appears as the call-taker types (POST /api/v1/classify,
// debounced) and can be overridden from the keyboard; likely duplicates and the caller's
// earlier tickets appear beside it, and the 待分派 queue below (js/queue.js). 新来电 clears
// everything a call left behind, and the next call gets a fresh Idempotency-Key.

import { ApiError, get, post, randomKey } from "./api.js";
import { districtInput } from "./districts.js";
import { detailText, errorText } from "./errors.js";
import { define, formatDateTime, listJoin, paren, t } from "./i18n.js";
import { mountQueue } from "./queue.js";
import { announce, clearToast, el, fillSelect, loadReference, nameOf, priorityLabel, showError, startShell } from "./shell.js";

define({
  "intake.phone.hint": [
    "手机、座机（本地号码可不加 0396）或 12345 等服务号码",
    "Mobile, landline (a local number needs no 0396) or a service number such as 12345",
  ],
  "intake.nophone": ["无号码原因", "No number because"],
  "intake.nophone.none": ["（有号码）", "(number given)"],
  "intake.nophone.not_shown": ["未显示号码", "number not shown"],
  "intake.nophone.refused": ["拒绝提供", "caller refused"],
  "intake.nophone.payphone": ["公用电话", "payphone"],
  "intake.nophone.on_behalf": ["代他人报", "calling for someone else"],
  "intake.district.placeholder": ["自动（可输入名称）", "Automatic (type a name)"],
  "intake.queue.option": ["不确定：转待分派（暂不派单）", "Unsure: file to the queue (no dispatch yet)"],
  "intake.created.title": ["工单已创建，请向来电人读出：", "Ticket created. Read this out to the caller:"],
  "intake.attached.title": ["已并入已有工单，请向来电人读出：", "Attached to an existing ticket. Read this out to the caller:"],
  "intake.queued.title": ["已登记，转待分派（暂未派单），请向来电人读出：", "Recorded and filed to the queue (not dispatched yet). Read this out:"],
  "intake.queued": ["已转待分派：{number}", "Filed to the queue: {number}"],
  "intake.answered.title": ["已直接答复（未派单），请向来电人读出：", "Answered at first contact (not dispatched). Read this out:"],
  "intake.attached.note": [
    "本次来电已作为补充反映并入 {number}（{status}），未新建工单。",
    "This call was attached to {number} ({status}) as a further report; no new ticket.",
  ],
  "intake.recorded": ["本次来电已登记。请按“新来电”（Alt+N）接下一个电话", "This call is recorded. Press New call (Alt+N) for the next one"],
  "intake.need.description": ["请填写诉求内容", "Fill in the description"],
  "intake.need.phone": ["请填写来电号码，或选择无号码的原因", "Enter the caller's number, or choose why there is none"],
  "intake.need.address": ["请填写地址", "Fill in the address"],
  "intake.need.category": [
    "系统无法确定类别：请选择事项类别，或选择“转待分派”",
    "The system is unsure of the category: choose one, or file the call to the queue",
  ],
  "intake.need.district": ["没有与所填名称相符的区县，请从列表中选择", "No district by that name: choose one from the list"],
  "intake.uncertain": [
    "⚠ 系统无法确定类别，请向来电人问清后选择事项类别",
    "⚠ The system is unsure of the category: ask the caller and choose one",
  ],
  "intake.lowconf": ["⚠ 置信度低（{value}%），请核对类别", "⚠ Low confidence ({value}%): check the category"],
  "intake.send": ["将提交", "Will be sent"],
  "intake.send.queue": ["转待分派，暂不派单", "to the queue, no dispatch yet"],
  "intake.suggested": ["系统建议", "Suggested"],
  "intake.place": ["匹配地点：{name}（{district}）", "Matched place: {name} ({district})"],
  "intake.place.nodistrict": ["匹配地点：{name}", "Matched place: {name}"],
});

const CLASSIFY_DELAY_MS = 250;
const HISTORY_DELAY_MS = 400;
const LOW_CONFIDENCE = 0.5;
const QUEUE_CHOICE = "queue"; // the category menu's "file to the queue" entry

const $ = (id) => document.getElementById(id);
const form = $("intake-form");
const fields = {
  description: $("description"),
  phone: $("phone"),
  noPhone: $("no-phone"),
  name: $("caller-name"),
  address: $("address"),
  district: $("district"),
  category: $("category"),
  priority: $("priority"),
  lead: $("lead"),
};

let reference = null;
let district = null; // the district box (js/districts.js)
let suggestion = null;
let duplicates = [];
let overridden = { category: false, priority: false, lead: false, assist: false };
let idempotencyKey = randomKey();
let classifySeq = 0;
let classifyTimer = null;
let historySeq = 0;
let historyTimer = null;
let submitting = false;
let recorded = null; // what this call became: {kind: "created" | "queued" | "attached" | "answered", number}
let duplicateDetails = new Map();

// ----- menus --------------------------------------------------------------------------

function autoLabel(value) {
  return value ? t("intake.auto.with", { value }) : t("intake.auto");
}

function buildMenus() {
  const category = fields.category.value;
  fields.category.replaceChildren(new Option(autoLabel(""), ""));
  for (const agency of reference.agencies) {
    const group = el("optgroup", { label: nameOf("agencies", agency.code) });
    for (const item of reference.categories.filter((c) => c.agency === agency.code)) {
      group.append(new Option(nameOf("categories", item.code), item.code));
    }
    fields.category.append(group);
  }
  fields.category.append(new Option(t("intake.queue.option"), QUEUE_CHOICE));
  fields.category.value = category;
  fillSelect(fields.priority, "priorities", { empty: autoLabel("") });
  fillSelect(fields.lead, "agencies", { empty: autoLabel("") });
  const reason = fields.noPhone.value;
  fields.noPhone.replaceChildren(
    new Option(t("intake.nophone.none"), ""),
    ...["not_shown", "refused", "payphone", "on_behalf"].map((code) => new Option(t(`intake.nophone.${code}`), code)),
  );
  fields.noPhone.value = reason;
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
  district?.refresh();
  refreshAuto();
}

function assistChecked() {
  return Array.from(document.querySelectorAll("#assist input:checked"), (input) => input.value);
}

function toQueue() {
  return fields.category.value === QUEUE_CHOICE;
}

function chosenCategory() {
  return toQueue() ? "" : fields.category.value;
}

function leadAgency() {
  if (fields.lead.value) return fields.lead.value;
  if (chosenCategory()) return reference.categories.find((c) => c.code === chosenCategory())?.agency;
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
    input.disabled = input.value === lead || toQueue();
    if (input.disabled) input.checked = false;
  }
}

// ----- suggestion ---------------------------------------------------------------------

let namePattern = null; // codes and Chinese names of categories and agencies, longest first
const nameKinds = new Map();

/** A router's reason with category and agency codes (and, in English, their Chinese names)
 * named in the console's language. */
function readableReason(reason) {
  if (!namePattern) {
    for (const kind of ["categories", "agencies"]) {
      for (const item of reference[kind]) {
        nameKinds.set(item.code, [kind, item.code]);
        nameKinds.set(item.name.zh, [kind, item.code]);
      }
    }
    const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const terms = [...nameKinds.keys()].sort((a, b) => b.length - a.length).map(escape);
    namePattern = new RegExp(terms.join("|"), "g");
  }
  return reason.replace(namePattern, (term) => {
    const [kind, code] = nameKinds.get(term);
    return nameOf(kind, code);
  });
}

/** What the ticket will be, as the form stands: the call-taker's choices over the suggestion. */
function effective() {
  const s = suggestion;
  const category = chosenCategory() || (toQueue() ? "" : s?.category || "");
  let priority = fields.priority.value;
  if (!priority && category) {
    priority = s && s.category === category ? s.priority : reference.categories.find((c) => c.code === category)?.default_priority;
  }
  const lead = leadAgency();
  const assists = assistChecked().filter((code) => code !== lead);
  return {
    category,
    priority: priority || s?.priority || "",
    agencies: lead && !toQueue() ? [lead, ...assists] : [],
    district: district?.code() || s?.district || "",
  };
}

function renderSuggestion() {
  refreshAuto();
  const box = $("suggestion");
  const s = suggestion;
  const mark = (key) => (overridden[key] ? el("span", { class: "tag", text: `✎ ${t("intake.overridden")}` }) : null);
  const agencyNames = (codes) =>
    listJoin(codes.map((code, i) => paren(nameOf("agencies", code), t(i === 0 ? "role.lead" : "role.assist"))));
  const parts = [];
  if (s?.uncertain) parts.push(el("p", { class: "warn", id: "uncertain", role: "alert", text: t("intake.uncertain") }));
  else if (s && s.confidence < LOW_CONFIDENCE) {
    parts.push(el("p", { class: "warn", id: "low-confidence", text: t("intake.lowconf", { value: Math.round(s.confidence * 100) }) }));
  }
  if (s || toQueue() || chosenCategory()) {
    const e = effective();
    parts.push(
      el("h3", { text: t("intake.send") }),
      el(
        "dl",
        { class: "facts", id: "will-send" },
        el("dt", { text: t("category") }),
        el("dd", { "data-field": "category", "data-code": e.category || "" }, e.category ? nameOf("categories", e.category) : "—", " ", mark("category")),
        el("dt", { text: t("priority") }),
        el(
          "dd",
          { "data-field": "priority" },
          e.priority ? el("span", { class: `prio prio-${e.priority}`, text: priorityLabel(e.priority) }) : "—",
          " ",
          mark("priority"),
        ),
        el("dt", { text: t("agencies") }),
        el("dd", { "data-field": "agencies" }, toQueue() ? t("intake.send.queue") : agencyNames(e.agencies), " ", mark("lead") || mark("assist")),
        el("dt", { text: t("district") }),
        el("dd", { "data-field": "district", text: e.district ? nameOf("districts", e.district) : "—" }),
      ),
    );
  }
  if (s) {
    const changed = overridden.category || overridden.priority || overridden.lead || overridden.assist || toQueue();
    parts.push(
      el("p", { class: "muted small" }, changed ? `${t("intake.suggested")}：${nameOf("categories", s.category)} · ${priorityLabel(s.priority)} · ${agencyNames(s.agencies)} · ` : "", t("intake.confidence", { value: Math.round(s.confidence * 100) })),
      el("h3", { text: t("intake.reasons") }),
      el("ul", { class: "reasons" }, ...s.reasons.map((reason) => el("li", { text: readableReason(reason) }))),
    );
  }
  if (!parts.length) parts.push(el("p", { class: "muted", text: t("intake.suggestion.empty") }));
  box.replaceChildren(...parts);
  renderPlace();
}

function renderPlace() {
  const place = suggestion?.place;
  const line = $("place");
  line.hidden = !place;
  if (!place) {
    line.textContent = "";
    return;
  }
  line.textContent = place.district
    ? t("intake.place", { name: place.name, district: nameOf("districts", place.district) })
    : t("intake.place.nodistrict", { name: place.name });
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
  if (district.code()) body.district = district.code();
  try {
    const { data } = await post("/api/v1/classify", body);
    if (seq !== classifySeq) return; // a newer keystroke's (or a new call's) answer is on its way
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
  const seq = classifySeq;
  duplicates.forEach((dup, index) => {
    const detail = el("span", { class: "summary muted", text: readableReason(dup.reason) });
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
        { class: "card", "data-ticket": dup.id },
        el("strong", { class: "mono", text: dup.number }),
        ` · ${Math.round(dup.score * 100)}%`,
        el("br"),
        detail,
        el("div", {}, button),
      ),
    );
    detailOf(dup.id).then((ticket) => {
      if (ticket && seq === classifySeq) detail.replaceWith(ticketSummary(ticket));
    });
  });
}

function scheduleHistory() {
  clearTimeout(historyTimer);
  historyTimer = setTimeout(loadHistory, HISTORY_DELAY_MS);
}

function clearHistory() {
  $("history").replaceChildren();
  $("history-empty").hidden = false;
}

async function loadHistory() {
  const phone = fields.phone.value.trim();
  const seq = ++historySeq;
  if ((phone.match(/[0-9０-９]/g) || []).length < 5) {
    clearHistory();
    return;
  }
  try {
    const { data } = await get(`/api/v1/tickets?phone=${encodeURIComponent(phone)}&limit=10`);
    if (seq !== historySeq) return;
    $("history").replaceChildren(
      ...data.items.map((ticket) =>
        el("li", { class: "card" }, el("strong", { class: "mono", text: ticket.number }), " ", ticketSummary(ticket)),
      ),
    );
    $("history-empty").hidden = data.items.length > 0;
  } catch (error) {
    if (seq !== historySeq) return;
    if (error instanceof ApiError && error.status === 422) clearHistory(); // not a number yet
    else showError(error);
  }
}

// ----- submit, attach, reset --------------------------------------------------------------

const FIELD_INPUTS = {
  description: "description",
  "caller.phone": "phone",
  "caller.no_phone_reason": "noPhone",
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
    messages.push(detailText(detail));
  }
  $("form-error").textContent = messages.length ? `${t("intake.invalid")}：${messages.join("；")}` : errorText(error);
  document.querySelector("#intake-form [aria-invalid=true]")?.focus();
}

function callerBody() {
  const caller = {};
  const phone = fields.phone.value.trim();
  if (phone) caller.phone = phone;
  else if (fields.noPhone.value) caller.no_phone_reason = fields.noPhone.value;
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
  if (district.code()) body.location.district = district.code();
  if (toQueue()) body.queue = true;
  else if (fields.category.value) body.category = fields.category.value;
  if (fields.priority.value) body.priority = fields.priority.value;
  if (!toQueue() && (overridden.lead || overridden.assist)) {
    const lead = leadAgency();
    if (lead) body.agencies = [lead, ...assistChecked().filter((code) => code !== lead)];
  }
  return body;
}

/** What is missing before anything is sent, as [field key, message key]; marks the fields. */
function missingRequired() {
  const missing = [];
  if (!fields.description.value.trim()) missing.push(["description", "intake.need.description"]);
  if (!fields.phone.value.trim() && !fields.noPhone.value) missing.push(["phone", "intake.need.phone"]);
  if (!fields.address.value.trim()) missing.push(["address", "intake.need.address"]);
  if (district.code() === null) missing.push(["district", "intake.need.district"]);
  if (suggestion?.uncertain && !fields.category.value) missing.push(["category", "intake.need.category"]);
  for (const [key] of missing) fields[key].setAttribute("aria-invalid", "true");
  return missing;
}

function alreadyRecorded() {
  if (!recorded) return false;
  announce(t("intake.recorded"));
  $("result").focus();
  return true;
}

async function submit() {
  if (submitting || alreadyRecorded()) return;
  clearErrors();
  const missing = missingRequired();
  if (missing.length) {
    $("form-error").textContent = missing.map(([, key]) => t(key)).join("；");
    fields[missing[0][0]].focus();
    return;
  }
  submitting = true;
  $("submit").disabled = true;
  $("submit").setAttribute("aria-busy", "true");
  try {
    const { status, data } = await post("/api/v1/tickets", ticketBody(), { headers: { "Idempotency-Key": idempotencyKey } });
    const queued = data.status === "new";
    recorded = { kind: queued ? "queued" : "created", number: data.number };
    showResult(recorded.kind, data.number, data.tracking_token, status === 200 ? t("intake.replayed") : "", data.short_code);
    announce(queued ? t("intake.queued", { number: data.number }) : `${t("intake.created")} ${data.number}`);
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
  if (submitting || alreadyRecorded()) return;
  clearErrors();
  if (!fields.description.value.trim()) {
    fields.description.setAttribute("aria-invalid", "true");
    $("form-error").textContent = t("intake.need.description");
    fields.description.focus();
    return;
  }
  const body = { description: fields.description.value.trim(), channel: "phone" };
  const caller = callerBody();
  if (caller.phone || caller.no_phone_reason) body.caller = caller;
  submitting = true;
  try {
    await post(`/api/v1/tickets/${dup.id}/reports`, body);
    const ticket = await detailOf(dup.id);
    recorded = { kind: "attached", number: dup.number };
    const status = ticket ? t(`status.${ticket.status}`) : "";
    showResult(
      "attached",
      dup.number,
      ticket?.tracking_token || "",
      t("intake.attached.note", { number: dup.number, status }),
      ticket?.short_code,
    );
    announce(t("intake.attached", { number: dup.number }));
  } catch (error) {
    if (error instanceof ApiError && error.status === 422) showFieldErrors(error);
    else showError(error);
  } finally {
    submitting = false;
  }
}

function showResult(kind, number, token, note, code = "") {
  $("result").dataset.kind = kind;
  $("result-title").textContent = t(`intake.${kind}.title`);
  $("result-number").textContent = number;
  $("result-token").textContent = token;
  $("result-code").textContent = code || "";
  $("result-note").textContent = note;
  $("result").hidden = false;
  $("result").focus();
}

/** 新来电: everything the last call left behind goes, and the next call is a new request. */
function reset() {
  form.reset();
  clearErrors();
  clearTimeout(classifyTimer);
  clearTimeout(historyTimer);
  classifySeq++; // answers still on their way belong to the last call
  historySeq++;
  overridden = { category: false, priority: false, lead: false, assist: false };
  suggestion = null;
  duplicates = [];
  duplicateDetails = new Map(); // statuses move on between calls
  recorded = null;
  idempotencyKey = randomKey(); // a new call is a new ticket; a resubmit of this one was not
  district.set("");
  fields.phone.disabled = false;
  for (const input of document.querySelectorAll("#assist input")) input.checked = false;
  $("result").hidden = true;
  delete $("result").dataset.kind;
  for (const id of ["result-number", "result-token", "result-code", "result-note"]) $(id).textContent = "";
  clearToast(); // "read this number to the caller" was for the last caller
  renderSuggestion();
  renderDuplicates();
  clearHistory();
  document.body.dataset.calls = String(Number(document.body.dataset.calls || 0) + 1);
  fields.description.focus();
}

function setPriority(code) {
  fields.priority.value = code;
  overridden.priority = Boolean(code);
  renderSuggestion();
  announce(t("intake.priority.set", { value: code ? priorityLabel(code) : t("intake.auto") }));
}

function onNoPhone() {
  // A reason means there is no number: the phone box empties and waits.
  const reason = Boolean(fields.noPhone.value);
  if (reason) fields.phone.value = "";
  fields.phone.disabled = reason;
  fields.phone.removeAttribute("aria-invalid");
  clearHistory();
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
  district = await districtInput(fields.district, { onChange: () => { scheduleClassify(); renderSuggestion(); } });
  buildMenus();
  renderSuggestion();
  renderDuplicates();
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit();
  });
  for (const key of ["description", "address"]) fields[key].addEventListener("input", scheduleClassify);
  fields.phone.addEventListener("input", scheduleHistory);
  fields.noPhone.addEventListener("change", onNoPhone);
  for (const key of ["category", "priority", "lead"]) {
    fields[key].addEventListener("change", () => {
      overridden[key] = Boolean(fields[key].value);
      fields[key].removeAttribute("aria-invalid");
      renderSuggestion();
    });
  }
  $("new-call").addEventListener("click", reset);
  // Answered from the knowledge base (kb-panel.js): this call is recorded, the next one is new.
  document.addEventListener("kb:answered", (event) => {
    const ticket = event.detail.ticket;
    recorded = { kind: "answered", number: ticket.number };
    showResult("answered", ticket.number, ticket.tracking_token, "", ticket.short_code);
  });
  $("result-new").addEventListener("click", reset);
  document.addEventListener("keydown", onKey);
  window.addEventListener("langchange", () => {
    buildMenus();
    renderSuggestion();
    renderDuplicates();
    loadHistory();
    if (recorded) $("result-title").textContent = t(`intake.${recorded.kind}.title`);
  });
  document.body.dataset.calls = "0";
  mountQueue($("queue"), { badge: $("queue-badge") }).catch(showError);
  document.body.dataset.ready = "true";
  fields.description.focus();
}

main().catch(showError);
