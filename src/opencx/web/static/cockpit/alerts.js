// Queues' thresholds crossed, live: the same rule as the server's (opencx.core.alerts.
// breaches) applied to the live view every second (waits grow between events) and after
// every change. A crossed threshold marks its cell and row, is listed in the alert
// banner, and is announced once (aria-live) when it starts being crossed.

import { el } from "../desktop/i18n.js";

const TICK_MS = 1000;

/** The thresholds the figures cross: "waiting", "longest_wait", "service_level". */
export function breaches(thresholds, { waiting, longestWaitSeconds, serviceLevel }) {
  const found = [];
  if (thresholds.max_waiting != null && waiting > thresholds.max_waiting) found.push("waiting");
  const limit = thresholds.max_longest_wait_seconds;
  if (limit != null && longestWaitSeconds != null && longestWaitSeconds > limit) found.push("longest_wait");
  const least = thresholds.min_service_level;
  if (least != null && serviceLevel != null && serviceLevel < least) found.push("service_level");
  return found;
}

export function mountAlerts({ store, figures, i18n }) {
  const banner = document.getElementById("alerts");
  const announcer = document.getElementById("alerts-announcer");
  let shown = new Set();

  const check = () => {
    const now = Date.now();
    const current = [];
    for (const queue of store.queues.values()) {
      const oldest = store.waitingIn(queue)[0];
      const interval = figures.now(queue.id);
      const figuresNow = {
        waiting: queue.waiting.size,
        longestWaitSeconds: oldest ? (now - Date.parse(oldest.since)) / 1000 : null,
        serviceLevel: interval ? interval.service_level : null,
      };
      for (const kind of breaches(queue.thresholds || {}, figuresNow)) current.push({ queue, kind, figuresNow });
    }
    mark(current);
    const keys = new Set(current.map(({ queue, kind }) => `${queue.id}:${kind}`));
    const fresh = current.filter(({ queue, kind }) => !shown.has(`${queue.id}:${kind}`));
    shown = keys;
    banner.hidden = current.length === 0;
    banner.replaceChildren(...current.map((alert) => el("li", { class: "alert-item" }, text(alert))));
    if (fresh.length) announcer.textContent = fresh.map(text).join(" ");
  };

  function mark(current) {
    for (const node of document.querySelectorAll("#queues [data-crossed]")) node.removeAttribute("data-crossed");
    for (const { queue, kind } of current) {
      const row = document.querySelector(`#queues tr[data-queue="${queue.id}"]`);
      if (!row) continue;
      row.dataset.crossed = "";
      row.querySelector(`[data-figure="${kind}"]`)?.setAttribute("data-crossed", "");
    }
  }

  function text({ queue, kind, figuresNow }) {
    const t = queue.thresholds;
    const percent = (value) => new Intl.NumberFormat(i18n.locale, { style: "percent", maximumFractionDigits: 0 }).format(value);
    if (kind === "waiting") return i18n.t("alert_waiting", { queue: queue.name, count: figuresNow.waiting, limit: t.max_waiting });
    if (kind === "longest_wait") return i18n.t("alert_longest_wait", { queue: queue.name, limit: i18n.duration(t.max_longest_wait_seconds) });
    return i18n.t("alert_service_level", { queue: queue.name, value: percent(figuresNow.serviceLevel), limit: percent(t.min_service_level) });
  }

  store.addEventListener("change", check);
  figures.addEventListener("change", check);
  setInterval(check, TICK_MS);
  check();
}
