// The day of one queue per 15 minutes, drawn as inline SVG from the interval report
// (figures.js): contacts offered and their average wait (ASA) as bars, the service
// level as a line, each interval from local midnight to now. No chart library; the
// table under the chart says the same figures for whoever does not see it.

import { el } from "../desktop/i18n.js";

const SVG = "http://www.w3.org/2000/svg";
const QUARTER_MS = 15 * 60 * 1000;
const WIDTH = 960;
const HEIGHT = 150;
const PAD = { left: 40, right: 44, top: 10, bottom: 22 };

function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

export function mountCharts({ store, figures, i18n }) {
  const pick = document.getElementById("chart-queue");
  const drawing = document.getElementById("chart");
  const table = document.querySelector("#chart-table tbody");
  const percent = new Intl.NumberFormat(i18n.locale, { style: "percent", maximumFractionDigits: 0 });
  const clock = new Intl.DateTimeFormat(i18n.locale, { hour: "2-digit", minute: "2-digit" });

  let picked = false; // until the supervisor picks one, the busiest queue of the day
  const queues = () => [...store.queues.values()].sort((a, b) => a.name.localeCompare(b.name, i18n.locale));
  const offered = (queue) => figures.day(queue.id).reduce((sum, row) => sum + (row.counters.offered || 0), 0);
  const fillPick = () => {
    const chosen = pick.value;
    const all = queues();
    pick.replaceChildren(...all.map((q) => el("option", { value: q.id }, q.name)));
    if (picked && [...pick.options].some((o) => o.value === chosen)) pick.value = chosen;
    else if (all.length) pick.value = String(all.reduce((best, q) => (offered(q) > offered(best) ? q : best)).id);
  };

  const render = () => {
    const queueId = Number(pick.value);
    const rows = figures.day(queueId);
    drawing.replaceChildren(...draw(rows));
    if (!rows.length) {
      table.replaceChildren(el("tr", { class: "empty" }, el("td", { colspan: 4 }, i18n.t("not_yet"))));
      return;
    }
    table.replaceChildren(
      ...rows.map((row) =>
        el(
          "tr",
          {},
          el("th", { scope: "row" }, clock.format(new Date(row.start))),
          el("td", { class: "num" }, String(row.counters.offered ?? 0)),
          el("td", { class: "num" }, row.kpis.service_level == null ? "—" : percent.format(row.kpis.service_level)),
          el("td", { class: "num" }, row.kpis.asa_seconds == null ? "—" : i18n.duration(row.kpis.asa_seconds)),
        ),
      ),
    );
  };

  function draw(rows) {
    const midnight = new Date();
    midnight.setHours(0, 0, 0, 0);
    const slots = Math.max(4, Math.ceil((Date.now() - midnight.getTime()) / QUARTER_MS));
    const inner = { w: WIDTH - PAD.left - PAD.right, h: HEIGHT - PAD.top - PAD.bottom };
    const x = (start) => PAD.left + ((Date.parse(start) - midnight.getTime()) / QUARTER_MS) * (inner.w / slots);
    const band = inner.w / slots;
    const most = Math.max(1, ...rows.map((r) => r.counters.offered || 0));
    const y = (share) => PAD.top + inner.h * (1 - share);
    const parts = [
      // grid lines at 0, 50 and 100 % of the service level
      ...[0, 0.5, 1].map((share) => svg("line", { x1: PAD.left, x2: WIDTH - PAD.right, y1: y(share), y2: y(share), class: "chart-grid" })),
      ...[0, 0.5, 1].map((share) => svg("text", { x: WIDTH - PAD.right + 6, y: y(share) + 4, class: "chart-axis" }, percent.format(share))),
      svg("text", { x: PAD.left - 6, y: y(1) + 4, class: "chart-axis", "text-anchor": "end" }, String(most)),
      svg("text", { x: PAD.left - 6, y: y(0) + 4, class: "chart-axis", "text-anchor": "end" }, "0"),
    ];
    for (let hour = 0; hour * 4 <= slots; hour += slots > 48 ? 3 : 2) {
      const at = new Date(midnight.getTime() + hour * 4 * QUARTER_MS);
      parts.push(svg("text", { x: PAD.left + hour * 4 * band, y: HEIGHT - 6, class: "chart-axis", "text-anchor": "middle" }, clock.format(at)));
    }
    for (const row of rows) {
      const offered = row.counters.offered || 0;
      const height = (inner.h * offered) / most;
      parts.push(svg("rect", { x: x(row.start) + band * 0.15, y: PAD.top + inner.h - height, width: band * 0.7, height, class: "chart-bar" }));
    }
    const points = rows.filter((r) => r.kpis.service_level != null).map((r) => `${x(r.start) + band / 2},${y(r.kpis.service_level)}`);
    if (points.length) parts.push(svg("polyline", { points: points.join(" "), class: "chart-line" }));
    for (const point of points) {
      const [cx, cy] = point.split(",");
      parts.push(svg("circle", { cx, cy, r: 3, class: "chart-dot" }));
    }
    return parts;
  }

  pick.addEventListener("change", () => {
    picked = true;
    render();
  });
  store.addEventListener("change", (event) => {
    if (event.detail === "snapshot") {
      fillPick();
      render();
    }
  });
  figures.addEventListener("change", () => {
    if (!picked) fillPick();
    render();
  });
  fillPick();
  render();
}
