// Desk console: the agency's open assignments, live over the websocket, most urgent first and,
// within a priority, the one due first; a countdown to each assignment's own deadline. One
// event updates one row (never the whole list), so that a desk with hundreds of open
// assignments stays responsive. Alarms (alarm.js) ring for unacknowledged P1s, escalations of
// the desk's work and further callers' reports, until they are handled.

import { ApiError, get, post } from "./api.js";
import { Alarm } from "./alarm.js";
import { mountDeskMap } from "./desk-map.js";
import { LiveFeed } from "./feed.js";
import { define, formatDateTime, formatDuration, formatTime, t } from "./i18n.js";
import { announce, el, fillSelect, loadReference, nameOf, priorityLabel, showError, startShell } from "./shell.js";
import { ticketDetail } from "./ticket-detail.js";

define({
  "desk.keys.all": [
    "↑/↓ 选择 · a 签收 · s 开始 · r 办结 · n 备注 · p 暂停/恢复计时 · b 退回 · t 转派 · l 结束协办 · Enter 详情",
    "↑/↓ select · a acknowledge · s start · r resolve · n note · p pause/resume · b return · t transfer · l release · Enter details",
  ],
  "desk.tab.open": ["待办", "Open"],
  "desk.tab.handled": ["本班已办", "Handled this shift"],
  "desk.handled.search": ["按工单号查找", "Find by ticket number"],
  "desk.handled.find": ["查找", "Find"],
  "desk.handled.at": ["办理时间", "Handled at"],
  "desk.handled.empty": ["本班次尚无已办工单", "Nothing handled this shift yet"],
  "desk.handled.none": ["没有工单号包含“{number}”的已办工单", "No handled ticket whose number contains “{number}”"],
  "desk.note": ["进展备注", "Progress note"],
  "desk.note.label": ["备注内容（各处置单位都能看到）", "Note (every agency on the ticket sees it)"],
  "desk.note.placeholder": ["例如：已出警，预计10分钟到", "e.g. Unit on the way, there in 10 minutes"],
  "desk.pause": ["暂停计时", "Pause clock"],
  "desk.resume": ["恢复计时", "Resume clock"],
  "desk.pause.reason": ["暂停原因（如：等待群众提供材料）", "Why (e.g. waiting for the citizen)"],
  "desk.release": ["结束协办", "Release"],
  "desk.release.reason": ["结束协办的原因", "Why this agency is no longer needed"],
  "desk.done.note": ["已发送备注 {number}", "Note sent on {number}"],
  "desk.done.pause": ["已暂停计时 {number}", "Clock paused on {number}"],
  "desk.done.resume": ["已恢复计时 {number}", "Clock resumed on {number}"],
  "desk.done.release": ["已结束协办 {number}", "Released {number}"],
  "desk.alarm.p1": ["紧急（P1）待签收：{number} {category} {address}", "Emergency (P1) to acknowledge: {number} {category} {address}"],
  "desk.alarm.escalated": ["第 {level} 级督办：{number} {kind}", "Escalated, level {level}: {number} {kind}"],
  "desk.alarm.kind.ack": ["未按时签收", "not acknowledged in time"],
  "desk.alarm.kind.resolve": ["未按时办结", "not resolved in time"],
  "desk.alarm.report": ["补充反映 {number}：{text}", "Further report on {number}: {text}"],
  "desk.alarm.reminder": ["督办员催办 {number}：{text}", "Supervisor's reminder on {number}: {text}"],
  "desk.noted": ["{agency} 备注 {number}：{text}", "{agency} note on {number}: {text}"],
  "desk.reminded": ["系统提醒 {number}：时限将到", "Reminder on {number}: a deadline is near"],
  "desk.badge.report": ["新反映", "new report"],
});

const OPEN = new Set(["dispatched", "acknowledged", "in_progress"]);
const PRIORITY_RANK = { P1: 0, P2: 1, P3: 2, P4: 3 };
const WARN_FRACTION = 0.25;
const PERF_SAMPLES = 2000;

const $ = (id) => document.getElementById(id);
const tbody = $("rows");

let user = null;
let agency = null;
let feed = null;
let alarm = null;
let loading = true;
let pending = [];
let selectedId = null; // the selected open assignment
let detailTicketId = null; // the ticket shown in the detail (also one from the handled list)
let generation = 0; // bumps when the agency changes, so late answers are dropped
const entries = new Map(); // assignment id → entry
const order = []; // entries sorted: priority, then the deadline due first
const liveAlarms = new Map(); // key → alarm item raised by a live event (reports, reminders)
const freshReports = new Map(); // ticket id → Set of report ids not yet seen in the detail
const openGroups = new Set(); // folded timeline groups the reader opened

// Measured in the browser, for tests and benchmarks only (never shown to operators).
const perf = { samples: [], forceLayout: false, last: null };
window.__desk = { perf, count: () => entries.size };

// ----- ordering -----------------------------------------------------------------------------

/** The deadline that matters now: acknowledgement until acknowledged, then resolution. */
function deadline(a) {
  const ack = a.state === "dispatched";
  return { due: Date.parse(ack ? a.ack_due : a.resolve_due), kind: ack ? "ack" : "resolve" };
}

function sortKey(a, ticket) {
  // Within a priority the assignment due first comes first; a paused clock goes last.
  return {
    rank: PRIORITY_RANK[ticket.priority] ?? 9,
    due: a.paused_at ? Number.POSITIVE_INFINITY : deadline(a).due,
  };
}

function compare(x, y) {
  return x.key.rank - y.key.rank || x.key.due - y.key.due || x.id - y.id;
}

function insertionIndex(entry) {
  let lo = 0;
  let hi = order.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compare(order[mid], entry) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function place(entry) {
  const index = insertionIndex(entry);
  order.splice(index, 0, entry);
  const next = order[index + 1];
  tbody.insertBefore(entry.row, next ? next.row : null);
}

function unplace(entry) {
  const index = order.indexOf(entry);
  if (index >= 0) order.splice(index, 1);
  entry.row.remove();
}

// ----- rows ---------------------------------------------------------------------------------

function makeRow(entry) {
  // Explicit roles: the CSS lays rows out as grids, which would hide the table semantics.
  const row = el("tr", { role: "row", tabindex: "-1", "data-assignment": entry.id });
  const cell = (className) => el("td", { role: "gridcell", class: className });
  entry.cells = {
    priority: cell(null),
    ticket: cell(null),
    state: cell(null),
    due: cell("due"),
    what: cell("what"),
  };
  row.append(...Object.values(entry.cells));
  row.addEventListener("click", () => select(entry.id, { open: true }));
  entry.row = row;
}

/** replaceChildren without the null and false that conditional parts leave. */
function fill(node, ...children) {
  node.replaceChildren(...children.filter((child) => child !== null && child !== undefined && child !== false));
}

function fillRow(entry) {
  const { a, ticket, cells } = entry;
  fill(cells.priority, el("span", { class: `prio prio-${ticket.priority}`, text: priorityLabel(ticket.priority) }));
  const reports = freshReports.get(ticket.id);
  fill(cells.ticket,
    el("span", { class: "mono", text: ticket.number }),
    reports && reports.size ? el("span", { class: "badge", text: t("desk.badge.report") }) : null,
    el("br"),
    el("span", { class: "muted small", text: formatTime(ticket.created_at) }),
  );
  fill(cells.state,
    el("span", { class: `state state-${a.state}`, text: t(`state.${a.state}`) }),
    el("br"),
    el("span", { class: "muted small", text: t(`role.${a.role}`) }),
    a.escalation_level ? el("span", { class: "esc", text: ` ${t("detail.level", { level: a.escalation_level })}` }) : null,
  );
  const category = ticket.category ? nameOf("categories", ticket.category) : "";
  fill(cells.what,
    el("span", { text: category }),
    el("br"),
    el("span", { class: "muted small", text: (ticket.location?.address || "").slice(0, 40) }),
  );
  entry.dueText = null;
  entry.dueLevel = null;
  tickOne(entry, Date.now());
  entry.row.setAttribute("aria-selected", entry.id === selectedId ? "true" : "false");
  entry.row.classList.toggle("p1-waiting", ticket.priority === "P1" && a.state === "dispatched");
}

function tickOne(entry, now) {
  const a = entry.a;
  let text;
  let level;
  if (a.paused_at) {
    text = `⏸ ${t("desk.paused")}`;
    level = "paused";
  } else {
    const { due, kind } = deadline(a);
    const left = (due - now) / 1000;
    // Measured against this assignment's own clock: a transferred assignment is a new one,
    // a reopened one starts again at deadlines_armed_at.
    const allowed = (due - entry.startMs) / 1000;
    const label = t(kind === "ack" ? "desk.due.ack" : "desk.due.resolve");
    if (left < 0) {
      text = `⚠ ${label} ${t("desk.overdue", { time: formatDuration(-left) })}`;
      level = "over";
    } else if (left < allowed * WARN_FRACTION) {
      text = `◔ ${label} ${t("desk.left", { time: formatDuration(left) })}`;
      level = "warn";
    } else {
      text = `${label} ${t("desk.left", { time: formatDuration(left) })}`;
      level = "ok";
    }
  }
  if (text !== entry.dueText) {
    entry.dueText = text;
    entry.cells.due.textContent = text;
  }
  if (level !== entry.dueLevel) {
    entry.dueLevel = level;
    entry.cells.due.className = `due due-${level}`;
    entry.row.dataset.due = level;
  }
}

function tickAll() {
  const now = Date.now();
  for (const entry of order) tickOne(entry, now);
}

// ----- applying state ---------------------------------------------------------------------

function upsert(a, ticket, { live }) {
  let entry = entries.get(a.id);
  if (!OPEN.has(a.state) || ["closed", "merged", "cancelled"].includes(ticket.status)) {
    if (entry && a.version >= entry.a.version) {
      unplace(entry);
      entries.delete(a.id);
      if (selectedId === a.id) {
        renderActions();
        refreshDetail();
      }
    }
    return;
  }
  if (entry && a.version < entry.a.version) return; // an older picture of this assignment
  const key = sortKey(a, ticket);
  const startMs = Date.parse(a.deadlines_armed_at || a.created_at);
  if (!entry) {
    entry = { id: a.id, a, ticket, key, startMs };
    entries.set(a.id, entry);
    makeRow(entry);
    fillRow(entry);
    place(entry);
    if (live) arrived(entry);
    return;
  }
  const moved = entry.key.rank !== key.rank || entry.key.due !== key.due;
  Object.assign(entry, { a, ticket, key, startMs });
  fillRow(entry);
  if (moved) {
    unplace(entry);
    place(entry);
  }
  if (selectedId === a.id) renderActions();
}

function applyTicket(ticket, { live }) {
  for (const a of ticket.assignments || []) {
    if (a.agency === agency) upsert(a, ticket, { live });
  }
}

function ourOpenEntry(ticketId) {
  for (const entry of entries.values()) if (entry.ticket.id === ticketId) return entry;
  return null;
}

function applyEvent(event) {
  if (!event.ticket) return;
  // Measuring layout too: flush what earlier changes (countdowns) left, so that the figure
  // is this event's own cost.
  if (perf.forceLayout) void tbody.offsetHeight;
  const started = performance.now();
  applyTicket(event.ticket, { live: true });
  if (perf.forceLayout) void tbody.offsetHeight; // include style and layout in the figure
  const spent = performance.now() - started;
  perf.samples.push(spent);
  if (perf.samples.length > PERF_SAMPLES) perf.samples.shift();
  perf.last = spent;
  noticeEvent(event);
  if (event.ticket.id === detailTicketId) refreshDetail();
}

/** What an event means for the people at the desk, beyond the row it updates. */
function noticeEvent(event) {
  const ticket = event.ticket;
  const entry = ourOpenEntry(ticket.id);
  const data = event.data || {};
  if (event.type === "ticket.report_added" && entry) {
    const reportId = data.report_id;
    if (!freshReports.has(ticket.id)) freshReports.set(ticket.id, new Set());
    freshReports.get(ticket.id).add(reportId);
    fillRow(entry);
    const item = { key: `report:${reportId}`, dismissible: true, ticketId: ticket.id, words: "" };
    item.text = () => t("desk.alarm.report", { number: ticket.number, text: item.words || "…" });
    liveAlarms.set(item.key, item);
    // The event names the report; its words come with the ticket's detail.
    get(`/api/v1/tickets/${ticket.id}`)
      .then(({ data: full }) => {
        const report = (full.reports || []).find((r) => r.id === reportId);
        if (report) {
          item.words = report.description.slice(0, 80);
          announce(() => item.text(), { urgent: true }); // now with the caller's words
        }
        alarm.render();
      })
      .catch(() => {});
  } else if (event.type === "assignment.note" && data.agency !== agency && (entry || event.ticket.id === detailTicketId)) {
    const words = (data.text || "").slice(0, 80);
    announce(() => t("desk.noted", { agency: nameOf("agencies", data.agency), number: ticket.number, text: words }));
  } else if (event.type === "ticket.reminder" && entry) {
    if (event.actor && event.actor !== "system") {
      // A supervisor's own 催办: an alarm until the desk dismisses it.
      const item = {
        key: `remind:${event.event_id}`,
        dismissible: true,
        ticketId: ticket.id,
        text: () => t("desk.alarm.reminder", { number: ticket.number, text: (data.text || data.reason || "").slice(0, 80) }),
      };
      liveAlarms.set(item.key, item);
    } else {
      announce(() => t("desk.reminded", { number: ticket.number }));
    }
  }
}

function onEvents(events) {
  if (loading) {
    pending.push(...events);
    return;
  }
  for (const event of events) applyEvent(event);
  updateCount();
  updateAlarms();
}

function updateCount() {
  $("count").textContent = t("desk.count", { count: entries.size });
  $("empty").hidden = entries.size > 0;
  if (selectedId === null && order.length) select(order[0].id, { focus: false, open: detailTicketId === null });
}

// ----- alarms -------------------------------------------------------------------------------

/** Every alarm that should ring now, worked out from the assignments (server data), so that
 * a reload or a new session rings again for whatever is still open. */
function currentAlarms() {
  const items = [];
  for (const entry of order) {
    const { a, ticket } = entry;
    if (ticket.priority === "P1" && a.state === "dispatched") {
      items.push({
        key: `p1:${a.id}`,
        dismissible: false, // until acknowledged
        ticketId: ticket.id,
        assignmentId: a.id,
        text: () =>
          t("desk.alarm.p1", {
            number: ticket.number,
            category: nameOf("categories", ticket.category),
            address: (ticket.location?.address || "").slice(0, 30),
          }),
      });
    }
    if (a.escalation_level > 0) {
      const kind = a.state === "dispatched" && Date.parse(a.ack_due) < Date.now() ? "ack" : "resolve";
      items.push({
        // A dismissal is forgotten once its level ends, so a reopened assignment's level 1
        // (a new round of deadlines) rings again under the same key.
        key: `esc:${a.id}:${a.escalation_level}`,
        dismissible: true,
        ticketId: ticket.id,
        assignmentId: a.id,
        text: () =>
          t("desk.alarm.escalated", {
            level: a.escalation_level,
            number: ticket.number,
            kind: t(`desk.alarm.kind.${kind}`),
          }),
      });
    }
  }
  for (const [key, item] of liveAlarms) {
    if (!ourOpenEntry(item.ticketId)) liveAlarms.delete(key); // no longer ours to act on
    else items.push(item);
  }
  return items;
}

function updateAlarms() {
  if (alarm && !loading) alarm.update(currentAlarms());
}

function openFromAlarm(item) {
  const entry = item.assignmentId ? entries.get(item.assignmentId) : ourOpenEntry(item.ticketId);
  showTab("open");
  if (entry) select(entry.id, { open: true });
}

/** The desk has read these reports of the ticket: they are no longer news, their alarms end. */
function markRead(ticketId, reportIds) {
  const fresh = freshReports.get(ticketId);
  if (fresh) {
    for (const id of reportIds) fresh.delete(id);
    if (!fresh.size) freshReports.delete(ticketId);
    const entry = ourOpenEntry(ticketId);
    if (entry) fillRow(entry);
  }
  let changed = false;
  for (const id of reportIds) {
    const key = `report:${id}`;
    if (liveAlarms.has(key)) {
      alarm.dismiss(key);
      liveAlarms.delete(key);
      changed = true;
    }
  }
  if (changed) updateAlarms();
}

// ----- new work -----------------------------------------------------------------------------

function arrived(entry) {
  entry.row.classList.add("arrived");
  setTimeout(() => entry.row.classList.remove("arrived"), 4000);
  if (entry.ticket.priority !== "P1") announce(() => t("desk.new", { number: entry.ticket.number }));
  // A P1 rings through the alarm (updateAlarms after the batch).
}

// ----- selection and detail -----------------------------------------------------------------

function select(id, { focus = true, open = false } = {}) {
  const previous = entries.get(selectedId);
  if (previous) {
    previous.row.tabIndex = -1;
    previous.row.setAttribute("aria-selected", "false");
  }
  selectedId = id;
  const entry = entries.get(id);
  if (!entry) return;
  entry.row.tabIndex = 0;
  entry.row.setAttribute("aria-selected", "true");
  if (focus) entry.row.focus();
  entry.row.scrollIntoView({ block: "nearest" });
  if (open) showTicket(entry.ticket.id);
  else renderActions();
}

// The reader opened a ticket: the reports that were news at that moment count as read once
// a detail fetched after the opening shows them. A report arriving later (even while that
// detail is still loading) is news again and rings until the reader opens it or its alarm.
let readOnShow = null; // { ticketId, reports: Set of report ids }

function showTicket(ticketId) {
  if (detailTicketId !== ticketId) openGroups.clear();
  detailTicketId = ticketId;
  readOnShow = { ticketId, reports: new Set(freshReports.get(ticketId) || []) };
  renderActions();
  refreshDetail();
}

function move(step) {
  if (!order.length) return;
  const index = order.findIndex((entry) => entry.id === selectedId);
  const next = Math.max(0, Math.min(order.length - 1, index < 0 ? 0 : index + step));
  select(order[next].id, { open: true });
}

/** The open assignment of ours the actions apply to: the one of the ticket shown. */
function actionEntry() {
  if (detailTicketId === null) return entries.get(selectedId) || null;
  const selected = entries.get(selectedId);
  if (selected && selected.ticket.id === detailTicketId) return selected;
  return ourOpenEntry(detailTicketId);
}

function renderActions() {
  const entry = actionEntry();
  $("actions").hidden = !entry;
  if (!entry) return;
  const { state, role, paused_at: paused } = entry.a;
  $("act-acknowledge").disabled = state !== "dispatched";
  $("act-start").disabled = state !== "acknowledged";
  $("act-resolve").disabled = !(state === "acknowledged" || state === "in_progress");
  $("act-note").disabled = !OPEN.has(state);
  $("act-pause").disabled = !OPEN.has(state);
  $("pause-label").textContent = t(paused ? "desk.resume" : "desk.pause");
  $("act-return").disabled = !OPEN.has(state);
  $("act-transfer").disabled = !OPEN.has(state);
  $("act-release").hidden = role !== "assist";
  $("act-release").disabled = role !== "assist" || !OPEN.has(state);
}

let detailTimer = null;
let detailSeq = 0;
let detailData = null;

function refreshDetail() {
  clearTimeout(detailTimer);
  detailTimer = setTimeout(loadDetail, 100);
}

function renderDetail() {
  if (!detailData) return;
  const fresh = freshReports.get(detailData.id) || new Set();
  $("detail").replaceChildren(
    ticketDetail(detailData, {
      fresh,
      open: openGroups,
      onToggle: (group, isOpen) => (isOpen ? openGroups.add(group) : openGroups.delete(group)),
    }),
  );
}

async function loadDetail() {
  const seq = ++detailSeq;
  renderActions();
  if (detailTicketId === null) {
    detailData = null;
    $("detail").replaceChildren(el("p", { class: "muted", text: t("desk.select") }));
    return;
  }
  // Only a fetch sent after the reader opened the ticket can show them what was news then.
  const reading = readOnShow && readOnShow.ticketId === detailTicketId ? readOnShow : null;
  try {
    const { data } = await get(`/api/v1/tickets/${detailTicketId}`);
    if (seq !== detailSeq) return;
    detailData = data;
    renderDetail();
    document.body.dataset.detail = String(data.id);
    if (reading && readOnShow === reading) {
      // Shown once with their "new" marks; read from now on.
      readOnShow = null;
      const shown = new Set((data.reports || []).map((report) => report.id));
      markRead(data.id, [...reading.reports].filter((id) => shown.has(id)));
    }
  } catch (error) {
    if (seq === detailSeq) showError(error);
  }
}

// ----- actions ------------------------------------------------------------------------------

const dialog = $("action-dialog");
let dialogAction = null;

const DIALOGS = {
  resolve: { title: "desk.resolve", label: "desk.resolution" },
  return: { title: "desk.return", label: "desk.reason" },
  transfer: { title: "desk.transfer", label: "desk.reason" },
  note: { title: "desk.note", label: "desk.note.label", placeholder: "desk.note.placeholder" },
  pause: { title: "desk.pause", label: "desk.pause.reason" },
  release: { title: "desk.release", label: "desk.release.reason" },
};

function openDialog(action) {
  const entry = actionEntry();
  if (!entry) return;
  dialogAction = { action, entry };
  renderDialog();
  $("transfer-field").hidden = action !== "transfer";
  if (action === "transfer") fillSelect($("dialog-agency"), "agencies", { filter: (item) => item.code !== agency });
  $("dialog-text").value = "";
  $("dialog-error").textContent = "";
  dialog.showModal();
  (action === "transfer" ? $("dialog-agency") : $("dialog-text")).focus();
}

function renderDialog() {
  if (!dialogAction) return;
  const spec = DIALOGS[dialogAction.action];
  $("dialog-title").textContent = `${t(spec.title)} · ${dialogAction.entry.ticket.number}`;
  $("dialog-label").textContent = t(spec.label);
  $("dialog-text").placeholder = spec.placeholder ? t(spec.placeholder) : "";
}

const PATHS = { note: "notes" };

async function act(action, entry, body = {}) {
  try {
    const { data } = await post(`/api/v1/assignments/${entry.a.id}/${PATHS[action] || action}`, body);
    if (data.ticket) applyTicket(data.ticket, { live: false });
    else {
      // pause, resume and notes answer with the assignment: read the ticket it belongs to.
      const { data: ticket } = await get(`/api/v1/tickets/${entry.ticket.id}`);
      applyTicket(ticket, { live: false });
    }
    updateCount();
    updateAlarms();
    const number = entry.ticket.number;
    announce(() => t(`desk.done.${action}`, { number }));
    if (detailTicketId === entry.ticket.id) refreshDetail();
    return true;
  } catch (error) {
    if (error instanceof ApiError && error.status === 409) {
      // Someone else moved it first: fetch the truth and show it.
      get(`/api/v1/tickets/${entry.ticket.id}`)
        .then(({ data }) => {
          applyTicket(data, { live: false });
          updateCount();
          updateAlarms();
        })
        .catch(() => {});
    }
    showError(error);
    return false;
  }
}

function runAction(action) {
  const entry = actionEntry();
  const button = $(`act-${action}`);
  if (!entry || button.disabled || button.hidden) return;
  if (action === "acknowledge" || action === "start") act(action, entry);
  else if (action === "pause" && entry.a.paused_at) act("resume", entry);
  else openDialog(action);
}

async function submitDialog() {
  if (!dialogAction) return;
  const text = $("dialog-text").value.trim();
  const { action, entry } = dialogAction;
  if (!text) {
    $("dialog-error").textContent = t(DIALOGS[action].label);
    $("dialog-text").focus();
    return;
  }
  const bodies = {
    resolve: { resolution: text },
    transfer: { agency: $("dialog-agency").value, reason: text },
    note: { kind: "note", text },
  };
  const body = bodies[action] || { reason: text };
  if (await act(action, entry, body)) {
    dialog.close();
    dialogAction = null;
    if (!entries.has(entry.id) && order[0]) select(order[0].id, { open: true });
  }
}

// ----- handled this shift -------------------------------------------------------------------

let handledItems = [];
let handledQuery = "";
let handledSeq = 0;

function showTab(name) {
  const open = name === "open";
  $("tab-open").setAttribute("aria-selected", open ? "true" : "false");
  $("tab-handled").setAttribute("aria-selected", open ? "false" : "true");
  $("open-panel").hidden = !open;
  $("handled-panel").hidden = open;
  if (!open) loadHandled();
}

async function loadHandled() {
  if (!agency) return;
  const seq = ++handledSeq;
  const qs = new URLSearchParams({ limit: "200" });
  if (user.role !== "desk") qs.set("agency", agency);
  if (handledQuery) qs.set("number", handledQuery);
  try {
    const { data } = await get(`/api/v1/assignments/handled?${qs}`);
    if (seq !== handledSeq) return;
    handledItems = data.items;
    renderHandled();
  } catch (error) {
    showError(error);
  }
}

function renderHandled() {
  $("handled-rows").replaceChildren(
    ...handledItems.map((item) => {
      const { assignment: a, ticket } = item;
      const row = el(
        "tr",
        { role: "row", tabindex: "0", "data-ticket": ticket.id },
        el("td", { role: "gridcell" }, el("span", { class: `prio prio-${ticket.priority}`, text: priorityLabel(ticket.priority) })),
        el("td", { role: "gridcell" }, el("span", { class: "mono", text: ticket.number })),
        el("td", { role: "gridcell" }, el("span", { class: `state state-${a.state}`, text: t(`state.${a.state}`) })),
        el("td", { role: "gridcell" }, el("time", { datetime: item.ended_at, text: formatDateTime(item.ended_at) })),
        el(
          "td",
          { role: "gridcell", class: "what" },
          el("span", { text: nameOf("categories", ticket.category) }),
          el("br"),
          el("span", { class: "muted small", text: (ticket.location?.address || "").slice(0, 40) }),
        ),
      );
      const open = () => showTicket(ticket.id);
      row.addEventListener("click", open);
      row.addEventListener("keydown", (event) => event.key === "Enter" && open());
      return row;
    }),
  );
  const empty = $("handled-empty");
  empty.hidden = handledItems.length > 0;
  empty.textContent = handledQuery ? t("desk.handled.none", { number: handledQuery }) : t("desk.handled.empty");
}

// ----- loading ------------------------------------------------------------------------------

// The agency's open work, by its assignments (GET /tickets?assignment_state=open: one index
// range whatever the history holds), a screenful a page: the first page is on screen while the
// rest arrive.
const PAGE_SIZE = 100;
const MAX_PAGES = 100;

async function loadOpen(gen) {
  let cursor = null;
  for (let page = 0; page < MAX_PAGES; page++) {
    const qs = new URLSearchParams({ agency, assignment_state: "open", limit: String(PAGE_SIZE) });
    if (cursor) qs.set("cursor", cursor);
    const { data } = await get(`/api/v1/tickets?${qs}`);
    if (gen !== generation) return;
    for (const ticket of data.items) applyTicket(ticket, { live: false });
    cursor = data.next_cursor;
    if (!cursor) break;
  }
}

async function watch(code) {
  generation += 1;
  const gen = generation;
  agency = code;
  for (const entry of entries.values()) entry.row.remove();
  entries.clear();
  order.length = 0;
  liveAlarms.clear();
  selectedId = null;
  detailTicketId = null;
  readOnShow = null;
  loading = true;
  pending = [];
  updateCount();
  if (!agency) {
    $("empty").textContent = t("desk.needagency");
    alarm.update([]);
    return;
  }
  $("empty").textContent = t("desk.empty");
  if (!feed) {
    feed = new LiveFeed({ onEvents, onState: connection });
    feed.start();
  }
  try {
    await loadOpen(gen);
  } catch (error) {
    showError(error);
  }
  if (gen !== generation) return;
  loading = false;
  const queued = pending;
  pending = [];
  for (const event of queued) applyTicket(event.ticket || {}, { live: false });
  updateCount();
  updateAlarms();
  document.body.dataset.ready = "true";
}

let wasOffline = false;

function connection(state) {
  const online = state === "online";
  $("offline").hidden = online;
  document.body.classList.toggle("is-offline", !online);
  $("conn").textContent = online ? `● ${t("desk.online")}` : `○ ${t("desk.offline")}`;
  $("conn").className = `conn ${online ? "conn-on" : "conn-off"}`;
  if (!online) wasOffline = true;
  else if (wasOffline) {
    // Back after a drop: what changed meanwhile was replayed, but re-read the detail and the
    // shift's list, which are not fed by events row by row.
    wasOffline = false;
    refreshDetail();
    if (!$("handled-panel").hidden) loadHandled();
  }
}

function inField(target) {
  return target.closest("input, textarea, select, dialog, [contenteditable]");
}

function onKey(event) {
  if (event.ctrlKey && event.key === "Enter" && dialog.open) {
    event.preventDefault();
    submitDialog();
    return;
  }
  if (event.ctrlKey || event.metaKey || event.altKey || inField(event.target)) return;
  const keys = {
    ArrowDown: () => move(1),
    j: () => move(1),
    ArrowUp: () => move(-1),
    k: () => move(-1),
    Home: () => order.length && select(order[0].id, { open: true }),
    End: () => order.length && select(order[order.length - 1].id, { open: true }),
    Enter: () => selectedId !== null && showTicket(entries.get(selectedId)?.ticket.id ?? detailTicketId),
    a: () => runAction("acknowledge"),
    s: () => runAction("start"),
    r: () => runAction("resolve"),
    n: () => runAction("note"),
    p: () => runAction("pause"),
    b: () => runAction("return"),
    t: () => runAction("transfer"),
    l: () => runAction("release"),
  };
  const handler = keys[event.key];
  if (handler) {
    event.preventDefault();
    handler();
  }
}

function rerender() {
  // Everything drawn by script, in the new language at once.
  for (const entry of order) fillRow(entry);
  updateCount();
  renderActions();
  renderDetail();
  renderDialog();
  renderHandled();
  if (feed && feed.online !== null) connection(feed.online ? "online" : "offline");
}

async function main() {
  user = await startShell();
  const reference = await loadReference();
  alarm = new Alarm({
    scope: `desk.${user.id}`,
    repeatSeconds: reference.console?.alarm_repeat_seconds ?? 30,
    controls: $("alarm-controls"),
    onOpen: openFromAlarm,
  });
  mountDeskMap({ agency: () => agency, onOpen: (ticketId) => openFromAlarm({ ticketId }) });
  document.addEventListener("keydown", onKey);
  for (const action of ["acknowledge", "start", "resolve", "note", "pause", "return", "transfer", "release"]) {
    $(`act-${action}`).addEventListener("click", () => runAction(action));
  }
  $("dialog-form").addEventListener("submit", (event) => {
    event.preventDefault();
    submitDialog();
  });
  $("dialog-cancel").addEventListener("click", () => dialog.close());
  $("tab-open").addEventListener("click", () => showTab("open"));
  $("tab-handled").addEventListener("click", () => showTab("handled"));
  $("handled-search").addEventListener("submit", (event) => {
    event.preventDefault();
    handledQuery = $("handled-number").value.trim();
    loadHandled();
  });
  setInterval(tickAll, 1000);
  setInterval(updateAlarms, 5000); // an acknowledge deadline passing changes an alarm's words
  window.addEventListener("langchange", rerender);
  const params = new URLSearchParams(location.search);
  if (user.role === "desk") {
    await watch(user.agency);
  } else {
    const pick = $("agency");
    fillSelect(pick, "agencies", { empty: "—" });
    pick.value = params.get("agency") || "";
    $("agency-pick").hidden = false;
    pick.addEventListener("change", () => {
      history.replaceState(null, "", pick.value ? `?agency=${pick.value}` : location.pathname);
      watch(pick.value || null);
    });
    await watch(pick.value || null);
    document.body.dataset.ready = "true";
  }
}

main().catch(showError);
