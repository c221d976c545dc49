// One ticket as the desk and the supervisor read it: further callers' reports first (with
// their time), then the facts, the description, the progress notes of every agency and the
// timeline, where runs of the system's reminders and escalations (催办/督办) fold into one
// line that opens on a click, so that what people did stands out.
//
//   import { ticketDetail } from "./ticket-detail.js";
//   container.replaceChildren(ticketDetail(ticket, { fresh: new Set([reportId, …]) }));
//
// `ticket` is GET /api/v1/tickets/{id} (with `reports` and `timeline`). Options:
// - `fresh`: ids of reports to mark as new (class "report-new"), e.g. those that arrived live;
// - `open`: ids of the folded groups to draw opened (see `foldedGroups`): a re-render after
//   a live event keeps what the reader opened;
// - `onToggle(groupId, open)`: told when the reader opens or closes a folded group.
// Everything is rendered in the current language; render again on "langchange".
// Styles: css/ticket-detail.css, linked by the module itself.

import { define, formatDateTime, has, listJoin, paren, t } from "./i18n.js";
import { el, nameOf, priorityLabel } from "./shell.js";

define({
  "detail.reports": ["其他来电反映（{count}）", "Further callers ({count})"],
  "detail.report.new": ["新", "new"],
  "detail.notes": ["进展备注（{count}）", "Progress notes ({count})"],
  "detail.system.fold": ["系统催办/督办 {count} 条，最近：{last}", "{count} system reminders/escalations, latest: {last}"],
  "detail.level": ["第 {level} 级", "level {level}"],
  "detail.deadline.ack": ["签收超时", "acknowledgement overdue"],
  "detail.deadline.resolve": ["办结超时", "resolution overdue"],
  "detail.system": ["系统", "system"],
  "detail.channel.phone": ["电话", "phone"],
  "detail.channel.web": ["网站", "web"],
  "detail.channel.app": ["App", "app"],
  "detail.channel.sms": ["短信", "SMS"],
  "detail.channel.open311": ["Open311", "Open311"],
  "detail.channel.eido": ["EIDO", "EIDO"],
  "detail.pause.reason": ["暂停原因", "Paused because"],
});

const OPEN = new Set(["dispatched", "acknowledged", "in_progress"]);
const SYSTEM_TYPES = new Set(["ticket.escalated", "ticket.reminder"]);

function linkStyles() {
  if (document.querySelector("link[data-ticket-detail-css]")) return;
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = new URL("../css/ticket-detail.css", import.meta.url).href;
  link.dataset.ticketDetailCss = "";
  document.head.append(link);
}

/** "call_taker:王芳" → "接警员 王芳"; "system" → "系统". */
export function actorText(actor) {
  if (!actor || actor === "system") return t("detail.system");
  const [role, ...name] = actor.split(":");
  return name.length && has(`role.${role}`) ? `${t(`role.${role}`)} ${name.join(":")}` : actor;
}

/** One timeline event as a line of text in the current language. */
export function eventText(event) {
  const key = `event.${event.type}`;
  const label = has(key) ? t(key) : event.type;
  const data = event.data || {};
  const parts = [];
  if (data.agency) parts.push(nameOf("agencies", data.agency));
  if (SYSTEM_TYPES.has(event.type)) {
    if (data.level) parts.push(t("detail.level", { level: data.level }));
    if (data.deadline) parts.push(t(`detail.deadline.${data.deadline}`));
  }
  const words = data.reason || data.resolution || data.text || data.comment || "";
  if (words) parts.push(words);
  return parts.length ? paren(label, parts.join(" · ")) : label;
}

function isSystemLine(event) {
  return SYSTEM_TYPES.has(event.type) && (!event.actor || event.actor === "system");
}

/** The timeline cut into single events and runs of system reminders/escalations. Each run
 * is named by the id of its first event, so that a re-render can keep it open. */
export function foldedGroups(timeline) {
  const groups = [];
  for (const event of timeline || []) {
    const last = groups[groups.length - 1];
    if (isSystemLine(event)) {
      if (last && last.folded) last.events.push(event);
      else groups.push({ folded: true, id: `sys-${event.id}`, events: [event] });
    } else {
      groups.push({ folded: false, events: [event] });
    }
  }
  return groups;
}

function timelineLine(event) {
  return el(
    "li",
    { class: `event event-${event.type.replace(/\./g, "-")}`, "data-event-type": event.type },
    el("time", { datetime: event.at, text: formatDateTime(event.at) }),
    " ",
    el("span", { class: "event-text", text: eventText(event) }),
    " ",
    el("span", { class: "muted small", text: actorText(event.actor) }),
  );
}

function timelineList(ticket, { open, onToggle }) {
  const list = el("ol", { class: "timeline", id: "timeline" });
  for (const group of foldedGroups(ticket.timeline)) {
    if (!group.folded) {
      for (const event of group.events) list.append(timelineLine(event));
      continue;
    }
    const latest = group.events[group.events.length - 1];
    const details = el(
      "details",
      { class: "system-fold", "data-group": group.id, open: open.has(group.id) },
      el(
        "summary",
        {},
        el("span", {
          text: t("detail.system.fold", {
            count: group.events.length,
            last: `${formatDateTime(latest.at)} ${eventText(latest)}`,
          }),
        }),
      ),
      el("ol", { class: "timeline folded" }, ...group.events.map(timelineLine)),
    );
    details.addEventListener("toggle", () => onToggle && onToggle(group.id, details.open));
    list.append(el("li", { class: "event fold" }, details));
  }
  return list;
}

function reportsSection(ticket, fresh) {
  const reports = [...(ticket.reports || [])].reverse(); // newest first
  if (!reports.length) return null;
  return el(
    "section",
    { class: "reports", "aria-label": t("detail.reports", { count: reports.length }) },
    el("h3", { text: t("detail.reports", { count: reports.length }) }),
    el(
      "ol",
      { class: "report-list" },
      ...reports.map((report) =>
        el(
          "li",
          { class: fresh.has(report.id) ? "report report-new" : "report", "data-report": report.id },
          fresh.has(report.id) ? el("span", { class: "badge", text: t("detail.report.new") }) : null,
          el("time", { datetime: report.created_at, text: formatDateTime(report.created_at) }),
          " ",
          el("span", { class: "muted small", text: channelText(report.channel) }),
          report.caller_phone ? el("span", { class: "muted small mono", text: ` ${report.caller_phone}` }) : null,
          el("p", { class: "report-text", text: report.description }),
        ),
      ),
    ),
  );
}

function channelText(channel) {
  const key = `detail.channel.${channel}`;
  return has(key) ? t(key) : channel || "";
}

function notesSection(ticket) {
  const notes = (ticket.timeline || []).filter((event) => event.type === "assignment.note").reverse();
  if (!notes.length) return null;
  return el(
    "section",
    { class: "notes" },
    el("h3", { text: t("detail.notes", { count: notes.length }) }),
    el(
      "ol",
      { class: "note-list" },
      ...notes.map((note) =>
        el(
          "li",
          { class: "note", "data-event": note.id },
          el("time", { datetime: note.at, text: formatDateTime(note.at) }),
          " ",
          el("strong", { text: nameOf("agencies", note.data?.agency) }),
          " ",
          el("span", { class: "note-text", text: note.data?.text || eventText(note) }),
          " ",
          el("span", { class: "muted small", text: actorText(note.actor) }),
        ),
      ),
    ),
  );
}

function assignmentText(a) {
  const words = [t(`role.${a.role}`), t(`state.${a.state}`)];
  if (a.paused_at) words.push(`⏸ ${a.pause_reason || ""}`.trim());
  return paren(nameOf("agencies", a.agency), words.join(" · "));
}

function factsList(ticket) {
  const live = (ticket.assignments || []).filter((a) => OPEN.has(a.state) || a.state === "resolved");
  const location = ticket.location || {};
  return el(
    "dl",
    { class: "facts" },
    el("dt", { text: t("number") }),
    el("dd", { class: "mono", text: ticket.number }),
    el("dt", { text: t("priority") }),
    el("dd", {}, el("span", { class: `prio prio-${ticket.priority}`, text: priorityLabel(ticket.priority) })),
    el("dt", { text: t("category") }),
    el("dd", { text: nameOf("categories", ticket.category) || "—" }),
    el("dt", { text: t("status") }),
    el("dd", { text: t(`status.${ticket.status}`) }),
    el("dt", { text: t("created") }),
    el("dd", {}, el("time", { datetime: ticket.created_at, text: formatDateTime(ticket.created_at) })),
    el("dt", { text: t("address") }),
    el("dd", { text: `${location.address || ""} ${nameOf("districts", location.district)}`.trim() || "—" }),
    el("dt", { text: t("phone") }),
    el("dd", { class: "mono", text: ticket.caller?.phone || "—" }),
    el("dt", { text: t("agencies") }),
    el("dd", { class: "agencies", text: listJoin(live.map(assignmentText)) || "—" }),
  );
}

/** The ticket's detail as one element; see the top of this file. */
export function ticketDetail(ticket, { fresh = new Set(), open = new Set(), onToggle = null } = {}) {
  linkStyles();
  return el(
    "div",
    { class: "ticket-detail", "data-ticket": ticket.id },
    reportsSection(ticket, fresh),
    factsList(ticket),
    el("p", { class: "description", text: ticket.description }),
    notesSection(ticket),
    el("h3", { text: t("desk.timeline") }),
    timelineList(ticket, { open, onToggle }),
  );
}
