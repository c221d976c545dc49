// The 待分派 queue as a panel: every ticket that belongs to nobody (returned, released, filed
// without a category), oldest first, live. One key re-routes the selected item: change the
// category, the agencies or the district, and the ticket goes out again
// (GET /api/v1/queue, POST /api/v1/tickets/{id}/reroute). Used by the intake and the
// supervisor consoles: mountQueue(section).

import { ApiError, get, post } from "./api.js";
import { districtInput } from "./districts.js";
import { errorText } from "./errors.js";
import { LiveFeed } from "./feed.js";
import { define, formatDateTime, formatDuration, listJoin, t } from "./i18n.js";
import { announce, el, fillSelect, loadReference, nameOf, priorityLabel } from "./shell.js";

define({
  "queue.title": ["待分派队列", "Waiting to be routed"],
  "queue.count": ["共 {count} 件待分派", "{count} waiting"],
  "queue.empty": ["没有待分派的工单", "Nothing is waiting to be routed"],
  "queue.cause.returned": ["退回", "returned"],
  "queue.cause.released": ["已释放", "released"],
  "queue.cause.uncategorised": ["未分类", "no category"],
  "queue.cause.other": ["待分派", "to route"],
  "queue.by": ["{agency}：{reason}", "{agency}: {reason}"],
  "queue.waiting": ["已等待 {time}", "waiting {time}"],
  "queue.since": ["进入队列 {time}", "queued {time}"],
  "queue.reroute": ["重新分派", "Re-route"],
  "queue.reroute.title": ["重新分派 {number}", "Re-route {number}"],
  "queue.reroute.send": ["派出", "Dispatch"],
  "queue.reroute.keep": ["不变（{value}）", "unchanged ({value})"],
  "queue.reroute.auto": ["按类别自动", "by category"],
  "queue.reroute.none": ["（未分类）", "(none)"],
  "queue.rerouted": ["已重新分派 {number} → {agencies}", "Re-routed {number} → {agencies}"],
  "queue.keys": [
    "Alt+R 重新分派选中的一件 · ↑/↓ 选择 · Esc 取消",
    "Alt+R re-route the selected item · ↑/↓ select · Esc cancel",
  ],
  "queue.offline": ["队列离线，正在重新连接…", "Queue offline, reconnecting…"],
});

const REFRESH_AFTER_EVENT_MS = 300;
const POLL_EVERY_MS = 30000;
// Events that may put a ticket on the queue or take it off.
const QUEUE_EVENTS = new Set([
  "ticket.created",
  "ticket.queued",
  "ticket.rerouted",
  "ticket.merged",
  "assignment.created",
  "assignment.returned",
  "assignment.released",
]);

/**
 * Mount the queue panel into ``section`` (an empty <section>); returns {refresh()}. ``keys``:
 * Alt+R re-routes the selected item; ``badge``: an element that shows the count wherever the
 * panel itself is out of sight.
 */
export async function mountQueue(section, { keys = true, badge = null } = {}) {
  const reference = await loadReference();
  let items = [];
  let selected = 0;
  let openForm = null; // the ticket id whose re-route form is open
  let sending = false;
  let timer = null;

  const heading = el("h2", { id: "queue-title" });
  const count = el("span", { class: "muted small", id: "queue-count", "aria-live": "polite" });
  const offline = el("p", { class: "warn", id: "queue-offline", hidden: true });
  const list = el("ol", { class: "cards queue-items", id: "queue-list", "aria-labelledby": "queue-title" });
  const empty = el("p", { class: "muted", id: "queue-empty" });
  const help = el("p", { class: "keys small" });
  section.classList.add("panel", "queue-panel");
  section.setAttribute("aria-labelledby", "queue-title");
  section.replaceChildren(el("div", { class: "queue-head" }, heading, " ", count), offline, list, empty, help);

  function renderBadge() {
    if (!badge) return;
    badge.hidden = items.length === 0;
    badge.textContent = t("queue.count", { count: items.length });
    badge.dataset.returned = String(items.some((item) => item.cause === "returned"));
  }

  function causeTag(item) {
    return el("span", { class: `tag cause-${item.cause}`, text: t(`queue.cause.${item.cause}`) });
  }

  function render() {
    heading.textContent = t("queue.title");
    count.textContent = t("queue.count", { count: items.length });
    renderBadge();
    offline.textContent = t("queue.offline");
    help.textContent = keys ? t("queue.keys") : "";
    empty.textContent = t("queue.empty");
    empty.hidden = items.length > 0;
    if (selected >= items.length) selected = Math.max(0, items.length - 1);
    const now = Date.now();
    list.replaceChildren(
      ...items.map((item, index) => {
        const ticket = item.ticket;
        const card = el(
          "li",
          {
            class: "card queue-item",
            "data-ticket": ticket.id,
            "data-number": ticket.number,
            "data-cause": item.cause,
            "aria-current": index === selected ? "true" : null,
          },
          el("strong", { class: "mono", text: ticket.number }),
          " ",
          causeTag(item),
          " ",
          el("span", { class: `prio prio-${ticket.priority}`, text: priorityLabel(ticket.priority) }),
          el("br"),
          el("span", {
            class: "muted small",
            text: `${t("queue.since", { time: formatDateTime(item.since) })} · ${t("queue.waiting", {
              time: formatDuration((now - Date.parse(item.since)) / 1000),
            })}`,
          }),
          item.reason
            ? el("div", { class: "queue-reason", text: t("queue.by", { agency: nameOf("agencies", item.agency), reason: item.reason }) })
            : null,
          el("div", {
            class: "summary",
            text: `${ticket.category ? nameOf("categories", ticket.category) : t("queue.reroute.none")} · ${
              ticket.location?.district ? nameOf("districts", ticket.location.district) : "—"
            }`,
          }),
          el("div", { class: "summary", text: `${(ticket.description || "").slice(0, 80)}${ticket.location?.address ? ` — ${ticket.location.address}` : ""}` }),
          openForm === ticket.id
            ? null
            : el(
                "div",
                {},
                el("button", {
                  type: "button",
                  class: "reroute",
                  text: index === selected && keys ? `${t("queue.reroute")} (Alt+R)` : t("queue.reroute"),
                  onclick: () => open(ticket.id),
                }),
              ),
        );
        if (openForm === ticket.id) card.append(form(item));
        return card;
      }),
    );
  }

  function form(item) {
    const ticket = item.ticket;
    const category = el("select", { id: "reroute-category" });
    fillSelect(category, "categories", {
      empty: t("queue.reroute.keep", {
        value: ticket.category ? nameOf("categories", ticket.category) : t("queue.reroute.none"),
      }),
    });
    const priority = el("select", { id: "reroute-priority" });
    fillSelect(priority, "priorities", { empty: t("queue.reroute.keep", { value: priorityLabel(ticket.priority) }) });
    const lead = el("select", { id: "reroute-lead" });
    fillSelect(lead, "agencies", { empty: t("queue.reroute.auto") });
    const checks = el("div", { class: "checks", id: "reroute-assist" });
    for (const agency of reference.agencies) {
      const id = `reroute-assist-${agency.code}`;
      checks.append(
        el(
          "span",
          { class: "check" },
          el("input", { type: "checkbox", id, value: agency.code }),
          el("label", { for: id, text: nameOf("agencies", agency.code) }),
        ),
      );
    }
    const district = el("input", { id: "reroute-district", maxlength: "32" });
    const error = el("div", { class: "error", role: "alert", id: "reroute-error" });
    const send = el("button", { type: "submit", class: "primary", id: "reroute-send", text: t("queue.reroute.send") });
    const cancel = el("button", { type: "button", text: t("cancel"), onclick: () => close() });
    const box = el(
      "form",
      { class: "reroute-form", "aria-label": t("queue.reroute.title", { number: ticket.number }), novalidate: true },
      el("div", { class: "field" }, el("label", { for: "reroute-category", text: t("category") }), category),
      el(
        "div",
        { class: "row" },
        el("div", { class: "field" }, el("label", { for: "reroute-lead", text: t("intake.lead") }), lead),
        el("div", { class: "field" }, el("label", { for: "reroute-district", text: t("district") }), district),
        el("div", { class: "field" }, el("label", { for: "reroute-priority", text: t("priority") }), priority),
      ),
      el("fieldset", { class: "field assist" }, el("legend", { text: t("intake.assist") }), checks),
      el("div", { class: "actions" }, send, " ", cancel),
      error,
    );
    let districtBox = null;
    districtInput(district).then((d) => {
      districtBox = d;
      if (ticket.location?.district) d.set(ticket.location.district);
    });
    box.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        close();
      }
    });
    box.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (sending) return; // a double click sends once; the server refuses a second re-route anyway
      const body = {};
      if (category.value) body.category = category.value;
      if (priority.value) body.priority = priority.value;
      const assists = Array.from(checks.querySelectorAll("input:checked"), (i) => i.value);
      if (lead.value || assists.length) {
        const leadCode =
          lead.value ||
          reference.categories.find((c) => c.code === (category.value || ticket.category))?.agency ||
          null;
        if (leadCode) body.agencies = [leadCode, ...assists.filter((a) => a !== leadCode)];
      }
      const code = districtBox ? districtBox.code() : "";
      if (code === null) {
        error.textContent = t("invalid.unknown_district", { field: t("district") });
        district.focus();
        return;
      }
      if (code && code !== ticket.location?.district) body.district = code;
      sending = true;
      send.disabled = true;
      error.textContent = "";
      try {
        const { data } = await post(`/api/v1/tickets/${ticket.id}/reroute`, body);
        const agencies = data.assignments
          .filter((a) => ["dispatched", "acknowledged", "in_progress", "resolved"].includes(a.state))
          .map((a) => nameOf("agencies", a.agency));
        announce(t("queue.rerouted", { number: data.number, agencies: listJoin(agencies) }));
        openForm = null;
        await refresh();
      } catch (failure) {
        if (failure instanceof ApiError && failure.code === "not_in_queue") {
          announce(errorText(failure));
          openForm = null;
          await refresh();
        } else {
          error.textContent = errorText(failure);
        }
      } finally {
        sending = false;
        send.disabled = false;
      }
    });
    setTimeout(() => category.focus(), 0);
    return box;
  }

  function open(ticketId) {
    openForm = ticketId;
    selected = Math.max(0, items.findIndex((item) => item.ticket.id === ticketId));
    render();
  }

  function close() {
    const id = openForm;
    openForm = null;
    render();
    list.querySelector(`[data-ticket="${id}"] .reroute`)?.focus();
  }

  async function refresh() {
    try {
      const { data } = await get("/api/v1/queue?limit=200");
      items = data.items;
      if (openForm !== null && !items.some((item) => item.ticket.id === openForm)) openForm = null;
      if (openForm === null) render();
      else {
        // Keep the open form (and what is typed in it); refresh the rest next time.
        count.textContent = t("queue.count", { count: items.length });
        renderBadge();
      }
      section.dataset.loaded = "true";
    } catch (failure) {
      announce(errorText(failure), { urgent: true });
    }
  }

  function scheduleRefresh() {
    clearTimeout(timer);
    timer = setTimeout(refresh, REFRESH_AFTER_EVENT_MS);
  }

  if (keys) {
    document.addEventListener("keydown", (event) => {
      if (event.altKey && !event.ctrlKey && !event.metaKey && event.code === "KeyR" && items.length) {
        event.preventDefault();
        open(items[selected].ticket.id);
      } else if (openForm === null && section.contains(document.activeElement) && ["ArrowDown", "ArrowUp"].includes(event.key)) {
        event.preventDefault();
        selected = Math.min(items.length - 1, Math.max(0, selected + (event.key === "ArrowDown" ? 1 : -1)));
        render();
        list.querySelector('[aria-current="true"] .reroute')?.focus();
      }
    });
  }
  window.addEventListener("langchange", () => (openForm === null ? render() : null));
  new LiveFeed({
    onEvents: (events) => {
      if (events.some((event) => QUEUE_EVENTS.has(event.type))) scheduleRefresh();
    },
    onState: (state) => {
      offline.hidden = state === "online";
      if (state === "online") scheduleRefresh();
    },
  }).start();
  setInterval(refresh, POLL_EVERY_MS);
  render();
  await refresh();
  return { refresh };
}
