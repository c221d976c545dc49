// The map of open incidents: 驻马店's districts drawn as SVG from the data shipped with the
// service (map/zhumadian.json, see map/README.md: a schematic drawn for this project, no tile
// server, nothing from the internet), one dot per open ticket, coloured by priority, ringed
// and pulsing when any of its assignments is overdue.
//
//   import { IncidentMap } from "./map.js";
//   const map = new IncidentMap(container, { onOpen: (ticketId) => …, onZoom: () => reload() });
//   await map.show(view);    // GET /api/v1/stats/map?${map.query()} (what the consoles use)
//   await map.update(items); // or GET /api/v1/stats/open items (one per assignment), all drawn
//
// A view from /stats/map is sized for the screen, not for the open work: when it holds all of
// the open work (view.complete) every ticket is a dot; when not, every open ticket is counted in
// numbered circles (per grid cell, and per district for tickets without coordinates) and the
// most urgent are dots on top. A numbered circle zooms the map into its cell (onZoom: the
// console reads the view again with map.query(), which then names the cell's box); the
// "whole map" button zooms out.
//
// A ticket is placed at its coordinates when it has them and they fall on the map; else at
// the town named in its address (town points of the map data), else at its district's seat;
// a ticket without any of these waits in the "place unknown" box. Dots at one place fan out.
// Everything is redrawn in the current language on "langchange".
//
// State for people and tests: the container's data-incidents and data-overdue (counts of
// tickets), data-dots, data-clusters and data-zoomed ("true"/"false"); on each dot
// data-ticket, data-number, data-priority, data-overdue ("true"/"false"), data-placed
// ("coordinates" | "town" | "district" | "unknown") and data-district; on each numbered
// circle data-tickets, data-overdue (a count), data-priority and data-bbox (or data-district).

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
  "map.cluster": ["此处 {count} 起在办警情，其中 {overdue} 起超时；点击放大", "{count} open incidents here, {overdue} overdue; click to zoom in"],
  "map.cluster.unplaced": ["{district}（无坐标）{count} 起在办警情，其中 {overdue} 起超时", "{district} (no coordinates): {count} open incidents, {overdue} overdue"],
  "map.legend.cluster": ["数字圆圈：该处在办警情数，点击放大；圆点：最紧急的警情", "Numbered circles: open incidents there, click to zoom in; dots: the most urgent"],
  "map.whole": ["全图", "Whole map"],
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

/** The SVG viewBox showing ``box`` (degrees) in the middle, with a margin and the whole
 * map's proportions (the picture keeps its size on the page), and how much it magnifies. */
function zoomedView(box, project, height) {
  if (!box) return { viewBox: `0 0 ${WIDTH} ${height}`, scale: 1 };
  const [x0, y0] = project([box[0], box[3]]);
  const [x1, y1] = project([box[2], box[1]]);
  const margin = Math.max(x1 - x0, y1 - y0) * 0.15;
  let w = Math.max(x1 - x0 + 2 * margin, 8);
  let h = Math.max(y1 - y0 + 2 * margin, 8);
  if (w / h < WIDTH / height) w = (h * WIDTH) / height;
  else h = (w * height) / WIDTH;
  const left = (x0 + x1) / 2 - w / 2;
  const top = (y0 + y1) / 2 - h / 2;
  return { viewBox: `${left.toFixed(2)} ${top.toFixed(2)} ${w.toFixed(2)} ${h.toFixed(2)}`, scale: WIDTH / w };
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
  constructor(container, { onOpen = null, onZoom = null, items = 200 } = {}) {
    linkStyles();
    this.container = container;
    this.onOpen = onOpen;
    this.onZoom = onZoom;
    this.itemLimit = items;
    this.items = [];
    this.view = null; // the last /stats/map answer, or null when drawing plain items
    this.box = null; // [west, south, east, north] zoomed into, or null: the whole map
    container.classList.add("incident-map");
    window.addEventListener("langchange", () => this.render());
  }

  /** Draw these open-work items (GET /api/v1/stats/open), every one; resolves once drawn. */
  async update(items) {
    this.items = items;
    this.view = null;
    await loadShapes();
    this.render();
  }

  /** The query for GET /api/v1/stats/map at this map's view (append to the console's filters). */
  query() {
    const qs = new URLSearchParams({ items: String(this.itemLimit) });
    if (this.box) qs.set("bbox", this.box.join(","));
    return qs;
  }

  /** Draw a GET /api/v1/stats/map answer; resolves once drawn. */
  async show(view) {
    this.view = view;
    this.items = view.items;
    await loadShapes();
    this.render();
  }

  zoom(box) {
    this.box = box;
    if (this.onZoom) this.onZoom(box);
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
    const view = this.view;
    const clustered = Boolean(view && !view.complete);
    const { viewBox, scale } = zoomedView(view ? view.box : null, project, height);
    const k = 1 / scale; // sizes on screen stay as they are when zoomed in
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
      townLayer.append(svg("circle", { cx: x.toFixed(1), cy: y.toFixed(1), r: (1.6 * k).toFixed(2) }, svg("title", {}, document.createTextNode(town.name))));
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
        const radius = 7 * k * Math.sqrt(n);
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
          r: ((RADIUS[incident.priority] || 5) * k).toFixed(2),
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

    const clusters = svg("g", { class: "map-clusters" });
    const badges = svg("g", { class: "map-cluster-counts" });
    if (clustered) this.drawClusters(clusters, badges, view, { project, seats, k });
    for (const feature of features) {
      const { kind, code, seat } = feature.properties;
      if (kind !== "district") continue;
      const [x, y] = project(seat);
      // Counts per district only when every ticket is a dot (numbered circles count the rest).
      const count = clustered ? 0 : counts.get(code) || 0;
      const text = `${nameOf("districts", code)}${count ? ` ${count}` : ""}`;
      labels.append(
        svg(
          "text",
          { x: x.toFixed(1), y: (y - 10 * k).toFixed(1), "text-anchor": "middle", "data-district": code, style: `font-size:${(12 * k).toFixed(2)}px;stroke-width:${(3 * k).toFixed(2)}px` },
          document.createTextNode(text),
        ),
      );
    }
    const unknownCount = clustered
      ? view.unplaced.filter((group) => !seats.has(group.district)).reduce((sum, group) => sum + group.tickets, 0)
      : counts.get("") || 0;
    const unknown = svg(
      "g",
      { class: "map-unknown" },
      svg("rect", { x: unknownBox[0], y: unknownBox[1], width: 130, height: 30, rx: 4 }),
      svg("text", { x: unknownBox[0] + 28, y: unknownBox[1] + 20 }, document.createTextNode(`${t("map.unknown")}${unknownCount ? ` ${unknownCount}` : ""}`)),
    );

    const total = view ? view.total : incidents.length;
    const overdueTotal = view ? view.overdue : overdue;
    const summary = t("map.summary", { count: total, overdue: overdueTotal });
    const picture = svg(
      "svg",
      { viewBox, role: "group", "aria-label": summary, class: "map-svg" },
      svg("title", {}, document.createTextNode(summary)),
      areas,
      townLayer,
      labels,
      view && view.box ? null : unknown,
      clusters,
      dots,
      badges,
    );
    const legend = el(
      "div",
      { class: "map-legend small" },
      ...["P1", "P2", "P3", "P4"].map((p) => el("span", { class: "legend-item" }, el("span", { class: `legend-dot prio-bg-${p}` }), priorityLabel(p))),
      el("span", { class: "legend-item" }, el("span", { class: "legend-dot overdue-ring" }), t("map.legend.overdue")),
      el("span", { class: "legend-item" }, el("span", { class: "legend-dot estimated" }), t("map.legend.placed")),
      clustered ? el("span", { class: "legend-item" }, el("span", { class: "legend-dot cluster-key" }), t("map.legend.cluster")) : null,
      el("span", { class: "muted" }, t("map.source")),
    );
    const parts = [picture, legend];
    if (this.box) {
      const whole = el("button", { type: "button", class: "map-whole", "data-action": "whole-map" }, t("map.whole"));
      whole.addEventListener("click", () => this.zoom(null));
      parts.unshift(whole);
    }
    this.container.replaceChildren(...parts);
    this.container.dataset.incidents = String(total);
    this.container.dataset.overdue = String(overdueTotal);
    this.container.dataset.dots = String(incidents.length);
    this.container.dataset.clusters = String(badges.childElementCount);
    this.container.dataset.zoomed = String(Boolean(this.box));
  }

  /** Numbered circles for a view that does not hold all the open work: one per grid cell with
   * coordinates (a click zooms into the cell), one per district at its seat for the tickets
   * without coordinates. The circle lies under the dots; its number, drawn over them at the
   * circle's edge, is what a click or Enter on the keyboard reaches whatever dots cover. */
  drawClusters(areaLayer, badgeLayer, view, { project, seats, k }) {
    const bubble = (point, group, attributes, label, onClick) => {
      const [x, y] = project(point);
      const r = (9 + 4 * Math.log2(Math.max(group.tickets, 1))) * k;
      const area = svg("circle", {
        cx: x.toFixed(1),
        cy: y.toFixed(1),
        r: r.toFixed(2),
        class: `cluster-area prio-fill-${group.priority}${group.overdue ? " has-overdue" : ""}${onClick ? "" : " unplaced"}`,
      });
      const text = String(group.tickets);
      const bx = x + r * 0.7;
      const by = y - r * 0.7;
      const width = (8 + 7 * text.length) * k;
      const height = 16 * k;
      const badge = svg(
        "g",
        {
          class: `cluster${group.overdue ? " has-overdue" : ""}${onClick ? "" : " unplaced"}`,
          tabindex: "0",
          role: onClick ? "button" : "img",
          "aria-label": label,
          "data-tickets": group.tickets,
          "data-overdue": group.overdue,
          "data-priority": group.priority,
          ...attributes,
        },
        svg("title", {}, document.createTextNode(label)),
        svg("rect", {
          x: (bx - width / 2).toFixed(1),
          y: (by - height / 2).toFixed(1),
          width: width.toFixed(1),
          height: height.toFixed(1),
          rx: (height / 2).toFixed(1),
          class: `prio-fill-${group.priority}`,
        }),
        svg(
          "text",
          { x: bx.toFixed(1), y: (by + 4 * k).toFixed(1), "text-anchor": "middle", style: `font-size:${(11 * k).toFixed(2)}px` },
          document.createTextNode(text),
        ),
      );
      if (onClick) {
        area.addEventListener("click", onClick);
        badge.addEventListener("click", onClick);
        badge.addEventListener("keydown", (event) => {
          if (event.key === "Enter" || event.key === " ") {
            event.preventDefault();
            onClick();
          }
        });
      }
      areaLayer.append(area);
      badgeLayer.append(badge);
    };
    for (const cell of view.cells) {
      const label = t("map.cluster", { count: cell.tickets, overdue: cell.overdue });
      bubble([cell.lon, cell.lat], cell, { "data-bbox": cell.bbox.join(",") }, label, () => this.zoom(cell.bbox));
    }
    for (const group of view.unplaced) {
      const seat = seats.get(group.district);
      if (!seat) continue;
      const label = t("map.cluster.unplaced", { district: nameOf("districts", group.district), count: group.tickets, overdue: group.overdue });
      bubble(seat, group, { "data-district": group.district }, label, null);
    }
  }
}
