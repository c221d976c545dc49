// The map of open incidents: 驻马店's districts drawn as SVG from the data shipped with the
// service (map/zhumadian.json, see map/README.md: a schematic drawn for this project, no tile
// server, nothing from the internet), one dot per open ticket, coloured by priority, ringed
// and pulsing when any of its assignments is overdue.
//
//   import { IncidentMap } from "./map.js";
//   const map = new IncidentMap(container, { onOpen: (ticketId) => … });
//   await map.update(items); // GET /api/v1/stats/open items (one per assignment)
//
// A ticket is placed at its coordinates when it has them and they fall on the map; else at
// the town named in its address (town points of the map data), else at its district's seat;
// a ticket without any of these waits in the "place unknown" box. Dots at one place fan out.
// Everything is redrawn in the current language on "langchange".
//
// State for people and tests: the container's data-incidents and data-overdue (counts), and
// on each dot data-ticket, data-number, data-priority, data-overdue ("true"/"false"),
// data-placed ("coordinates" | "town" | "district" | "unknown") and data-district.

import { define, listJoin, t } from "./i18n.js";
import { el, nameOf, priorityLabel } from "./shell.js";

define({
  "map.title": ["在办警情分布", "Open incidents on the map"],
  "map.legend.priority": ["颜色：紧急程度", "Colour: priority"],
  "map.legend.overdue": ["黑圈闪烁：已超时", "Black pulsing ring: overdue"],
  "map.legend.placed": ["淡色：按镇街或区县估计的位置", "Faded: placed by its town or district"],
  "map.unknown": ["位置不明", "Place unknown"],
  "map.summary": ["地图上 {count} 起在办警情，其中 {overdue} 起超时", "{count} open incidents on the map, {overdue} overdue"],
  "map.dot": ["{number} {priority} {category} {address}{overdue}", "{number} {priority} {category} {address}{overdue}"],
  "map.dot.overdue": ["，已超时", ", overdue"],
  "map.source": ["示意图：区县界线为近似绘制，非测绘成果", "Schematic: district outlines are approximate, not survey data"],
});

const DATA_URL = new URL("../map/zhumadian.json", import.meta.url).href;
const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 640;
const PAD = 12;
const RANK = { P1: 0, P2: 1, P3: 2, P4: 3 };
const RADIUS = { P1: 8, P2: 7, P3: 6, P4: 5 };

let shapes = null; // the map data, loaded once per page

async function loadShapes() {
  if (!shapes) {
    const response = await fetch(DATA_URL, { credentials: "same-origin" });
    if (!response.ok) throw new Error(`map data: HTTP ${response.status}`);
    shapes = await response.json();
  }
  return shapes;
}

function svg(tag, attributes = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value !== null && value !== undefined) node.setAttribute(key, String(value));
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

function linkStyles() {
  if (document.querySelector("link[data-map-css]")) return;
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = new URL("../css/map.css", import.meta.url).href;
  link.dataset.mapCss = "";
  document.head.append(link);
}

/** A projection of the data's extent onto a WIDTH-wide box (equirectangular, scaled by the
 * cosine of the middle latitude: faithful enough across one city). */
function projection(features) {
  let west = Infinity;
  let east = -Infinity;
  let south = Infinity;
  let north = -Infinity;
  for (const feature of features) {
    if (feature.properties.kind !== "district") continue;
    for (const polygon of feature.geometry.coordinates) {
      for (const [lon, lat] of polygon[0]) {
        west = Math.min(west, lon);
        east = Math.max(east, lon);
        south = Math.min(south, lat);
        north = Math.max(north, lat);
      }
    }
  }
  const cos = Math.cos((((south + north) / 2) * Math.PI) / 180);
  const scale = (WIDTH - 2 * PAD) / ((east - west) * cos);
  const height = Math.ceil((north - south) * scale + 2 * PAD);
  const project = ([lon, lat]) => [PAD + (lon - west) * cos * scale, PAD + (north - lat) * scale];
  const inside = (lon, lat) => lon >= west && lon <= east && lat >= south && lat <= north;
  return { project, inside, height };
}

function ringPath(ring, project) {
  return ring.map((point, i) => `${i ? "L" : "M"}${project(point).map((v) => v.toFixed(1)).join(",")}`).join("") + "Z";
}

/** One dot per ticket from open-work items (one per assignment). */
export function incidentsOf(items) {
  const byTicket = new Map();
  for (const item of items) {
    let incident = byTicket.get(item.ticket_id);
    if (!incident) {
      incident = {
        ticketId: item.ticket_id,
        number: item.number,
        priority: item.priority,
        category: item.category,
        district: item.district,
        address: item.address || "",
        lat: item.lat,
        lon: item.lon,
        overdue: false,
        level: 0,
        agencies: [],
      };
      byTicket.set(item.ticket_id, incident);
    }
    incident.overdue ||= Boolean(item.overdue);
    incident.level = Math.max(incident.level, item.escalation_level || 0);
    if (!incident.agencies.includes(item.agency)) incident.agencies.push(item.agency);
  }
  // Drawn last on top: overdue and urgent work must not hide under routine dots.
  return [...byTicket.values()].sort(
    (a, b) => Number(a.overdue) - Number(b.overdue) || RANK[b.priority] - RANK[a.priority] || a.ticketId - b.ticketId,
  );
}

export class IncidentMap {
  constructor(container, { onOpen = null } = {}) {
    linkStyles();
    this.container = container;
    this.onOpen = onOpen;
    this.items = [];
    container.classList.add("incident-map");
    window.addEventListener("langchange", () => this.render());
  }

  /** Draw these open-work items (GET /api/v1/stats/open); resolves once drawn. */
  async update(items) {
    this.items = items;
    await loadShapes();
    this.render();
  }

  place(incident, geometry) {
    const { inside, towns, seats } = geometry;
    if (incident.lat !== null && incident.lon !== null && inside(incident.lon, incident.lat)) {
      return { point: [incident.lon, incident.lat], placed: "coordinates" };
    }
    const address = incident.address;
    if (address) {
      // Longest names first ("李桥回族镇" before a shorter one inside it); the ticket's own
      // district's towns before others.
      const candidates = towns.filter((town) => address.includes(town.name));
      candidates.sort((a, b) => Number(b.district === incident.district) - Number(a.district === incident.district) || b.name.length - a.name.length);
      if (candidates.length) return { point: candidates[0].point, placed: "town", district: candidates[0].district };
    }
    if (incident.district && seats.has(incident.district)) {
      return { point: seats.get(incident.district), placed: "district" };
    }
    return { point: null, placed: "unknown" };
  }

  render() {
    if (!shapes) return;
    const features = shapes.features;
    const { project, inside, height } = projection(features);
    const towns = features
      .filter((f) => f.properties.kind === "town")
      .map((f) => ({ name: f.properties.name, district: f.properties.district, point: f.geometry.coordinates }));
    const seats = new Map(
      features.filter((f) => f.properties.kind !== "town").map((f) => [f.properties.code, f.properties.seat]),
    );
    const incidents = incidentsOf(this.items);
    const counts = new Map();

    const areas = svg("g", { class: "map-areas" });
    const labels = svg("g", { class: "map-labels" });
    for (const feature of features) {
      const { kind, code } = feature.properties;
      if (kind === "town") continue;
      const polygons = feature.geometry.type === "Polygon" ? [feature.geometry.coordinates] : feature.geometry.coordinates;
      const d = polygons.map((polygon) => ringPath(polygon[0], project)).join("");
      areas.append(svg("path", { d, class: `map-${kind}`, "data-district": code }));
    }
    const townLayer = svg("g", { class: "map-towns", "aria-hidden": "true" });
    for (const town of towns) {
      const [x, y] = project(town.point);
      townLayer.append(svg("circle", { cx: x.toFixed(1), cy: y.toFixed(1), r: 1.6 }, svg("title", {}, document.createTextNode(town.name))));
    }

    // Places, then fan out the dots sharing one (golden-angle spiral), drawn in order.
    const unknownBox = [WIDTH - 136, height - 34];
    const used = new Map();
    const dots = svg("g", { class: "map-incidents" });
    let overdue = 0;
    for (const incident of incidents) {
      const where = this.place(incident, { inside, towns, seats });
      const district = where.district || incident.district || "";
      counts.set(district, (counts.get(district) || 0) + 1);
      let [x, y] = where.point ? project(where.point) : [unknownBox[0] + 12, unknownBox[1] + 16];
      const key = `${Math.round(x)},${Math.round(y)}`;
      const n = used.get(key) || 0;
      used.set(key, n + 1);
      if (n) {
        const angle = n * 2.39996;
        const radius = 7 * Math.sqrt(n);
        x += Math.cos(angle) * radius;
        y += Math.sin(angle) * radius;
      }
      if (incident.overdue) overdue += 1;
      const label = t("map.dot", {
        number: incident.number,
        priority: priorityLabel(incident.priority),
        category: nameOf("categories", incident.category),
        address: incident.address || nameOf("districts", incident.district),
        overdue: incident.overdue ? t("map.dot.overdue") : "",
      });
      const dot = svg(
        "circle",
        {
          cx: x.toFixed(1),
          cy: y.toFixed(1),
          r: RADIUS[incident.priority] || 5,
          class: `incident prio-fill-${incident.priority}${incident.overdue ? " overdue" : ""}${where.placed === "coordinates" ? "" : " estimated"}`,
          tabindex: "0",
          role: "button",
          "aria-label": label,
          "data-ticket": incident.ticketId,
          "data-number": incident.number,
          "data-priority": incident.priority,
          "data-overdue": String(incident.overdue),
          "data-placed": where.placed,
          "data-district": district,
        },
        svg("title", {}, document.createTextNode(`${label} · ${listJoin(incident.agencies.map((a) => nameOf("agencies", a)))}`)),
      );
      const open = () => this.onOpen && this.onOpen(incident.ticketId);
      dot.addEventListener("click", open);
      dot.addEventListener("keydown", (event) => {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          open();
        }
      });
      dots.append(dot);
    }

    for (const feature of features) {
      const { kind, code, seat } = feature.properties;
      if (kind !== "district") continue;
      const [x, y] = project(seat);
      const count = counts.get(code) || 0;
      const text = `${nameOf("districts", code)}${count ? ` ${count}` : ""}`;
      labels.append(svg("text", { x: x.toFixed(1), y: (y - 10).toFixed(1), "text-anchor": "middle", "data-district": code }, document.createTextNode(text)));
    }
    const unknownCount = counts.get("") || 0;
    const unknown = svg(
      "g",
      { class: "map-unknown" },
      svg("rect", { x: unknownBox[0], y: unknownBox[1], width: 130, height: 30, rx: 4 }),
      svg("text", { x: unknownBox[0] + 28, y: unknownBox[1] + 20 }, document.createTextNode(`${t("map.unknown")}${unknownCount ? ` ${unknownCount}` : ""}`)),
    );

    const summary = t("map.summary", { count: incidents.length, overdue });
    const picture = svg(
      "svg",
      { viewBox: `0 0 ${WIDTH} ${height}`, role: "group", "aria-label": summary, class: "map-svg" },
      svg("title", {}, document.createTextNode(summary)),
      areas,
      townLayer,
      labels,
      unknown,
      dots,
    );
    const legend = el(
      "div",
      { class: "map-legend small" },
      ...["P1", "P2", "P3", "P4"].map((p) => el("span", { class: "legend-item" }, el("span", { class: `legend-dot prio-bg-${p}` }), priorityLabel(p))),
      el("span", { class: "legend-item" }, el("span", { class: "legend-dot overdue-ring" }), t("map.legend.overdue")),
      el("span", { class: "legend-item" }, el("span", { class: "legend-dot estimated" }), t("map.legend.placed")),
      el("span", { class: "muted" }, t("map.source")),
    );
    this.container.replaceChildren(picture, legend);
    this.container.dataset.incidents = String(incidents.length);
    this.container.dataset.overdue = String(overdue);
  }
}
