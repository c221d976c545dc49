// Supervisor dashboard: the escalations open now (REST on opening, then kept current by the
// websocket), highest level first with an alarm at the top level; open incidents on the map;
// live counts by agency and state, overdue work, response times and the day's volume (uPlot,
// vendored). Every overdue row, escalation, map dot and count opens what it stands for in the
// side sheet (js/supervisor-drawer.js), where the supervisor chases (催办), re-dispatches or
// merges. Refreshes itself: soon after live events, and every 15 s regardless. Everything on
// the page is drawn again at once when the language changes.

import { Alarm } from "./alarm.js";
import { get } from "./api.js";
import { LiveFeed } from "./feed.js";
import { define, formatDuration, formatPercent, formatTime, t } from "./i18n.js";
import { IncidentMap } from "./map.js";
import { mountQueue } from "./queue.js";
import { announce, el, fillSelect, loadReference, nameOf, priorityLabel, showError, startShell } from "./shell.js";
import { Drawer } from "./supervisor-drawer.js";

define({
  "sup.open.tickets": ["在办工单", "Open tickets"],
  "sup.overdue.tickets": ["超时工单", "Overdue tickets"],
  "sup.escalations.open": ["未解除督办", "Open escalations"],
  "sup.note.tickets": ["涉及 {count} 张工单", "on {count} tickets"],
  "sup.note.assignments": ["共 {count} 项任务", "{count} assignments"],
  "sup.note.top": ["其中 {count} 项为最高级", "{count} at the top level"],
  "sup.answered": ["24 小时直接办结", "Answered on the phone, 24 h"],
  "sup.note.answered": ["占来电 {rate}", "{rate} of the calls"],
  "sup.by.agency.note": [
    "每格为任务数：一张工单派给几个单位就有几项任务。点击数字查看明细。",
    "Each cell counts assignments: a ticket sent to two agencies is two. Click a number for the list.",
  ],
  "sup.live.count": ["{count} 项", "{count}"],
  "sup.live.level": ["{level} 级", "level {level}"],
  "sup.live.item": ["{number} {agency} {kind}，已超时 {overdue}", "{number} {agency} {kind}, overdue {overdue}"],
  "sup.live.since": ["{time} 升级", "escalated {time}"],
  "sup.live.new": ["新", "new"],
  "sup.alarm.top": [
    "最高级督办：{number} {priority} {agency} {kind}，已超时 {overdue}",
    "Top-level escalation: {number} {priority} {agency} {kind}, overdue {overdue}",
  ],
  "sup.list.open": ["在办任务", "Open assignments"],
  "sup.list.overdue": ["超时任务", "Overdue assignments"],
  "sup.list.agency": ["{agency}：{what}", "{agency}: {what}"],
  "sup.none.acked": ["未签收 0/{count}", "none acknowledged, 0/{count}"],
  "sup.none.resolved": ["尚无办结", "none resolved yet"],
  "sup.open.ticket": ["打开工单 {number}", "Open ticket {number}"],
});

const REFRESH_EVERY_MS = 15000;
const SERIES_EVERY_MS = 60000;
const AFTER_EVENT_MS = 1500;
const AFTER_ESCALATION_MS = 150; // an escalation reaches the panel (and the alarm) at once
const SERIES_AFTER_EVENT_MS = 5000; // charts follow live events at most this often
const LIVE_EVERY_MS = 5000; // overdue times in the panel move on between refreshes
const NEW_FOR_MS = 60000; // an escalation first seen less than this ago is marked new

const $ = (id) => document.getElementById(id);
const filters = { agency: $("f-agency"), district: $("f-district"), priority: $("f-priority") };

let reference = null;
let summary = null;
let overdueItems = [];
let escalations = { items: [], levels: 3 };
let refreshedAt = null;
let seriesLoadedAt = 0;
let series = null;
let charts = {};
let refreshTimer = null;
let eventTimer = null;
let seq = 0;
let alarm = null;
let drawer = null;
let map = null;
const firstSeen = new Map(); // escalation key → when this page first listed it
let liveLoaded = false; // the escalations open when the page opened have been listed

function filterQuery() {
  const qs = new URLSearchParams();
  for (const [name, select] of Object.entries(filters)) if (select.value) qs.set(name, select.value);
  return qs;
}

function filterParams() {
  return Object.fromEntries(filterQuery());
}

// ----- numbers ------------------------------------------------------------------------------

/** A KPI tile; with ``open`` it is a button that opens what it counts. */
function kpi(id, label, value, { note = "", open = null, alert = false } = {}) {
  const children = [
    el("div", { class: "kpi-label", text: label }),
    el("div", { class: "kpi-value", text: String(value) }),
    note ? el("div", { class: "kpi-note muted small", text: note }) : null,
  ];
  if (!open) return el("div", { class: `kpi${alert ? " alert" : ""}`, "data-kpi": id }, ...children);
  const button = el("button", { type: "button", class: `kpi kpi-link${alert ? " alert" : ""}`, "data-kpi": id }, ...children);
  button.addEventListener("click", open);
  return button;
}

function openList(what, params = {}) {
  const extra = { ...filterParams(), ...params };
  const title = () =>
    params.agency && !filters.agency.value ? t("sup.list.agency", { agency: nameOf("agencies", params.agency), what: t(what) }) : t(what);
  drawer.openList(title, extra);
}

/** A count that opens its list (a plain 0 when there is nothing to open). */
function countCell(value, params, what, className = "") {
  if (!value) return el("td", { class: className, text: "0" });
  const button = el("button", { type: "button", class: "count-link", text: String(value) });
  button.addEventListener("click", () => openList(what, params));
  return el("td", { class: className }, button);
}

function renderSummary() {
  if (!summary) return;
  const s = summary;
  const top = escalations.items.filter((item) => item.level >= escalations.levels).length;
  const overdueNote = `${t("sup.kind.ack")} ${s.overdue_now.ack} · ${t("sup.kind.resolve")} ${s.overdue_now.resolve}`;
  $("kpis").replaceChildren(
    kpi("open-tickets", t("sup.open.tickets"), s.open.tickets, {
      note: t("sup.note.assignments", { count: s.open.total }),
      open: () => openList("sup.list.open"),
    }),
    kpi("open", t("sup.open"), s.open.total, {
      note: t("sup.note.tickets", { count: s.open.tickets }),
      open: () => openList("sup.list.open"),
    }),
    kpi("overdue-tickets", t("sup.overdue.tickets"), s.overdue_now.tickets, {
      note: t("sup.note.assignments", { count: s.overdue_now.total }),
      open: () => openList("sup.list.overdue", { overdue: "true" }),
      alert: s.overdue_now.tickets > 0,
    }),
    kpi("overdue", t("sup.overdue.now"), s.overdue_now.total, {
      note: overdueNote,
      open: () => openList("sup.list.overdue", { overdue: "true" }),
      alert: s.overdue_now.total > 0,
    }),
    kpi("escalations-open", t("sup.escalations.open"), escalations.items.length, {
      note: top ? t("sup.note.top", { count: top }) : "",
      open: () => $("live").querySelector("li")?.focus(),
      alert: top > 0,
    }),
    kpi("tickets", t("sup.tickets.today"), s.dispatched.tickets, { note: t("sup.note.assignments", { count: s.dispatched.assignments }) }),
    kpi("answered", t("sup.answered"), s.answered?.tickets ?? 0, {
      note: s.answered?.rate == null ? "" : t("sup.note.answered", { rate: formatPercent(s.answered.rate) }),
    }),
    kpi("resolved", t("sup.resolved"), s.resolve.resolved),
    kpi("ack-rate", t("sup.ack.rate"), formatPercent(s.acknowledge.on_time_rate)),
    kpi("resolve-rate", t("sup.resolve.rate"), formatPercent(s.resolve.on_time_rate)),
    kpi("ack-p50", t("sup.ack.p50"), formatDuration(s.acknowledge.p50_seconds)),
    kpi("resolve-p50", t("sup.resolve.p50"), formatDuration(s.resolve.p50_seconds)),
    kpi("escalations", t("sup.escalations"), s.escalations.total),
    kpi("satisfaction", t("sup.satisfaction"), formatPercent(s.satisfaction?.rate)),
  );
  const overdueBy = new Map(s.overdue_now.by_agency.map((row) => [row.agency, row]));
  const openBy = new Map(s.open.by_agency.map((row) => [row.agency, row]));
  const zero = { dispatched: 0, acknowledged: 0, in_progress: 0, paused: 0, total: 0 };
  // Every agency in the filter gets a row: a quiet agency shows zeros rather than vanishing.
  const shown = reference.agencies
    .map((agency) => agency.code)
    .filter((code) => !filters.agency.value || code === filters.agency.value)
    .map((code) => openBy.get(code) || { agency: code, ...zero });
  const body = $("by-agency").tBodies[0];
  body.replaceChildren(
    ...shown.map((row) => {
      const late = overdueBy.get(row.agency)?.total || 0;
      const agency = row.agency;
      const lateCell = countCell(late, { agency, overdue: "true" }, "sup.list.overdue", late ? "due-over" : "");
      if (late) lateCell.firstChild.textContent = `⚠ ${late}`;
      return el(
        "tr",
        { "data-agency": agency },
        el("th", { scope: "row", text: nameOf("agencies", agency) }),
        countCell(row.dispatched, { agency, state: "dispatched" }, "sup.col.dispatched"),
        countCell(row.acknowledged, { agency, state: "acknowledged" }, "sup.col.acknowledged"),
        countCell(row.in_progress, { agency, state: "in_progress" }, "sup.col.in_progress"),
        countCell(row.paused, { agency, state: "paused" }, "sup.col.paused"),
        countCell(row.total, { agency }, "sup.list.open"),
        lateCell,
      );
    }),
  );
  const longest = Math.max(1, ...s.by_agency.map((row) => row.resolve.p90_seconds || 0));
  // An agency given work that acknowledged none of it must stand out, not read "—".
  const ackCell = (row, value) =>
    row.assignments && !row.acknowledge.acknowledged
      ? el("td", { class: "none-acked", text: `⚠ ${t("sup.none.acked", { count: row.assignments })}` })
      : el("td", { text: formatDuration(value) });
  const resolveCell = (row, value) =>
    row.assignments && !row.resolve.resolved
      ? el("td", { class: "muted", text: t("sup.none.resolved") })
      : el("td", {}, bar(value, longest), formatDuration(value));
  $("times").tBodies[0].replaceChildren(
    ...s.by_agency.map((row) =>
      el(
        "tr",
        { "data-agency": row.agency },
        el("th", { scope: "row", text: nameOf("agencies", row.agency) }),
        ackCell(row, row.acknowledge.p50_seconds),
        ackCell(row, row.acknowledge.p90_seconds),
        resolveCell(row, row.resolve.p50_seconds),
        resolveCell(row, row.resolve.p90_seconds),
      ),
    ),
  );
}

function bar(value, max) {
  const span = el("span", { class: "meter", "aria-hidden": "true" });
  span.style.width = `${Math.round(((value || 0) / max) * 60)}px`;
  return span;
}

function openable(row, ticketId, number) {
  row.tabIndex = 0;
  row.dataset.ticket = String(ticketId);
  row.setAttribute("aria-label", t("sup.open.ticket", { number }));
  row.addEventListener("click", () => drawer.openTicket(ticketId));
  row.addEventListener("keydown", (event) => {
    if (event.key === "Enter") drawer.openTicket(ticketId);
  });
  return row;
}

function renderOverdue() {
  $("overdue").tBodies[0].replaceChildren(
    ...overdueItems.map((item) =>
      openable(
        el(
          "tr",
          { "data-assignment": item.assignment_id },
          el("td", { class: "mono", text: item.number }),
          el("td", {}, el("span", { class: `prio prio-${item.priority}`, text: priorityLabel(item.priority) })),
          el("td", { text: nameOf("agencies", item.agency) }),
          el("td", { text: `${t(`state.${item.state}`)} · ${t(item.kind === "ack" ? "sup.kind.ack" : "sup.kind.resolve")}` }),
          el("td", { class: "due-over", text: `⚠ ${formatDuration(item.overdue_seconds)}` }),
          el("td", { text: item.escalation_level ? String(item.escalation_level) : "—" }),
        ),
        item.ticket_id,
        item.number,
      ),
    ),
  );
  $("overdue-empty").hidden = overdueItems.length > 0;
}

function renderUpdated() {
  $("updated").textContent = refreshedAt ? t("sup.updated", { time: formatTime(refreshedAt) }) : "";
}

// The server shares each answer for a few seconds (docs/api.md, "Statistics: how old an answer
// is"). After a live event, an answer older than the request may predate the event: ask once
// more when the server's shared answer has expired.
function followUp(answers) {
  const age = Math.max(...answers.map((a) => a.age_seconds || 0));
  if (age <= 0) return;
  const wait = Math.max(0, Math.max(...answers.map((a) => a.max_age_seconds || 0)) - age);
  clearTimeout(eventTimer);
  eventTimer = setTimeout(() => refresh(), wait * 1000 + 100);
}

async function refresh({ afterEvent = false } = {}) {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refresh, REFRESH_EVERY_MS);
  const mine = ++seq;
  const qs = filterQuery();
  try {
    const [s, overdue, open, work] = await Promise.all([
      get(`/api/v1/stats/summary?${qs}`),
      get(`/api/v1/stats/overdue?${qs}&limit=50`),
      get(`/api/v1/stats/escalations?${qs}&limit=200`),
      get(`/api/v1/stats/map?${qs}&${map.query()}`),
    ]);
    if (mine !== seq) return;
    summary = s.data;
    overdueItems = overdue.data.items;
    escalations = open.data;
    refreshedAt = s.data.as_of || new Date().toISOString(); // the figures' time, not the browser's
    if (afterEvent) followUp([s.data, overdue.data, open.data]);
    renderSummary();
    renderOverdue();
    renderLive();
    liveLoaded = true;
    updateAlarm();
    renderUpdated();
    await map.show(work.data);
    document.body.dataset.refreshed = String(Date.now());
  } catch (error) {
    if (mine === seq) showError(error);
  }
}

// ----- charts -------------------------------------------------------------------------------

async function loadSeries() {
  seriesLoadedAt = Date.now();
  try {
    series = (await get(`/api/v1/stats/timeseries?bucket=hour&${filterQuery()}`)).data;
    drawCharts();
  } catch (error) {
    showError(error);
  }
}

function chartWidth(id) {
  return Math.max(280, $(id).clientWidth - 8);
}

// 24-hour clock labels ("21:00"), as people read times in China, in either language.
function hourLabels(_chart, splits) {
  return splits.map((seconds) => formatTime(new Date(seconds * 1000).toISOString()).slice(0, 5));
}

function drawCharts() {
  if (!series || !window.uPlot) return;
  for (const chart of Object.values(charts)) chart.destroy();
  charts = {};
  const x = series.points.map((p) => Date.parse(p.at) / 1000);
  const value = (name) => series.points.map((p) => p.values[name] ?? null);
  // Dashes as well as colours: the lines stay apart in grey print and for colour-blind eyes.
  charts.volume = new window.uPlot(
    {
      width: chartWidth("chart-volume"),
      height: 220,
      series: [
        { label: t("sup.time") },
        { label: t("sup.series.created"), stroke: "#1d4ed8", width: 2 },
        { label: t("sup.series.acknowledged"), stroke: "#b45309", width: 2, dash: [8, 4] },
        { label: t("sup.series.resolved"), stroke: "#15803d", width: 2, dash: [2, 3] },
      ],
      axes: [{ values: hourLabels }, { size: 40 }],
    },
    [x, value("created"), value("acknowledged"), value("resolved")],
    $("chart-volume"),
  );
  charts.ack = new window.uPlot(
    {
      width: chartWidth("chart-ack"),
      height: 220,
      series: [{ label: t("sup.time") }, { label: t("sup.series.median"), stroke: "#7c3aed", width: 2, points: { show: true } }],
      axes: [{ values: hourLabels }, { size: 50 }],
    },
    [x, value("median_ack_seconds")],
    $("chart-ack"),
  );
  const total = (name) => value(name).reduce((sum, v) => sum + (v || 0), 0);
  $("chart-volume-text").textContent =
    `${t("sup.series.created")} ${total("created")}, ${t("sup.series.acknowledged")} ${total("acknowledged")}, ` +
    `${t("sup.series.resolved")} ${total("resolved")}`;
  const medians = value("median_ack_seconds").filter((v) => v !== null);
  $("chart-ack-text").textContent = medians.length ? `${t("sup.series.median")}: ${medians.map(formatDuration).join(", ")}` : t("none");
}

// ----- escalations open now, and the alarm ----------------------------------------------------

function escalationKey(item) {
  return `${item.assignment_id}:${item.kind}:${item.level}`;
}

function overdueNow(item) {
  return formatDuration((Date.now() - Date.parse(item.due_at)) / 1000);
}

function escalationWords(item) {
  return {
    number: item.number,
    priority: priorityLabel(item.priority),
    agency: nameOf("agencies", item.agency),
    kind: t(item.kind === "resolve" ? "sup.kind.resolve" : "sup.kind.ack"),
    overdue: overdueNow(item),
  };
}

function renderLive() {
  const now = Date.now();
  const items = escalations.items;
  // What was open when the page opened is not "new"; what appeared since is, for a minute.
  for (const item of items) if (!firstSeen.has(escalationKey(item))) firstSeen.set(escalationKey(item), liveLoaded ? now : 0);
  $("live").replaceChildren(
    ...items.map((item) => {
      const top = item.level >= escalations.levels;
      const fresh = now - firstSeen.get(escalationKey(item)) < NEW_FOR_MS;
      return openable(
        el(
          "li",
          { class: `level-${Math.min(item.level, 3)}${top ? " top" : ""}`, "data-level": item.level, "data-assignment": item.assignment_id },
          el("span", { class: `prio prio-${item.priority}`, text: t("sup.live.level", { level: item.level }) }),
          " ",
          el("span", { class: "live-text", text: t("sup.live.item", escalationWords(item)) }),
          " ",
          el("span", { class: "muted small", text: item.escalated_at ? t("sup.live.since", { time: formatTime(item.escalated_at) }) : "" }),
          fresh ? el("span", { class: "badge live-new", text: t("sup.live.new") }) : null,
        ),
        item.ticket_id,
        item.number,
      );
    }),
  );
  $("live-count").textContent = items.length ? t("sup.live.count", { count: items.length }) : "";
  $("live-empty").hidden = items.length > 0;
}

/** The alarm rings for every escalation at the top level, until the supervisor dismisses it
 * or its deadline is met; a reload rings again for what is still open and not dismissed. */
function updateAlarm() {
  alarm.update(
    escalations.items
      .filter((item) => item.level >= escalations.levels)
      .map((item) => ({
        key: `top:${escalationKey(item)}`,
        text: () => t("sup.alarm.top", escalationWords(item)),
        dismissible: true,
        ticketId: item.ticket_id,
      })),
  );
}

function onEvents(events) {
  let escalated = false;
  for (const event of events) {
    if (event.ticket?.id) drawer.ticketChanged(event.ticket.id);
    if (event.type === "ticket.escalated") {
      escalated = true;
      const data = event.data || {};
      const matches =
        (!filters.agency.value || data.agency === filters.agency.value) &&
        (!filters.district.value || data.district === filters.district.value) &&
        (!filters.priority.value || data.priority === filters.priority.value);
      if (matches) {
        announce(
          () =>
            t("sup.escalated", {
              number: data.number || event.ticket?.number || "",
              agency: nameOf("agencies", data.agency),
              kind: t(data.deadline === "resolve" ? "sup.kind.resolve" : "sup.kind.ack"),
              level: data.level,
            }),
          { urgent: (data.level || 1) >= 2 },
        );
      }
    }
  }
  clearTimeout(eventTimer);
  eventTimer = setTimeout(
    () => {
      refresh({ afterEvent: true });
      if (Date.now() - seriesLoadedAt > SERIES_AFTER_EVENT_MS) loadSeries();
    },
    escalated ? AFTER_ESCALATION_MS : AFTER_EVENT_MS,
  );
}

function connection(state) {
  $("offline").hidden = state === "online";
  if (state === "online") refresh(); // catch up on what changed while away
}

async function main() {
  await startShell();
  reference = await loadReference();
  drawer = new Drawer({ reference, onChanged: () => refresh() });
  map = new IncidentMap($("map"), { onOpen: (ticketId) => drawer.openTicket(ticketId), onZoom: () => refresh() });
  alarm = new Alarm({
    scope: "supervisor",
    repeatSeconds: reference.console?.alarm_repeat_seconds ?? 30,
    controls: $("alarm-controls"),
    onOpen: (item) => drawer.openTicket(item.ticketId),
  });
  const fill = () => {
    fillSelect(filters.agency, "agencies", { empty: t("all") });
    fillSelect(filters.district, "districts", { empty: t("all") });
    fillSelect(filters.priority, "priorities", { empty: t("all") });
  };
  fill();
  const params = new URLSearchParams(location.search);
  for (const [name, select] of Object.entries(filters)) select.value = params.get(name) || "";
  const apply = () => {
    const qs = filterQuery().toString();
    history.replaceState(null, "", qs ? `?${qs}` : location.pathname);
    refresh();
    loadSeries();
  };
  for (const select of Object.values(filters)) select.addEventListener("change", apply);
  $("filters").addEventListener("submit", (event) => {
    event.preventDefault();
    apply();
  });
  // The map, the drawer and the alarm redraw themselves; the rest is drawn here.
  window.addEventListener("langchange", () => {
    fill();
    renderSummary();
    renderOverdue();
    renderLive();
    renderUpdated();
    drawCharts();
  });
  let resizeTimer = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(drawCharts, 200);
  });
  setInterval(renderLive, LIVE_EVERY_MS);
  renderLive();
  mountQueue($("queue"), { keys: false }).catch(showError);
  new LiveFeed({ onEvents, onState: connection }).start();
  await Promise.all([refresh(), loadSeries()]);
  setInterval(loadSeries, SERIES_EVERY_MS);
  document.body.dataset.ready = "true";
}

main().catch(showError);
