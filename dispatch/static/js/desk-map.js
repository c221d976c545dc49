// The desk's own work on the map (js/map.js), behind a toggle in the desk console's list head:
// the agency's open work at the map's view (GET /api/v1/stats/map, which a desk reads for its
// own agency only: counts per place and the most urgent as dots), read again every 15 s while
// the map is shown and at once when it zooms in or out.
//
//   import { mountDeskMap } from "./desk-map.js";
//   mountDeskMap({ agency: () => agency, onOpen: (ticketId) => … });
//
// The page holds <button id="map-toggle"> and <section id="desk-map" hidden>.

import { get } from "./api.js";
import { define, t } from "./i18n.js";
import { IncidentMap } from "./map.js";
import { showError } from "./shell.js";

define({
  "deskmap.show": ["地图", "Map"],
  "deskmap.hide": ["收起地图", "Hide map"],
});

const REFRESH_EVERY_MS = 15000;

export function mountDeskMap({ agency = () => null, onOpen = null } = {}) {
  const toggle = document.getElementById("map-toggle");
  const section = document.getElementById("desk-map");
  if (!toggle || !section) return null;
  const box = section.querySelector(".map-box") || section;
  let map = null; // made on first use: a desk that never opens the map pays nothing for it
  let timer = null;

  const label = () => {
    toggle.textContent = t(section.hidden ? "deskmap.show" : "deskmap.hide");
    toggle.setAttribute("aria-expanded", section.hidden ? "false" : "true");
  };
  const load = async () => {
    clearTimeout(timer);
    if (section.hidden) return;
    timer = setTimeout(load, REFRESH_EVERY_MS);
    map ||= new IncidentMap(box, { onOpen, onZoom: load });
    const qs = map.query();
    if (agency()) qs.set("agency", agency());
    try {
      await map.show((await get(`/api/v1/stats/map?${qs}`)).data);
      section.dataset.loaded = String(Date.now());
    } catch (error) {
      showError(error);
    }
  };
  toggle.addEventListener("click", () => {
    section.hidden = !section.hidden;
    label();
    load();
  });
  window.addEventListener("langchange", label);
  label();
  return { refresh: load };
}
