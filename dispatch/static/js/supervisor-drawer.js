// The supervisor's side sheet: one ticket (its detail from ticket-detail.js: reports, facts,
// agencies, notes, timeline) with what a supervisor can do from there — 催办 the desk holding
// open work, re-dispatch it to another agency or desk, add an agency, merge a duplicate — or
// the list of open work a count on the dashboard stands for, each row opening its ticket.
//
//   import { Drawer } from "./supervisor-drawer.js";
//   const drawer = new Drawer({ onChanged: () => refresh() });
//   drawer.openTicket(ticketId);                      // a ticket
//   drawer.openList(title, { agency: "police", state: "dispatched" }); // GET /stats/open
//   drawer.ticketChanged(ticketId);                   // a live event: re-read if shown
//
// State for tests: the <dialog id="drawer"> is open, data-view ("ticket" | "list"),
// data-ticket, and data-loaded (bumps on every render).

import { ApiError, get, post } from "./api.js";
import { define, formatDuration, has, paren, t } from "./i18n.js";
import { announce, el, nameOf, priorityLabel, showError } from "./shell.js";
import { ticketDetail } from "./ticket-detail.js";

define({
  "drawer.close": ["关闭", "Close"],
  "drawer.ticket": ["工单 {number}", "Ticket {number}"],
  "drawer.actions": ["督办操作", "Act on it"],
  "drawer.open.work": ["在办任务", "Open assignments"],
  "drawer.none.open": ["该工单没有在办任务", "No open assignment on this ticket"],
  "drawer.due.in": ["{kind}剩余 {time}", "{kind} due in {time}"],
  "drawer.due.over": ["{kind}已超时 {time}", "{kind} overdue by {time}"],
  "drawer.kind.ack": ["签收", "acknowledgement"],
  "drawer.kind.resolve": ["办结", "resolution"],
  "drawer.desk": ["席位 {desk}", "desk {desk}"],
  "drawer.urge": ["催办", "Chase up"],
  "drawer.redispatch": ["改派", "Re-dispatch"],
  "drawer.add": ["增派单位", "Add an agency"],
  "drawer.merge": ["合并重复工单", "Merge as duplicate"],
  "drawer.urge.title": ["催办 {agency}", "Chase {agency}"],
  "drawer.urge.text": ["催办内容（发送给处置席位）", "Message to the desk"],
  "drawer.urge.default": ["请尽快签收处置并回报进展", "Please acknowledge, act and report back as soon as possible"],
  "drawer.urge.send": ["发送催办", "Send"],
  "drawer.urge.sent": ["已催办 {agency}（{number}）", "{agency} chased ({number})"],
  "drawer.redispatch.title": ["改派 {agency} 的任务", "Re-dispatch {agency}'s assignment"],
  "drawer.agency": ["处置单位", "Agency"],
  "drawer.desk.label": ["处置席位", "Desk"],
  "drawer.desk.auto": ["按区县自动选择", "Chosen by district"],
  "drawer.desk.current": ["（当前）", " (current)"],
  "drawer.reason": ["原因", "Reason"],
  "drawer.redispatch.send": ["确认改派", "Re-dispatch"],
  "drawer.redispatched": ["已改派（{number}）", "Re-dispatched ({number})"],
  "drawer.add.title": ["增派单位", "Add an agency"],
  "drawer.role": ["角色", "Role"],
  "drawer.add.send": ["确认增派", "Add"],
  "drawer.added": ["已增派 {agency}（{number}）", "{agency} added ({number})"],
  "drawer.merge.title": ["本工单是重复工单，并入：", "This ticket duplicates:"],
  "drawer.merge.into": ["目标工单号", "Ticket number to merge into"],
  "drawer.merge.send": ["确认合并", "Merge"],
  "drawer.merged": ["{number} 已并入 {into}", "{number} merged into {into}"],
  "drawer.merge.unknown": ["找不到工单 {number}", "No ticket {number}"],
  "drawer.list.empty": ["没有符合的在办任务", "No open work matches"],
  "drawer.list.more": ["仅显示前 {count} 条", "Showing the first {count}"],
  "drawer.col.deadline": ["时限", "Deadline"],
  "drawer.col.place": ["地点", "Place"],
  "sup.err.agency_already_assigned": ["该单位已在此工单上处置", "That agency already works on this ticket"],
  "sup.err.lead_already_assigned": ["此工单已有主办单位", "The ticket already has a lead agency"],
  "sup.err.desk_not_of_agency": ["所选席位不属于该单位", "That desk belongs to another agency"],
  "sup.err.no_change": ["单位和席位都没有变化", "Neither agency nor desk changes"],
  "sup.err.assignment_not_open": ["该任务已结束，不能再催办或改派", "That assignment is closed"],
  "sup.err.ticket_not_open": ["该工单已结束", "The ticket is no longer open"],
  "sup.err.unknown_desk": ["没有这个席位", "No such desk"],
  "sup.err.merge_into_self": ["不能并入自身", "A ticket cannot merge into itself"],
  "sup.err.validation_failed": ["请检查填写的内容", "Please check what you entered"],
});

const OPEN = new Set(["dispatched", "acknowledged", "in_progress"]);
const LIST_LIMIT = 200;

function linkStyles() {
  if (document.querySelector("link[data-drawer-css]")) return;
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = new URL("../css/drawer.css", import.meta.url).href;
  link.dataset.drawerCss = "";
  document.head.append(link);
}

function errorText(error) {
  const key = `sup.err.${error?.code}`;
  return has(key) ? t(key) : error?.message || String(error);
}

/** "签收已超时 3:05" or "办结剩余 41:00": the deadline that matters now. */
export function deadlineText(assignment, now = Date.now()) {
  const kind = assignment.state === "dispatched" ? "ack" : "resolve";
  const due = Date.parse(kind === "ack" ? assignment.ack_due : assignment.resolve_due);
  const seconds = (due - now) / 1000;
  const vars = { kind: t(`drawer.kind.${kind}`), time: formatDuration(Math.abs(seconds)) };
  return { text: t(seconds < 0 ? "drawer.due.over" : "drawer.due.in", vars), overdue: seconds < 0 };
}

function field(id, label, control) {
  return el("div", { class: "field" }, el("label", { for: id, text: label }), control);
}

function agencyOptions(select, { exclude = [], selected = null } = {}, agencies) {
  select.replaceChildren(
    ...agencies.filter((a) => !exclude.includes(a.code)).map((a) => new Option(nameOf("agencies", a.code), a.code)),
  );
  if (selected) select.value = selected;
}

export class Drawer {
  constructor({ onChanged = () => {}, reference }) {
    linkStyles();
    this.onChanged = onChanged;
    this.reference = reference;
    this.view = null; // {kind: "ticket", ticket, desks} | {kind: "list", title, items, more}
    this.form = null; // the action form shown: {action, assignmentId}
    this.seq = 0;
    this.dialog = el("dialog", { id: "drawer", class: "drawer", "aria-labelledby": "drawer-title" });
    this.title = el("h2", { id: "drawer-title" });
    this.closeButton = el("button", { type: "button", class: "small-button", id: "drawer-close" });
    this.closeButton.addEventListener("click", () => this.close());
    this.body = el("div", { class: "drawer-body" });
    this.dialog.append(el("div", { class: "drawer-head" }, this.title, this.closeButton), this.body);
    this.dialog.addEventListener("close", () => {
      this.view = null;
      this.form = null;
    });
    document.body.append(this.dialog);
    window.addEventListener("langchange", () => this.render());
  }

  show() {
    if (!this.dialog.open) this.dialog.showModal();
  }

  close() {
    if (this.dialog.open) this.dialog.close();
  }

  // ----- loading ----------------------------------------------------------------------------

  async openTicket(ticketId) {
    this.form = null;
    await this.loadTicket(ticketId);
    this.show();
  }

  async loadTicket(ticketId) {
    const seq = ++this.seq;
    this.target = ticketId; // the ticket being shown or about to be
    try {
      const { data } = await get(`/api/v1/tickets/${ticketId}`);
      if (seq !== this.seq) return;
      this.view = { kind: "ticket", ticket: data, desks: this.view?.desks || new Map() };
      this.render();
    } catch (error) {
      showError(error);
    }
  }

  async openList(title, params) {
    const seq = ++this.seq;
    this.target = null;
    this.form = null;
    const qs = new URLSearchParams({ ...params, limit: String(LIST_LIMIT) });
    try {
      const { data } = await get(`/api/v1/stats/open?${qs}`);
      if (seq !== this.seq) return;
      this.view = { kind: "list", title, params, items: data.items, more: Boolean(data.next_cursor) };
      this.render();
      this.show();
    } catch (error) {
      showError(error);
    }
  }

  /** A live event about ``ticketId``: read it again if it is the one shown (not while the
   * supervisor is filling in a form, which a re-render would wipe). */
  ticketChanged(ticketId) {
    if (this.view?.kind === "ticket" && this.target === ticketId && this.dialog.open && !this.form) {
      this.loadTicket(ticketId);
    }
  }

  async desksOf(agency) {
    const cache = this.view.desks;
    if (!cache.has(agency)) cache.set(agency, (await get(`/api/v1/desks?agency=${agency}`)).data.items);
    return cache.get(agency);
  }

  // ----- drawing ----------------------------------------------------------------------------

  render() {
    this.closeButton.textContent = t("drawer.close");
    const view = this.view;
    if (!view) return;
    this.dialog.dataset.view = view.kind;
    this.dialog.dataset.loaded = String(Number(this.dialog.dataset.loaded || 0) + 1);
    if (view.kind === "list") {
      delete this.dialog.dataset.ticket;
      this.title.textContent = view.title();
      this.body.replaceChildren(this.listView(view));
      return;
    }
    const ticket = view.ticket;
    this.dialog.dataset.ticket = String(ticket.id);
    this.title.textContent = t("drawer.ticket", { number: ticket.number });
    this.body.replaceChildren(this.actionsView(ticket), ticketDetail(ticket));
    if (this.form) this.renderForm();
  }

  listView(view) {
    if (!view.items.length) return el("p", { class: "muted", text: t("drawer.list.empty") });
    const rows = view.items.map((item) => {
      const deadline = deadlineText(item);
      const row = el(
        "tr",
        { tabindex: "0", "data-ticket": item.ticket_id, "data-assignment": item.assignment_id, class: "clickable" },
        el("td", { class: "mono", text: item.number }),
        el("td", {}, el("span", { class: `prio prio-${item.priority}`, text: priorityLabel(item.priority) })),
        el("td", { text: paren(nameOf("agencies", item.agency), t(`state.${item.state}`)) }),
        el("td", { class: deadline.overdue ? "due-over" : "", text: deadline.text }),
        el("td", { text: `${nameOf("districts", item.district)} ${item.address || ""}`.trim() }),
      );
      const open = () => this.openTicket(item.ticket_id);
      row.addEventListener("click", open);
      row.addEventListener("keydown", (event) => event.key === "Enter" && open());
      return row;
    });
    return el(
      "div",
      {},
      el(
        "table",
        { class: "data", id: "drawer-list" },
        el(
          "thead",
          {},
          el(
            "tr",
            {},
            ...["number", "priority", "agency", "drawer.col.deadline", "drawer.col.place"].map((key) =>
              el("th", { scope: "col", text: t(key) }),
            ),
          ),
        ),
        el("tbody", {}, ...rows),
      ),
      view.more ? el("p", { class: "muted small", text: t("drawer.list.more", { count: LIST_LIMIT }) }) : null,
    );
  }

  actionsView(ticket) {
    const open = (ticket.assignments || []).filter((a) => OPEN.has(a.state));
    const finalStatus = ["closed", "merged", "cancelled"].includes(ticket.status);
    const rows = open.map((a) => {
      const deadline = deadlineText(a);
      const urge = el("button", { type: "button", class: "small-button primary", "data-action": "urge", text: t("drawer.urge") });
      urge.addEventListener("click", () => this.showForm("urge", a.id));
      const move = el("button", { type: "button", class: "small-button", "data-action": "redispatch", text: t("drawer.redispatch") });
      move.addEventListener("click", () => this.showForm("redispatch", a.id));
      return el(
        "li",
        { "data-assignment": a.id, class: deadline.overdue ? "overdue" : "" },
        el("strong", { text: paren(nameOf("agencies", a.agency), `${t(`role.${a.role}`)} · ${t(`state.${a.state}`)}`) }),
        " ",
        el("span", { class: deadline.overdue ? "due-over" : "muted", text: deadline.text }),
        " ",
        urge,
        " ",
        move,
      );
    });
    const add = el("button", { type: "button", class: "small-button", "data-action": "add", text: t("drawer.add") });
    add.addEventListener("click", () => this.showForm("add", null));
    const merge = el("button", { type: "button", class: "small-button", "data-action": "merge", text: t("drawer.merge") });
    merge.addEventListener("click", () => this.showForm("merge", null));
    return el(
      "section",
      { class: "drawer-actions", "aria-labelledby": "drawer-actions-title" },
      el("h3", { id: "drawer-actions-title", text: t("drawer.actions") }),
      rows.length ? el("ul", { class: "open-work" }, ...rows) : el("p", { class: "muted", text: t("drawer.none.open") }),
      finalStatus ? null : el("p", { class: "ticket-actions" }, add, " ", merge),
      el("div", { id: "drawer-form" }),
    );
  }

  showForm(action, assignmentId) {
    this.form = { action, assignmentId };
    this.renderForm();
  }

  renderForm() {
    const slot = this.body.querySelector("#drawer-form");
    if (!slot || !this.form) return;
    const ticket = this.view.ticket;
    const { action, assignmentId } = this.form;
    const assignment = (ticket.assignments || []).find((a) => a.id === assignmentId);
    const error = el("p", { class: "error", role: "alert", id: "drawer-error" });
    const form = el("form", { class: "drawer-form", "data-form": action });
    const cancel = el("button", { type: "button", text: t("cancel") });
    cancel.addEventListener("click", () => {
      this.form = null;
      slot.replaceChildren();
    });
    const submit = el("button", { type: "submit", class: "primary" });
    const reason = el("textarea", { id: "drawer-reason", rows: "2", maxlength: "2000", required: true });
    const agencies = this.reference.agencies;
    let send;
    if (action === "urge") {
      const text = el("textarea", { id: "drawer-text", rows: "2", maxlength: "500" });
      text.value = t("drawer.urge.default");
      submit.textContent = t("drawer.urge.send");
      form.append(el("h4", { text: t("drawer.urge.title", { agency: nameOf("agencies", assignment.agency) }) }), field("drawer-text", t("drawer.urge.text"), text));
      send = async () => {
        await post(`/api/v1/assignments/${assignmentId}/urge`, { text: text.value.trim() });
        return () => t("drawer.urge.sent", { agency: nameOf("agencies", assignment.agency), number: ticket.number });
      };
    } else if (action === "redispatch") {
      const agency = el("select", { id: "drawer-agency" });
      agencyOptions(agency, { selected: assignment.agency }, agencies);
      const desk = el("select", { id: "drawer-desk" });
      const fillDesks = async () => {
        const chosen = agency.value;
        const desks = await this.desksOf(chosen);
        const options = desks.map((d) => {
          const current = d.id === assignment.desk_id ? t("drawer.desk.current") : "";
          return new Option(`${d.name} · ${d.code}${current}`, d.code);
        });
        desk.replaceChildren(new Option(t("drawer.desk.auto"), ""), ...options);
      };
      agency.addEventListener("change", () => fillDesks().catch(showError));
      fillDesks().catch(showError);
      submit.textContent = t("drawer.redispatch.send");
      form.append(
        el("h4", { text: t("drawer.redispatch.title", { agency: nameOf("agencies", assignment.agency) }) }),
        field("drawer-agency", t("drawer.agency"), agency),
        field("drawer-desk", t("drawer.desk.label"), desk),
        field("drawer-reason", t("drawer.reason"), reason),
      );
      send = async () => {
        // The agency is always named: the same one with no desk is refused as no change.
        const body = { agency: agency.value, reason: reason.value.trim() };
        if (desk.value) body.desk = desk.value;
        await post(`/api/v1/assignments/${assignmentId}/redispatch`, body);
        return () => t("drawer.redispatched", { number: ticket.number });
      };
    } else if (action === "add") {
      const live = (ticket.assignments || []).filter((a) => OPEN.has(a.state) || a.state === "resolved").map((a) => a.agency);
      const agency = el("select", { id: "drawer-agency" });
      agencyOptions(agency, { exclude: live }, agencies);
      const role = el("select", { id: "drawer-role" }, new Option(t("role.assist"), "assist"), new Option(t("role.lead"), "lead"));
      submit.textContent = t("drawer.add.send");
      form.append(
        el("h4", { text: t("drawer.add.title") }),
        field("drawer-agency", t("drawer.agency"), agency),
        field("drawer-role", t("drawer.role"), role),
        field("drawer-reason", t("drawer.reason"), reason),
      );
      send = async () => {
        await post(`/api/v1/tickets/${ticket.id}/assignments`, { agency: agency.value, role: role.value, reason: reason.value.trim() });
        const added = agency.value;
        return () => t("drawer.added", { agency: nameOf("agencies", added), number: ticket.number });
      };
    } else {
      const into = el("input", { id: "drawer-into", class: "mono", required: true, maxlength: "40", placeholder: "MS20260101-000001" });
      submit.textContent = t("drawer.merge.send");
      form.append(el("h4", { text: t("drawer.merge.title") }), field("drawer-into", t("drawer.merge.into"), into));
      send = async () => {
        const number = into.value.trim().toUpperCase();
        const { data } = await get(`/api/v1/tickets?q=${encodeURIComponent(number)}&limit=5`);
        const target = data.items.find((item) => item.number === number);
        if (!target) throw new ApiError(404, { code: "merge_unknown", message: t("drawer.merge.unknown", { number }) });
        await post(`/api/v1/tickets/${ticket.id}/merge`, { into: target.id });
        this.mergedInto = target.id;
        return () => t("drawer.merged", { number: ticket.number, into: number });
      };
    }
    form.append(error, el("div", { class: "buttons" }, submit, " ", cancel));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      submit.disabled = true;
      error.textContent = "";
      try {
        announce(await send()); // a function: the toast follows a language switch
        this.form = null;
        const next = action === "merge" ? this.mergedInto : ticket.id;
        await this.loadTicket(next);
        this.onChanged();
      } catch (failure) {
        error.textContent = errorText(failure);
        submit.disabled = false;
      }
    });
    slot.replaceChildren(form);
    form.querySelector("textarea, input, select")?.focus();
  }
}
