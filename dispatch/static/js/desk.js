// Desk console: the agency's open assignments, live over the websocket, most urgent and
// newest first, with a countdown to each deadline. One event updates one row (never the
// whole list), so that a desk with hundreds of open assignments stays responsive.

import { ApiError, get, post } from "./api.js";
import { LiveFeed } from "./feed.js";
import { formatDateTime, formatDuration, formatTime, has, listJoin, paren, t } from "./i18n.js";
import { announce, el, fillSelect, loadReference, nameOf, priorityLabel, showError, startShell } from "./shell.js";

const OPEN = new Set(["dispatched", "acknowledged", "in_progress"]);
const OPEN_STATUSES = ["dispatched", "acknowledged", "in_progress"];
const PRIORITY_RANK = { P1: 0, P2: 1, P3: 2, P4: 3 };
const WARN_FRACTION = 0.25;
const PERF_SAMPLES = 2000;

const $ = (id) => document.getElementById(id);
const tbody = $("rows");

let user = null;
let agency = null;
let feed = null;
let loading = true;
let pending = [];
let selectedId = null;
let generation = 0; // bumps when the agency changes, so late answers are dropped
const entries = new Map(); // assignment id → entry
const order = []; // entries sorted: priority, then newest first

// Measured in the browser: milliseconds spent applying each live event (docs/consoles.md).
const perf = { samples: [], forceLayout: false, last: null };
window.__desk = { perf, count: () => entries.size };

// ----- ordering -----------------------------------------------------------------------------

function compare(a, b) {
  return a.rank - b.rank || b.createdMs - a.createdMs || b.id - a.id;
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

function fillRow(entry) {
  const { a, ticket, cells } = entry;
  cells.priority.replaceChildren(el("span", { class: `prio prio-${ticket.priority}`, text: priorityLabel(ticket.priority) }));
  cells.ticket.replaceChildren(
    el("span", { class: "mono", text: ticket.number }),
    el("br"),
    el("span", { class: "muted small", text: formatTime(ticket.created_at) }),
  );
  cells.state.replaceChildren(
    el("span", { class: `state state-${a.state}`, text: t(`state.${a.state}`) }),
    el("br"),
    el("span", { class: "muted small", text: t(`role.${a.role}`) }),
  );
  const category = ticket.category ? nameOf("categories", ticket.category) : "";
  cells.what.replaceChildren(
    el("span", { text: category }),
    el("br"),
    el("span", { class: "muted small", text: (ticket.location?.address || "").slice(0, 40) }),
  );
  entry.dueText = null;
  tickOne(entry, Date.now());
  row_label(entry);
}

function row_label(entry) {
  entry.row.setAttribute("aria-selected", entry.id === selectedId ? "true" : "false");
}

/** The deadline that matters now: acknowledgement until acknowledged, then resolution. */
function deadline(entry) {
  const a = entry.a;
  const ack = a.state === "dispatched";
  return { due: ack ? entry.ackDueMs : entry.resolveDueMs, kind: ack ? "ack" : "resolve" };
}

function tickOne(entry, now) {
  const a = entry.a;
  let text;
  let level;
  if (a.paused_at) {
    text = `⏸ ${t("desk.paused")}`;
    level = "paused";
  } else {
    const { due, kind } = deadline(entry);
    const left = (due - now) / 1000;
    const allowed = (due - entry.createdMs) / 1000;
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
  const rank = PRIORITY_RANK[ticket.priority] ?? 9;
  const createdMs = Date.parse(ticket.created_at);
  if (!entry) {
    entry = { id: a.id, a, ticket, rank, createdMs };
    entries.set(a.id, entry);
    setTimes(entry);
    makeRow(entry);
    fillRow(entry);
    place(entry);
    if (live) arrived(entry);
    return;
  }
  const moved = entry.rank !== rank || entry.createdMs !== createdMs;
  Object.assign(entry, { a, ticket, rank, createdMs });
  setTimes(entry);
  fillRow(entry);
  if (moved) {
    unplace(entry);
    place(entry);
  }
  if (selectedId === a.id) {
    renderActions();
    refreshDetail();
  }
}

function setTimes(entry) {
  entry.ackDueMs = Date.parse(entry.a.ack_due);
  entry.resolveDueMs = Date.parse(entry.a.resolve_due);
}

function applyTicket(ticket, { live }) {
  for (const a of ticket.assignments || []) {
    if (a.agency === agency) upsert(a, ticket, { live });
  }
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
}

function onEvents(events) {
  if (loading) {
    pending.push(...events);
    return;
  }
  for (const event of events) applyEvent(event);
  updateCount();
  $("perf").textContent = perf.last === null ? "" : t("desk.perf", { ms: perf.last.toFixed(2) });
}

function updateCount() {
  $("count").textContent = t("desk.count", { count: entries.size });
  $("empty").hidden = entries.size > 0;
  if (selectedId === null && order.length) select(order[0].id, { focus: false });
}

// ----- new work: sound and flash ----------------------------------------------------------

let audio = null;

function unlockAudio() {
  // Browsers start audio only after the user has interacted with the page.
  try {
    audio ||= new AudioContext();
    if (audio.state === "suspended") audio.resume().then(renderSound, renderSound);
  } catch {
    audio = null;
  }
  renderSound();
}

function renderSound() {
  const on = Boolean(audio && audio.state === "running");
  const button = $("sound");
  button.textContent = t(on ? "desk.sound.on" : "desk.sound.off");
  button.setAttribute("aria-pressed", on ? "true" : "false");
}

function beep() {
  if (!audio) return;
  const now = audio.currentTime;
  for (const offset of [0, 0.25]) {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.type = "square";
    osc.frequency.value = 880;
    gain.gain.setValueAtTime(0.0001, now + offset);
    gain.gain.exponentialRampToValueAtTime(0.25, now + offset + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, now + offset + 0.18);
    osc.connect(gain).connect(audio.destination);
    osc.start(now + offset);
    osc.stop(now + offset + 0.2);
  }
}

function arrived(entry) {
  entry.row.classList.add("arrived");
  setTimeout(() => entry.row.classList.remove("arrived"), 4000);
  if (entry.ticket.priority === "P1") {
    const message = t("desk.newp1", { number: entry.ticket.number });
    const banner = $("flash");
    banner.textContent = `⚠ ${message}`;
    banner.hidden = false;
    clearTimeout(banner._timer);
    banner._timer = setTimeout(() => (banner.hidden = true), 8000);
    entry.row.classList.add("flash-p1");
    setTimeout(() => entry.row.classList.remove("flash-p1"), 8000);
    beep();
    announce(message, { urgent: true });
  } else {
    announce(t("desk.new", { number: entry.ticket.number }));
  }
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
  renderActions();
  if (open) refreshDetail();
}

function move(step) {
  if (!order.length) return;
  const index = order.findIndex((entry) => entry.id === selectedId);
  const next = Math.max(0, Math.min(order.length - 1, index < 0 ? 0 : index + step));
  select(order[next].id, { open: true });
}

function renderActions() {
  const entry = entries.get(selectedId);
  $("actions").hidden = !entry;
  if (!entry) return;
  const state = entry.a.state;
  $("act-acknowledge").disabled = state !== "dispatched";
  $("act-start").disabled = state !== "acknowledged";
  $("act-resolve").disabled = !(state === "acknowledged" || state === "in_progress");
  $("act-return").disabled = !OPEN.has(state);
  $("act-transfer").disabled = !OPEN.has(state);
}

let detailTimer = null;
let detailSeq = 0;

function refreshDetail() {
  clearTimeout(detailTimer);
  detailTimer = setTimeout(loadDetail, 100);
}

function eventText(event) {
  const key = `event.${event.type}`;
  const label = has(key) ? t(key) : event.type;
  const data = event.data || {};
  const extra = [data.agency ? nameOf("agencies", data.agency) : "", data.reason || data.resolution || ""]
    .filter(Boolean)
    .join(" · ");
  return extra ? paren(label, extra) : label;
}

function actorText(actor) {
  // "call_taker:王芳" → "接警员 王芳"; system actors (deadline watcher) stay as they are.
  const [role, ...name] = (actor || "").split(":");
  return name.length && has(`role.${role}`) ? `${t(`role.${role}`)} ${name.join(":")}` : actor || "";
}

async function loadDetail() {
  const entry = entries.get(selectedId);
  const seq = ++detailSeq;
  renderActions();
  if (!entry) {
    $("detail").replaceChildren(el("p", { class: "muted", text: t("desk.select") }));
    $("timeline").replaceChildren();
    return;
  }
  try {
    const { data } = await get(`/api/v1/tickets/${entry.ticket.id}`);
    if (seq !== detailSeq) return;
    $("detail").replaceChildren(
      el(
        "dl",
        { class: "facts" },
        el("dt", { text: t("number") }),
        el("dd", { class: "mono", text: data.number }),
        el("dt", { text: t("priority") }),
        el("dd", {}, el("span", { class: `prio prio-${data.priority}`, text: priorityLabel(data.priority) })),
        el("dt", { text: t("category") }),
        el("dd", { text: nameOf("categories", data.category) }),
        el("dt", { text: t("status") }),
        el("dd", { text: t(`status.${data.status}`) }),
        el("dt", { text: t("address") }),
        el("dd", { text: `${data.location.address || ""} ${nameOf("districts", data.location.district)}` }),
        el("dt", { text: t("phone") }),
        el("dd", { class: "mono", text: data.caller?.phone || "—" }),
        el("dt", { text: t("agencies") }),
        el(
          "dd",
          {
            text:
              listJoin(
                data.assignments
                  .filter((a) => OPEN.has(a.state) || a.state === "resolved")
                  .map((a) => paren(nameOf("agencies", a.agency), `${t(`role.${a.role}`)} · ${t(`state.${a.state}`)}`)),
              ) || "—",
          },
        ),
      ),
      el("p", { class: "description", text: data.description }),
    );
    $("timeline").replaceChildren(
      ...(data.timeline || []).map((event) =>
        el(
          "li",
          {},
          el("time", { datetime: event.at, text: formatDateTime(event.at) }),
          " ",
          el("span", { text: eventText(event) }),
          " ",
          el("span", { class: "muted small", text: actorText(event.actor) }),
        ),
      ),
    );
  } catch (error) {
    if (seq === detailSeq) showError(error);
  }
}

// ----- actions ------------------------------------------------------------------------------

const dialog = $("action-dialog");
let dialogAction = null;

function openDialog(action) {
  const entry = entries.get(selectedId);
  if (!entry) return;
  dialogAction = { action, entry };
  const titles = { resolve: "desk.resolve", return: "desk.return", transfer: "desk.transfer" };
  $("dialog-title").textContent = `${t(titles[action])} · ${entry.ticket.number}`;
  $("dialog-label").textContent = t(action === "resolve" ? "desk.resolution" : "desk.reason");
  $("transfer-field").hidden = action !== "transfer";
  if (action === "transfer") fillSelect($("dialog-agency"), "agencies", { filter: (item) => item.code !== agency });
  $("dialog-text").value = "";
  $("dialog-error").textContent = "";
  dialog.showModal();
  (action === "transfer" ? $("dialog-agency") : $("dialog-text")).focus();
}

async function act(action, entry, body = {}) {
  try {
    const { data } = await post(`/api/v1/assignments/${entry.a.id}/${action}`, body);
    applyTicket(data.ticket, { live: false });
    updateCount();
    announce(t(`desk.done.${action}`, { number: entry.ticket.number }));
    if (selectedId === entry.id) refreshDetail();
    return true;
  } catch (error) {
    if (error instanceof ApiError && error.status === 409) {
      // Someone else moved it first: fetch the truth and show it.
      get(`/api/v1/tickets/${entry.ticket.id}`)
        .then(({ data }) => {
          applyTicket(data, { live: false });
          updateCount();
        })
        .catch(() => {});
    }
    showError(error);
    return false;
  }
}

function runAction(action) {
  const entry = entries.get(selectedId);
  if (!entry || $(`act-${action}`).disabled) return;
  if (action === "acknowledge" || action === "start") act(action, entry);
  else openDialog(action);
}

async function submitDialog() {
  if (!dialogAction) return;
  const text = $("dialog-text").value.trim();
  if (!text) {
    $("dialog-error").textContent = t(dialogAction.action === "resolve" ? "desk.resolution" : "desk.reason");
    $("dialog-text").focus();
    return;
  }
  const { action, entry } = dialogAction;
  const body =
    action === "resolve" ? { resolution: text } : action === "return" ? { reason: text } : { agency: $("dialog-agency").value, reason: text };
  if (await act(action, entry, body)) {
    dialog.close();
    dialogAction = null;
    const next = order[0];
    if (next) select(next.id, { open: true });
  }
}

// ----- loading ------------------------------------------------------------------------------

async function loadOpen(gen) {
  for (const status of OPEN_STATUSES) {
    let cursor = null;
    for (let page = 0; page < 50; page++) {
      const qs = new URLSearchParams({ agency, status, limit: "200" });
      if (cursor) qs.set("cursor", cursor);
      const { data } = await get(`/api/v1/tickets?${qs}`);
      if (gen !== generation) return;
      for (const ticket of data.items) applyTicket(ticket, { live: false });
      cursor = data.next_cursor;
      if (!cursor) break;
    }
  }
}

async function watch(code) {
  generation += 1;
  const gen = generation;
  agency = code;
  for (const entry of entries.values()) entry.row.remove();
  entries.clear();
  order.length = 0;
  selectedId = null;
  loading = true;
  pending = [];
  updateCount();
  if (!agency) {
    $("empty").textContent = t("desk.needagency");
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
  document.body.dataset.ready = "true";
}

function connection(state) {
  const online = state === "online";
  $("offline").hidden = online;
  document.body.classList.toggle("is-offline", !online);
  $("conn").textContent = online ? `● ${t("desk.online")}` : `○ ${t("desk.offline")}`;
  $("conn").className = `conn ${online ? "conn-on" : "conn-off"}`;
}

function inField(target) {
  return target.closest("input, textarea, select, dialog, [contenteditable]");
}

function onKey(event) {
  unlockAudio();
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
    Enter: () => refreshDetail(),
    a: () => runAction("acknowledge"),
    s: () => runAction("start"),
    r: () => runAction("resolve"),
    b: () => runAction("return"),
    t: () => runAction("transfer"),
  };
  const handler = keys[event.key];
  if (handler) {
    event.preventDefault();
    handler();
  }
}

async function main() {
  user = await startShell();
  await loadReference();
  document.addEventListener("keydown", onKey);
  document.addEventListener("pointerdown", unlockAudio);
  $("sound").addEventListener("click", () => {
    unlockAudio();
    beep(); // let the desk hear what a new P1 sounds like
  });
  renderSound();
  for (const action of ["acknowledge", "start", "resolve", "return", "transfer"]) {
    $(`act-${action}`).addEventListener("click", () => runAction(action));
  }
  $("dialog-form").addEventListener("submit", (event) => {
    event.preventDefault();
    submitDialog();
  });
  $("dialog-cancel").addEventListener("click", () => dialog.close());
  setInterval(tickAll, 1000);
  window.addEventListener("langchange", () => {
    for (const entry of order) fillRow(entry);
    updateCount();
    refreshDetail();
    if (feed) connection(feed.online ? "online" : "offline");
    renderSound();
  });
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
