// A district typed rather than picked: a text input with a <datalist> of every district's name,
// resolved as the call-taker types. An exact name or code wins; otherwise a part of one name
// is enough when only one district has it (开发区 → 经济开发区, 西平 → 西平县).

import { pick } from "./i18n.js";
import { el, loadReference } from "./shell.js";

let lists = 0;

function candidates(reference, text) {
  const needle = text.trim().toLowerCase();
  if (!needle) return [];
  const names = (d) => [d.code, d.name.zh, d.name.en].map((n) => n.toLowerCase());
  const exact = reference.districts.filter((d) => names(d).includes(needle));
  if (exact.length) return exact;
  return reference.districts.filter((d) => names(d).some((n) => n.includes(needle)));
}

/**
 * Turn ``input`` into a district box. Returns {code(), set(code), refresh()}: code() is the
 * district the text names ("" when empty, null when it names none or several).
 */
export async function districtInput(input, { onChange = () => {} } = {}) {
  const reference = await loadReference();
  const list = el("datalist", { id: `district-names-${++lists}` });
  input.setAttribute("list", list.id);
  input.setAttribute("autocomplete", "off");
  input.after(list);
  let chosen = "";

  function fillList() {
    list.replaceChildren(...reference.districts.map((d) => el("option", { value: pick(d.name) })));
  }

  function resolve({ complete }) {
    const text = input.value.trim();
    if (!text) {
      chosen = "";
    } else {
      const found = candidates(reference, text);
      chosen = found.length === 1 ? found[0].code : null;
      if (complete && chosen) input.value = pick(found[0].name);
    }
    if (chosen === null) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }

  input.addEventListener("input", () => {
    const before = chosen;
    resolve({ complete: false });
    // Picking from the list fills the whole name at once: complete it as the choice it is.
    if (chosen && reference.districts.some((d) => pick(d.name) === input.value)) resolve({ complete: true });
    if (chosen !== before) onChange(chosen);
  });
  input.addEventListener("change", () => {
    const before = chosen;
    resolve({ complete: true });
    if (chosen !== before) onChange(chosen);
  });
  fillList();
  return {
    code: () => chosen,
    set(code) {
      const district = reference.districts.find((d) => d.code === code);
      input.value = district ? pick(district.name) : "";
      chosen = district ? district.code : "";
      input.removeAttribute("aria-invalid");
    },
    refresh() {
      fillList();
      const district = reference.districts.find((d) => d.code === chosen);
      if (district) input.value = pick(district.name);
    },
  };
}
