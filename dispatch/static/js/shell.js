// What every console page shares: the header (user, language switch, sign-out), the names
// of agencies, categories, districts and priorities, and announcements for screen readers.

import { api, get } from "./api.js";
import { errorText } from "./errors.js";
import { applyStatic, define, getLang, pick, t, toggleLang } from "./i18n.js";

define({
  "nav.kb": ["知识库", "Knowledge base"],
  "short.code": ["短码（电话查询用）", "Short code (for the phone)"],
  "status.answered": ["已直接答复", "answered"],
});
// Who manages the knowledge base (the shell links its page for them).
const KB_ROLES = new Set(["supervisor", "admin"]);

let reference = null;
const indexes = {};

export async function loadReference() {
  if (!reference) {
    reference = (await get("/console/reference.json", { signInOn401: false })).data;
    for (const kind of ["agencies", "categories", "districts", "priorities"]) {
      indexes[kind] = new Map(reference[kind].map((item) => [item.code, item]));
    }
  }
  return reference;
}

/** The name of an agency, category, district or priority in the current language. */
export function nameOf(kind, code) {
  if (!code) return "";
  const item = indexes[kind]?.get(code);
  return item ? pick(item.name) : code;
}

export function priorityLabel(code) {
  return `${code} ${nameOf("priorities", code)}`;
}

/** Fill a <select> with reference items; keep the current choice where it still exists. */
export function fillSelect(select, kind, { empty = null, filter = null } = {}) {
  const current = select.value;
  select.replaceChildren();
  if (empty !== null) select.append(new Option(empty, ""));
  for (const item of reference[kind]) {
    if (filter && !filter(item)) continue;
    const label = kind === "priorities" ? `${item.code} ${pick(item.name)}` : pick(item.name);
    select.append(new Option(label, item.code));
  }
  select.value = current;
  if (select.selectedIndex < 0) select.selectedIndex = 0;
}

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined && child !== false) node.append(child);
  }
  return node;
}

/** Say something to screen readers (and show it in the toast line). `text` may be a function
 * returning the text: the toast then follows a language switch while it is shown. */
export function announce(text, { urgent = false } = {}) {
  const render = typeof text === "function" ? text : () => text;
  const value = render();
  const region = document.getElementById(urgent ? "announce-urgent" : "announce");
  if (region) {
    region.textContent = "";
    // A fresh text node after a tick makes screen readers speak a repeated message again.
    setTimeout(() => (region.textContent = value), 30);
  }
  const toast = document.getElementById("toast");
  if (toast) {
    toast.textContent = value;
    toast._render = render;
    toast.hidden = false;
    clearTimeout(toast._timer);
    toast._timer = setTimeout(() => (toast.hidden = true), 6000);
  }
}

/** Take the toast line away now (a new call must not show the last caller's number). */
export function clearToast() {
  const toast = document.getElementById("toast");
  if (!toast) return;
  clearTimeout(toast._timer);
  toast.hidden = true;
  toast.textContent = "";
  toast._render = null;
}

window.addEventListener("langchange", () => {
  const toast = document.getElementById("toast");
  // Also when hidden: what the toast said is still read (screen readers, a look back).
  if (toast && toast._render) toast.textContent = toast._render();
});

/** Say what went wrong in the console's language (js/errors.js), never the API's English text;
 * a language switch redraws it. */
export function showError(error) {
  announce(() => errorText(error), { urgent: true });
}

function renderUser(user) {
  const slot = document.getElementById("user-name");
  if (slot && user) slot.textContent = t("signed.in.as", { name: user.name, role: t(`role.${user.role}`) });
}

/** Wire the header; return the signed-in user (or null on public pages). */
export async function startShell({ requireUser = true } = {}) {
  applyStatic();
  document.getElementById("lang-toggle")?.addEventListener("click", () => toggleLang());
  document.getElementById("sign-out")?.addEventListener("click", async () => {
    try {
      await api("DELETE", "/console/session", undefined, { signInOn401: false });
    } finally {
      location.assign("/console/");
    }
  });
  document.addEventListener("keydown", (event) => {
    if (event.altKey && !event.ctrlKey && event.code === "KeyL") {
      event.preventDefault();
      toggleLang();
    }
  });
  await loadReference();
  let user = null;
  if (requireUser) {
    user = (await get("/api/v1/me")).data;
    renderUser(user);
    window.addEventListener("langchange", () => renderUser(user));
    const nav = document.querySelector("header nav");
    if (nav && KB_ROLES.has(user.role) && !nav.querySelector('a[data-console="kb"]')) {
      nav.append(el("a", { href: "/console/kb", "data-console": "kb", "data-i18n": "nav.kb", text: t("nav.kb") }));
    }
    const current = document.body.dataset.console;
    for (const link of document.querySelectorAll("nav a[data-console]")) {
      if (link.dataset.console === current) link.setAttribute("aria-current", "page");
    }
  }
  return user;
}

export { getLang, t };
