// Supervisor dashboard: live counts by agency and state, overdue work, escalations as they
// happen (websocket), response times and the day's volume (uPlot, vendored). Refreshes
// itself: every few seconds after live events, and every 15 s regardless.

import { get } from "./api.js";
import { LiveFeed } from "./feed.js";
import { mountQueue } from "./queue.js";
import { formatDuration, formatPercent, formatTime, t } from "./i18n.js";
import { announce, el, fillSelect, loadReference, nameOf, priorityLabel, showError, startShell } from "./shell.js";

const REFRESH_EVERY_MS = 15000;
const SERIES_EVERY_MS = 60000;
const AFTER_EVENT_MS = 1500;
const SERIES_AFTER_EVENT_MS = 5000; // charts follow live events at most this often
const LIVE_MAX = 50;

const $ = (id) => document.getElementById(id);
const filters = { agency: $("f-agency"), district: $("f-district"), priority: $("f-priority") };

let reference = null;
let summary = null;
let seriesLoadedAt = 0;
let series = null;
let charts = {};
let refreshTimer = null;
let eventTimer = null;
let seq = 0;
const live = []; // escalation events, newest first

function filterQuery() {
  const qs = new URLSearchParams();
  for (const [name, select] of Object.entries(filters)) if (select.value) qs.set(name, select.value);
  return qs;
}

// ----- numbers ------------------------------------------------------------------------------

function kpi(id, label, value, note = "") {
  return el(
    "div",
    { class: "kpi", "data-kpi": id },
    el("div", { class: "kpi-label", text: label }),
    el("div", { class: "kpi-value", text: String(value) }),
    note ? el("div", { class: "kpi-note muted small", text: note }) : null,
  );
}

function renderSummary() {
  if (!summary) return;
  const s = summary;
  const overdueNote = `${t("sup.kind.ack")} ${s.overdue_now.ack} · ${t("sup.kind.resolve")} ${s.overdue_now.resolve}`;
  $("kpis").replaceChildren(
    kpi("open", t("sup.open"), s.open.total),
    kpi("overdue", t("sup.overdue.now"), s.overdue_now.total, overdueNote),
    kpi("tickets", t("sup.tickets.today"), s.dispatched.tickets),
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
      return el(
        "tr",
        { "data-agency": row.agency },
        el("th", { scope: "row", text: nameOf("agencies", row.agency) }),
        el("td", { text: row.dispatched }),
        el("td", { text: row.acknowledged }),
        el("td", { text: row.in_progress }),
        el("td", { text: row.paused }),
        el("td", { text: row.total }),
        el("td", { class: late ? "due-over" : "", text: late ? `⚠ ${late}` : "0" }),
      );
    }),
  );
  const longest = Math.max(1, ...s.by_agency.map((row) => row.resolve.p90_seconds || 0));
  $("times").tBodies[0].replaceChildren(
    ...s.by_agency.map((row) =>
      el(
        "tr",
        {},
        el("th", { scope: "row", text: nameOf("agencies", row.agency) }),
        el("td", { text: formatDuration(row.acknowledge.p50_seconds) }),
        el("td", { text: formatDuration(row.acknowledge.p90_seconds) }),
        el("td", {}, bar(row.resolve.p50_seconds, longest), formatDuration(row.resolve.p50_seconds)),
        el("td", {}, bar(row.resolve.p90_seconds, longest), formatDuration(row.resolve.p90_seconds)),
      ),
    ),
  );
}

function bar(value, max) {
  const span = el("span", { class: "meter", "aria-hidden": "true" });
  span.style.width = `${Math.round(((value || 0) / max) * 60)}px`;
  return span;
}

function renderOverdue(items) {
  $("overdue").tBodies[0].replaceChildren(
    ...items.map((item) =>
      el(
        "tr",
        {},
        el("td", { class: "mono", text: item.number }),
        el("td", {}, el("span", { class: `prio prio-${item.priority}`, text: priorityLabel(item.priority) })),
        el("td", { text: nameOf("agencies", item.agency) }),
        el("td", { text: `${t(`state.${item.state}`)} · ${t(item.kind === "ack" ? "sup.kind.ack" : "sup.kind.resolve")}` }),
        el("td", { class: "due-over", text: `⚠ ${formatDuration(item.overdue_seconds)}` }),
        el("td", { text: item.escalation_level ? String(item.escalation_level) : "—" }),
      ),
    ),
  );
  $("overdue-empty").hidden = items.length > 0;
}

async function refresh() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refresh, REFRESH_EVERY_MS);
  const mine = ++seq;
  const qs = filterQuery();
  try {
    const [s, overdue] = await Promise.all([
      get(`/api/v1/stats/summary?${qs}`),
      get(`/api/v1/stats/overdue?${qs}&limit=50`),
    ]);
    if (mine !== seq) return;
    summary = s.data;
    renderSummary();
    renderOverdue(overdue.data.items);
    $("updated").textContent = t("sup.updated", { time: formatTime(new Date().toISOString()) });
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

// ----- live ---------------------------------------------------------------------------------

function matchesFilters(data) {
  return (
    (!filters.agency.value || data.agency === filters.agency.value) &&
    (!filters.district.value || data.district === filters.district.value) &&
    (!filters.priority.value || data.priority === filters.priority.value)
  );
}

function escalationText(event) {
  const data = event.data || {};
  return t("sup.escalated", {
    number: data.number || event.ticket?.number || "",
    agency: nameOf("agencies", data.agency),
    kind: t(data.deadline === "resolve" ? "sup.kind.resolve" : "sup.kind.ack"),
    level: data.level,
  });
}

function renderLive() {
  const shown = live.filter((event) => matchesFilters(event.data || {}));
  $("live").replaceChildren(
    ...shown.map((event) =>
      el(
        "li",
        { class: `level-${Math.min(event.data?.level || 1, 3)}` },
        el("time", { datetime: event.at, text: formatTime(event.at) }),
        " ⚠ ",
        el("span", { text: escalationText(event) }),
      ),
    ),
  );
  $("live-empty").hidden = shown.length > 0;
}

function onEvents(events) {
  let escalated = false;
  for (const event of events) {
    if (event.type === "ticket.escalated") {
      live.unshift(event);
      escalated = true;
      if (matchesFilters(event.data || {})) announce(escalationText(event), { urgent: (event.data?.level || 1) >= 2 });
    }
  }
  if (live.length > LIVE_MAX) live.length = LIVE_MAX;
  if (escalated) renderLive();
  clearTimeout(eventTimer);
  eventTimer = setTimeout(() => {
    refresh();
    if (Date.now() - seriesLoadedAt > SERIES_AFTER_EVENT_MS) loadSeries();
  }, AFTER_EVENT_MS);
}

function connection(state) {
  $("offline").hidden = state === "online";
  if (state === "online") refresh(); // catch up on what changed while away
}

async function main() {
  await startShell();
  reference = await loadReference();
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
    renderLive();
  };
  for (const select of Object.values(filters)) select.addEventListener("change", apply);
  $("filters").addEventListener("submit", (event) => {
    event.preventDefault();
    apply();
  });
  window.addEventListener("langchange", () => {
    fill();
    renderSummary();
    renderLive();
    drawCharts();
  });
  let resizeTimer = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(drawCharts, 200);
  });
  renderLive();
  mountQueue($("queue"), { keys: false }).catch(showError);
  new LiveFeed({ onEvents, onState: connection }).start();
  await Promise.all([refresh(), loadSeries()]);
  setInterval(loadSeries, SERIES_EVERY_MS);
  document.body.dataset.ready = "true";
}

main().catch(showError);
