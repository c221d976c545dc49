// The citizens' status page: a ticket's status and plain-language timeline by number and
// tracking token (GET /api/v1/public/tickets/{number}?token=), and feedback once resolved.

import { ApiError, api } from "./api.js";
import { define, formatDateTime, pick, t } from "./i18n.js";
import { startShell } from "./shell.js";

define({
  "status.intro.code": [
    "请输入受理时告知您的工单号，以及 6 位短码或短信链接中的查询码。",
    "Enter the ticket number you were given, and the 6-digit short code or the tracking token from the text message.",
  ],
  "status.code": ["短码或查询码", "Short code or tracking token"],
});

const $ = (id) => document.getElementById(id);
let current = null; // {number, token, ticket}

function publicPath(number, token, suffix = "") {
  return `/api/v1/public/tickets/${encodeURIComponent(number)}${suffix}?token=${encodeURIComponent(token)}`;
}

function lookupError(error) {
  if (error instanceof ApiError && error.status === 404) return t("status.notfound");
  if (error instanceof ApiError && error.status === 429) return t("status.ratelimited");
  if (error instanceof ApiError && error.status === 0) return t("error.network");
  return t("error.generic", { message: error.message });
}

function render() {
  if (!current) return;
  const ticket = current.ticket;
  $("t-status").textContent = pick(ticket.status_text);
  $("t-status").className = `big-status status-${ticket.status}`;
  $("t-number").textContent = ticket.number;
  $("t-category").textContent = pick(ticket.category_name) || "—";
  $("t-agency").textContent = ticket.agency ? pick(ticket.agency.name) : "—";
  $("t-created").textContent = formatDateTime(ticket.created_at);
  $("t-resolution").textContent = ticket.resolution || "";
  $("t-resolution").hidden = $("t-resolution-label").hidden = !ticket.resolution;
  $("t-timeline").replaceChildren(
    ...ticket.timeline.map((line) => {
      const item = document.createElement("li");
      const time = document.createElement("time");
      time.dateTime = line.at;
      time.textContent = formatDateTime(line.at);
      item.append(time, " ", pick(line.text));
      return item;
    }),
  );
  $("feedback").hidden = !ticket.feedback_open;
  $("ticket").hidden = false;
}

async function lookup(event) {
  event.preventDefault();
  $("lookup-error").textContent = "";
  const number = $("number").value.trim().toUpperCase();
  const token = $("token").value.trim();
  if (!number || !token) {
    $("lookup-error").textContent = t("status.notfound");
    (number ? $("token") : $("number")).focus();
    return;
  }
  try {
    const { data } = await api("GET", publicPath(number, token), undefined, { signInOn401: false });
    current = { number, token, ticket: data };
    $("thanks").hidden = true;
    render();
    $("ticket").focus();
  } catch (error) {
    current = null;
    $("ticket").hidden = true;
    $("lookup-error").textContent = lookupError(error);
  }
}

async function sendFeedback(event) {
  event.preventDefault();
  $("feedback-error").textContent = "";
  const satisfied = document.querySelector("input[name=satisfied]:checked");
  const rating = document.querySelector("input[name=rating]:checked");
  if (!satisfied || !rating) {
    $("feedback-error").textContent = `${t("status.satisfied")} / ${t("status.rating")}`;
    (satisfied ? $("rating-1") : $("satisfied-yes")).focus();
    return;
  }
  const body = { satisfied: satisfied.value === "yes", rating: Number(rating.value), comment: $("comment").value.trim() };
  try {
    const { data } = await api("POST", publicPath(current.number, current.token, "/feedback"), body, { signInOn401: false });
    current.ticket = data;
    render();
    $("thanks").hidden = false;
    $("thanks").focus();
  } catch (error) {
    $("feedback-error").textContent = lookupError(error);
  }
}

async function main() {
  await startShell({ requireUser: false });
  const number = new URLSearchParams(location.search).get("number");
  if (number) $("number").value = number;
  $("lookup").addEventListener("submit", lookup);
  $("feedback-form").addEventListener("submit", sendFeedback);
  window.addEventListener("langchange", render);
  document.body.dataset.ready = "true";
  (number ? $("token") : $("number")).focus();
}

main();
