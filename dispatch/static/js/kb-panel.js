// The knowledge-base panel of the intake console (知识库 · 直接答复): while the call-taker types
// the description it suggests entries (GET /api/v1/kb/suggest), a search box finds others
// (GET /api/v1/kb?q=), the chosen entry's answer is shown to read out, and 直接答复 files the
// call with the form's caller data as an answered consultation (POST /api/v1/tickets with
// "answer"): no dispatch. It only reads the intake form; intake.js owns the form itself.
// After an answer it dispatches "kb:answered" on document with the ticket.

import { ApiError, api, get, randomKey } from "./api.js";
import { define, t } from "./i18n.js";
import { announce, el, nameOf } from "./shell.js";

define({
  "kb.panel": ["知识库 · 直接答复", "Knowledge base · answer directly"],
  "kb.search": ["搜索知识库", "Search the knowledge base"],
  "kb.search.placeholder": ["输入关键词，如 居住证", "Type a keyword, e.g. 居住证"],
  "kb.suggested": ["根据诉求内容推荐", "Suggested from the description"],
  "kb.found": ["搜索结果", "Search results"],
  "kb.none": ["暂无匹配的知识条目", "No matching entry"],
  "kb.read.out": ["请向来电人读出：", "Read this out to the caller:"],
  "kb.answer": ["直接答复", "Answered"],
  "kb.answer.hint": ["按来电号码登记为“已直接答复”，不派单", "Files the call as answered, no dispatch"],
  "kb.note": ["补充说明（可不填）", "Note (optional)"],
  "kb.answered": ["已直接答复办结，请向来电人读出：", "Filed as answered; read this out to the caller:"],
  "kb.answered.short": ["工单 {number} 已直接答复办结", "Ticket {number} filed as answered"],
  "kb.version": ["第 {version} 版 · 审核于 {reviewed}", "version {version} · reviewed {reviewed}"],
  "kb.version.unreviewed": ["第 {version} 版", "version {version}"],
  "kb.need.description": ["请先填写诉求内容", "Enter the description first"],
  "kb.need.phone": ["请填写来电号码", "Enter the caller's phone"],
  "kb.bad.phone": ["来电号码格式不正确", "The caller's phone is not a valid number"],
  "kb.error": ["登记失败：{message}", "Could not file the call: {message}"],
  "kb.retired": ["该条目已停用，请选择其他条目", "This entry was retired; choose another"],
});

const DEBOUNCE_MS = 350;
const $ = (id) => document.getElementById(id);

function render(panel) {
  panel.replaceChildren(
    el("h2", { id: "kb-title", text: t("kb.panel") }),
    el(
      "div",
      { class: "field" },
      el("label", { for: "kb-search", text: t("kb.search") }),
      el("input", {
        id: "kb-search",
        type: "search",
        autocomplete: "off",
        maxlength: "200",
        placeholder: t("kb.search.placeholder"),
      }),
    ),
    el("p", { id: "kb-list-title", class: "muted", text: t("kb.suggested") }),
    el("ol", { id: "kb-list", class: "cards", "aria-labelledby": "kb-list-title" }),
    el("p", { id: "kb-empty", class: "muted", text: t("kb.none") }),
    el("section", { id: "kb-chosen", hidden: true, "aria-live": "polite" }),
    el("section", { id: "kb-result", class: "result", hidden: true, tabindex: "-1" }),
    el("div", { id: "kb-error", class: "error", role: "alert" }),
  );
}

export function mountKbPanel(panel) {
  const state = { items: [], chosen: null, mode: "suggest", timer: null, seq: 0, key: randomKey() };
  render(panel);

  function showList() {
    const list = $("kb-list");
    $("kb-list-title").textContent = t(state.mode === "search" ? "kb.found" : "kb.suggested");
    list.replaceChildren(
      ...state.items.map((entry) =>
        el(
          "li",
          { class: "card" },
          el(
            "button",
            {
              type: "button",
              class: "quiet kb-pick",
              "data-entry": String(entry.id),
              "aria-pressed": state.chosen?.id === entry.id ? "true" : "false",
              onclick: () => choose(entry),
            },
            el("strong", { text: entry.title }),
          ),
          entry.agency ? el("span", { class: "tag", text: nameOf("agencies", entry.agency) }) : null,
        ),
      ),
    );
    $("kb-empty").hidden = state.items.length > 0;
  }

  function showChosen() {
    const box = $("kb-chosen");
    const entry = state.chosen;
    if (!entry) {
      box.hidden = true;
      box.replaceChildren();
      return;
    }
    const version = entry.last_reviewed
      ? t("kb.version", { version: entry.version, reviewed: entry.last_reviewed })
      : t("kb.version.unreviewed", { version: entry.version });
    box.replaceChildren(
      el("h3", { text: entry.title }),
      el("p", { class: "muted", text: t("kb.read.out") }),
      el("blockquote", { id: "kb-answer-text", class: "kb-answer", text: entry.answer }),
      el("p", { class: "muted", text: version }),
      el(
        "div",
        { class: "field" },
        el("label", { for: "kb-note", text: t("kb.note") }),
        el("input", { id: "kb-note", autocomplete: "off", maxlength: "500" }),
      ),
      el(
        "div",
        { class: "actions" },
        el("button", { type: "button", id: "kb-answer", class: "primary", onclick: answer }, `${t("kb.answer")}`),
        el("span", { class: "muted", text: t("kb.answer.hint") }),
      ),
    );
    box.hidden = false;
  }

  function choose(entry) {
    state.chosen = entry;
    $("kb-error").textContent = "";
    showList();
    showChosen();
  }

  async function load(path, mode) {
    const seq = ++state.seq;
    try {
      const { data } = await get(path);
      if (seq !== state.seq) return; // a newer request went out meanwhile
      state.mode = mode;
      state.items = data.items;
      if (state.chosen && !state.items.some((e) => e.id === state.chosen.id)) state.items.unshift(state.chosen);
      showList();
    } catch (error) {
      if (seq === state.seq) $("kb-error").textContent = t("error.generic", { message: error.message });
    }
  }

  function suggestSoon() {
    clearTimeout(state.timer);
    const text = $("description").value.trim();
    if ($("kb-search").value.trim()) return; // an explicit search wins over suggestions
    state.timer = setTimeout(() => {
      if (text.length < 2) {
        state.items = state.chosen ? [state.chosen] : [];
        showList();
        return;
      }
      load(`/api/v1/kb/suggest?text=${encodeURIComponent(text.slice(0, 500))}`, "suggest");
    }, DEBOUNCE_MS);
  }

  function searchSoon() {
    clearTimeout(state.timer);
    const q = $("kb-search").value.trim();
    state.timer = setTimeout(() => {
      if (!q) {
        suggestSoon();
        return;
      }
      load(`/api/v1/kb?q=${encodeURIComponent(q.slice(0, 200))}&limit=8`, "search");
    }, DEBOUNCE_MS);
  }

  function formBody(entry) {
    const description = $("description").value.trim();
    const phone = $("phone").value.trim();
    const name = $("caller-name")?.value.trim();
    const address = $("address")?.value.trim();
    const district = $("district")?.value;
    const note = $("kb-note")?.value.trim();
    const body = {
      description: description || `咨询：${entry.title}`,
      channel: "phone",
      caller: { phone, ...(name ? { name } : {}) },
      answer: { kb_entry: entry.id, ...(note ? { text: note } : {}) },
    };
    if (address) body.location = { address, ...(district ? { district } : {}) };
    return body;
  }

  function errorMessage(error) {
    if (error.status === 0) return t("error.network");
    if (error.code === "kb_entry_retired") return t("kb.retired");
    if (error.status === 422) {
      const fields = (error.details || []).map((d) => d.field || "");
      if (fields.some((f) => f.startsWith("caller.phone"))) return t("kb.bad.phone");
    }
    return t("kb.error", { message: error.message });
  }

  async function answer() {
    const entry = state.chosen;
    if (!entry) return;
    $("kb-error").textContent = "";
    if (!$("phone").value.trim() && $("phone").required) {
      $("kb-error").textContent = t("kb.need.phone");
      $("phone").focus();
      return;
    }
    const button = $("kb-answer");
    button.disabled = true;
    try {
      const { data } = await api("POST", "/api/v1/tickets", formBody(entry), { headers: { "Idempotency-Key": state.key } });
      state.key = randomKey(); // the next answered call is a new request
      showResult(data);
      announce(t("kb.answered.short", { number: data.number }));
      document.dispatchEvent(new CustomEvent("kb:answered", { detail: { ticket: data, entry } }));
    } catch (error) {
      $("kb-error").textContent = error instanceof ApiError ? errorMessage(error) : String(error);
    } finally {
      button.disabled = false;
    }
  }

  function showResult(ticket) {
    const box = $("kb-result");
    box.replaceChildren(
      el("h3", { class: "ok", text: t("kb.answered") }),
      el(
        "dl",
        { class: "readout" },
        el("dt", { text: t("number") }),
        el("dd", { id: "kb-result-number", class: "big", text: ticket.number }),
        el("dt", { text: t("short.code") }),
        el("dd", { id: "kb-result-code", class: "big mono", text: ticket.short_code || "" }),
      ),
    );
    box.hidden = false;
    state.chosen = null;
    showChosen();
    showList();
    box.focus();
  }

  function reset() {
    state.chosen = null;
    state.items = [];
    state.key = randomKey();
    $("kb-search").value = "";
    $("kb-result").hidden = true;
    $("kb-error").textContent = "";
    showChosen();
    showList();
  }

  $("description").addEventListener("input", () => {
    if (!$("kb-result").hidden && $("description").value.trim()) $("kb-result").hidden = true;
    suggestSoon();
  });
  $("kb-search").addEventListener("input", searchSoon);
  // A new call (the form's reset) starts the panel afresh too.
  document.getElementById("intake-form")?.addEventListener("reset", () => setTimeout(reset, 0));
  window.addEventListener("langchange", () => {
    const search = $("kb-search").value;
    const chosen = state.chosen;
    const result = $("kb-result").hidden ? null : $("kb-result").cloneNode(true);
    render(panel);
    $("kb-search").value = search;
    $("kb-search").addEventListener("input", searchSoon);
    state.chosen = chosen;
    showList();
    showChosen();
    if (result) $("kb-result").replaceWith(result);
  });
  showList();
}

const mount = document.getElementById("kb-panel");
if (mount) {
  // Wait for the shell (reference names) that intake.js starts, then mount.
  const start = () => mountKbPanel(mount);
  if (document.body.dataset.ready === "true") start();
  else {
    const observer = new MutationObserver(() => {
      if (document.body.dataset.ready === "true") {
        observer.disconnect();
        start();
      }
    });
    observer.observe(document.body, { attributes: true, attributeFilter: ["data-ready"] });
  }
}
