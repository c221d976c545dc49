// Knowledge-base management (知识库管理) for supervisors and admins: list and search entries,
// create, edit (each save a new version, with the version the edit started from), retire, and
// read every version. Call-takers may open it to read; the server refuses their writes.

import { ApiError, api, get } from "./api.js";
import { applyStatic, define, formatDateTime, t } from "./i18n.js";
import { announce, el, fillSelect, nameOf, startShell } from "./shell.js";

define({
  "kbpage.title": ["知识库管理", "Knowledge base"],
  "kbpage.state": ["状态", "State"],
  "kbpage.search": ["搜索知识库", "Search the knowledge base"],
  "kbpage.empty": ["暂无匹配的知识条目", "No matching entry"],
  "kbpage.state.live": ["现行有效", "In force"],
  "kbpage.state.retired": ["已停用", "Retired"],
  "kbpage.state.all": ["全部", "All"],
  "kbpage.new": ["新建条目", "New entry"],
  "kbpage.edit": ["编辑条目 #{id}（第 {version} 版）", "Edit entry #{id} (version {version})"],
  "kbpage.col.title": ["标题", "Title"],
  "kbpage.col.version": ["版本", "Version"],
  "kbpage.col.reviewed": ["审核日期", "Last reviewed"],
  "kbpage.answer": ["答复口径（接警员读给来电人）", "Answer (read out to the caller)"],
  "kbpage.keywords": ["关键词（逗号分隔）", "Keywords (comma-separated)"],
  "kbpage.from": ["生效日期", "Valid from"],
  "kbpage.to": ["失效日期", "Valid to"],
  "kbpage.note": ["修改说明（可不填）", "Why (optional)"],
  "kbpage.save": ["保存", "Save"],
  "kbpage.retire": ["停用", "Retire"],
  "kbpage.retire.confirm": ["停用后接警员将搜不到该条目，确定停用？", "Call-takers will no longer find this entry. Retire it?"],
  "kbpage.more": ["更多", "More"],
  "kbpage.versions": ["历史版本", "Versions"],
  "kbpage.none.selected": ["选择左侧条目查看历史版本", "Choose an entry to see its versions"],
  "kbpage.saved": ["已保存为第 {version} 版", "Saved as version {version}"],
  "kbpage.retired": ["已停用", "Retired"],
  "kbpage.conflict": ["该条目已被他人修改，已重新载入最新版本，请再次修改", "Someone else saved this entry; the newest version is loaded, edit again"],
  "kbpage.required": ["标题和答复口径必须填写", "Title and answer are required"],
  "kbpage.invalid": ["填写有误：{fields}", "Please check: {fields}"],
  "kbpage.version.line": ["第 {version} 版 · {at} · {by}", "version {version} · {at} · {by}"],
  "kbpage.any": ["（不限）", "(none)"],
});

const $ = (id) => document.getElementById(id);
const state = { entries: [], cursor: null, current: null, timer: null };

function row(entry) {
  return el(
    "tr",
    { "aria-selected": state.current?.id === entry.id ? "true" : "false", "data-entry": String(entry.id) },
    el(
      "td",
      {},
      el("a", { href: `#${entry.id}`, onclick: (event) => (event.preventDefault(), open(entry.id)) }, entry.title),
      entry.retired ? el("span", { class: "kb-retired", text: ` ${t("kbpage.retired")}` }) : null,
    ),
    el("td", { text: entry.agency ? nameOf("agencies", entry.agency) : "—" }),
    el("td", { text: String(entry.version) }),
    el("td", { text: entry.last_reviewed || "—" }),
  );
}

function showRows() {
  $("kb-rows").replaceChildren(...state.entries.map(row));
  $("kb-rows-empty").hidden = state.entries.length > 0;
  $("kb-more").hidden = !state.cursor;
}

async function loadList({ more = false } = {}) {
  const q = $("kb-q").value.trim();
  const params = new URLSearchParams({ state: $("kb-state").value, limit: "50" });
  if (q) params.set("q", q);
  if (more && state.cursor) params.set("cursor", state.cursor);
  const { data } = await get(`/api/v1/kb?${params}`);
  state.entries = more ? state.entries.concat(data.items) : data.items;
  state.cursor = data.next_cursor;
  showRows();
}

function fillForm(entry) {
  $("kb-title").value = entry?.title || "";
  $("kb-answer").value = entry?.answer || "";
  $("kb-keywords").value = (entry?.keywords || []).join("，");
  $("kb-category").value = entry?.category || "";
  $("kb-agency").value = entry?.agency || "";
  $("kb-from").value = entry?.valid_from || "";
  $("kb-to").value = entry?.valid_to || "";
  $("kb-reviewed").value = entry?.last_reviewed || "";
  $("kb-change-note").value = "";
  $("kb-form-error").textContent = "";
  $("kb-form-heading").textContent = entry ? t("kbpage.edit", { id: entry.id, version: entry.version }) : t("kbpage.new");
  $("kb-retire").hidden = !entry || entry.retired;
  $("kb-save").disabled = Boolean(entry?.retired);
  const versions = entry?.versions || [];
  $("kb-versions").replaceChildren(
    ...(versions.length
      ? versions.map((v) =>
          el(
            "li",
            {},
            el("strong", {
              text: t("kbpage.version.line", { version: v.version, at: formatDateTime(v.created_at), by: v.created_by }),
            }),
            v.retired ? el("span", { class: "kb-retired", text: ` ${t("kbpage.retired")}` }) : null,
            v.note ? el("div", { class: "muted", text: v.note }) : null,
            el("div", { text: `${v.title}：${v.answer.slice(0, 120)}${v.answer.length > 120 ? "…" : ""}` }),
          ),
        )
      : [el("li", { class: "muted", text: t("kbpage.none.selected") })]),
  );
}

async function open(id) {
  const { data } = await get(`/api/v1/kb/${id}`);
  state.current = data;
  fillForm(data);
  showRows();
  $("kb-title").focus();
}

function body() {
  const keywords = $("kb-keywords").value.split(/[,，、;；]/).map((k) => k.trim()).filter(Boolean);
  const value = (id) => $(id).value || null;
  return {
    title: $("kb-title").value.trim(),
    answer: $("kb-answer").value.trim(),
    keywords,
    category: value("kb-category"),
    agency: value("kb-agency"),
    valid_from: value("kb-from"),
    valid_to: value("kb-to"),
    last_reviewed: value("kb-reviewed"),
    note: $("kb-change-note").value.trim(),
  };
}

function errorText(error) {
  if (error.status === 0) return t("error.network");
  if (error.status === 403) return t("error.forbidden");
  if (error.code === "kb_version_conflict") return t("kbpage.conflict");
  if (error.status === 422) {
    const labels = { title: "kbpage.col.title", answer: "kbpage.answer", valid_to: "kbpage.to", keywords: "kbpage.keywords" };
    const fields = [...new Set((error.details || []).map((d) => String(d.field || "").split(".")[0]))];
    return t("kbpage.invalid", { fields: fields.map((f) => (labels[f] ? t(labels[f]) : f)).join("、") || error.message });
  }
  return t("error.generic", { message: error.message });
}

async function save(event) {
  event.preventDefault();
  const data = body();
  if (!data.title || !data.answer) {
    $("kb-form-error").textContent = t("kbpage.required");
    return;
  }
  try {
    let saved;
    if (state.current) {
      saved = (await api("PATCH", `/api/v1/kb/${state.current.id}`, { ...data, version: state.current.version })).data;
    } else {
      if (!data.note) delete data.note;
      saved = (await api("POST", "/api/v1/kb", data)).data;
    }
    announce(t("kbpage.saved", { version: saved.version }));
    await loadList();
    await open(saved.id);
  } catch (error) {
    $("kb-form-error").textContent = error instanceof ApiError ? errorText(error) : String(error);
    if (error.code === "kb_version_conflict") await open(state.current.id);
  }
}

async function retire() {
  if (!state.current || !window.confirm(t("kbpage.retire.confirm"))) return;
  try {
    await api("POST", `/api/v1/kb/${state.current.id}/retire`, { version: state.current.version });
    announce(t("kbpage.retired"));
    await loadList();
    await open(state.current.id);
  } catch (error) {
    $("kb-form-error").textContent = error instanceof ApiError ? errorText(error) : String(error);
  }
}

function fillMenus() {
  fillSelect($("kb-category"), "categories", { empty: t("kbpage.any") });
  fillSelect($("kb-agency"), "agencies", { empty: t("kbpage.any") });
}

async function main() {
  await startShell();
  fillMenus();
  fillForm(null);
  $("kb-form").addEventListener("submit", save);
  $("kb-retire").addEventListener("click", retire);
  $("kb-new").addEventListener("click", () => {
    state.current = null;
    fillForm(null);
    showRows();
    $("kb-title").focus();
  });
  $("kb-more").addEventListener("click", () => loadList({ more: true }));
  $("kb-state").addEventListener("change", () => loadList());
  $("kb-q").addEventListener("input", () => {
    clearTimeout(state.timer);
    state.timer = setTimeout(() => loadList(), 300);
  });
  window.addEventListener("langchange", () => {
    applyStatic();
    fillMenus();
    fillForm(state.current);
    showRows();
  });
  await loadList();
  const wanted = Number(location.hash.slice(1));
  if (wanted) await open(wanted);
  document.body.dataset.ready = "true";
}

main();
