// The cockpit's figures at a glance and its three tables: queues (who waits, for how
// long, the estimated wait, the members by state, the service level now and the day's
// figures; queues with contacts waiting first), sites (their routing state and the
// buttons that steer it) and agents (state, time in it, contacts in hand, occupancy;
// available first, offline last). Waits and times in state tick every second on the
// client; everything else changes only with the live view.

import { el } from "../desktop/i18n.js";
import { estimatedWait, staffing } from "./floor.js";

const TICK_MS = 1000;
const DAY = 86_400;
const PRESENCE_ORDER = { available: 0, not_ready: 1, offline: 2 };

export function mountTables({ store, i18n, figures, steer, canSteer, actions }) {
  const queues = document.querySelector("#queues tbody");
  const sites = document.querySelector("#sites tbody");
  const agents = document.querySelector("#agents tbody");
  const tiles = document.getElementById("tiles");
  const days = new Intl.NumberFormat(i18n.locale, { style: "unit", unit: "day", unitDisplay: "narrow" });
  const render = () => {
    renderTiles(tiles, store, i18n);
    renderQueues(queues, store, i18n, figures, actions);
    renderSites(sites, store, i18n, steer, canSteer);
    renderAgents(agents, store, i18n, figures, actions);
    tick();
  };
  store.addEventListener("change", render);
  figures.addEventListener("change", render);
  setInterval(tick, TICK_MS);
  render();

  function tick() {
    const now = Date.now();
    for (const cell of document.querySelectorAll("[data-since]")) {
      const seconds = (now - Date.parse(cell.dataset.since)) / 1000;
      cell.textContent = seconds >= DAY ? days.format(Math.floor(seconds / DAY)) : i18n.duration(seconds);
    }
  }
}

function empty(body, columns, text) {
  body.replaceChildren(el("tr", { class: "empty" }, el("td", { colspan: columns }, text)));
}

function renderTiles(list, store, i18n) {
  let waiting = 0;
  let oldest = null;
  for (const queue of store.queues.values()) {
    const first = store.waitingIn(queue)[0];
    waiting += queue.waiting.size;
    if (first && (!oldest || first.since < oldest)) oldest = first.since;
  }
  const people = [...store.agents.values()];
  const tile = (label, value, attrs = {}) =>
    el("li", { class: "tile" }, el("span", { class: "tile-label" }, label), el("span", { class: "tile-value", ...attrs }, value));
  list.replaceChildren(
    tile(i18n.t("tile_waiting"), String(waiting), { class: waiting ? "tile-value warn" : "tile-value" }),
    oldest ? tile(i18n.t("tile_longest"), "", { "data-since": oldest }) : tile(i18n.t("tile_longest"), "—"),
    tile(i18n.t("tile_available"), String(people.filter((a) => a.presence === "available").length)),
    tile(i18n.t("tile_on_contacts"), String(people.filter((a) => a.contacts.size > 0).length)),
  );
}

function renderQueues(body, store, i18n, figures, actions) {
  const rows = [...store.queues.values()].sort((a, b) => b.waiting.size - a.waiting.size || a.name.localeCompare(b.name, i18n.locale));
  if (!rows.length) return empty(body, 10, i18n.t("no_queues"));
  body.replaceChildren(
    ...rows.map((queue) => {
      const waiting = store.waitingIn(queue);
      const today = figures.of(queue.id);
      const now = figures.now(queue.id);
      const oldest = waiting[0];
      const counts = staffing(store, queue);
      const wait = estimatedWait(queue, counts, today ? today.aht_seconds : null);
      return el(
        "tr",
        { "data-queue": queue.id, class: waiting.length ? "busy" : null },
        // The row header's accessible name is the queue's name alone; the channel line is for the eye.
        el("th", { scope: "row" }, queue.name, el("span", { class: "muted channel", "aria-hidden": "true" }, i18n.channel(queue.channel))),
        el("td", { class: "num waiting", "data-figure": "waiting" }, el("span", { class: waiting.length ? "pill warn" : "pill" }, String(waiting.length))),
        oldest ? el("td", { class: "num", "data-since": oldest.since, "data-figure": "longest_wait" }) : el("td", { class: "num muted", "data-figure": "longest_wait" }, "—"),
        el("td", { class: "num estimated" }, wait == null ? el("span", { class: "muted", title: i18n.t("nobody_logged_in") }, "—") : i18n.duration(wait)),
        el("td", { class: "num staff" }, staff(counts, i18n)),
        el("td", { class: "num", "data-figure": "service_level" }, level(now, i18n)),
        el("td", { class: "num" }, level(today, i18n)),
        el("td", { class: "num" }, today && today.asa_seconds != null ? i18n.duration(today.asa_seconds) : dash(i18n)),
        el("td", { class: "num" }, today && today.abandon_rate != null ? percent(today.abandon_rate, i18n) : dash(i18n)),
        el("td", { class: "actions" }, actions.queue(queue)),
      );
    }),
  );
}

/** Members available · busy · away, each number with its word for screen readers. */
function staff(counts, i18n) {
  const part = (kind) =>
    el("span", { class: `staff-count ${kind}`, title: i18n.t(`staff_${kind}`) }, String(counts[kind]), el("span", { class: "visually-hidden" }, ` ${i18n.t(`staff_${kind}`)}`));
  return el("span", { class: "staff-counts" }, part("available"), part("busy"), part("away"));
}

function level(today, i18n) {
  if (!today || today.service_level == null) return el("span", { class: "muted", title: i18n.t("not_yet") }, "—");
  const value = today.service_level;
  return el("span", { class: `level ${value >= 0.8 ? "good" : value >= 0.6 ? "fair" : "poor"}` }, percent(value, i18n));
}

function percent(value, i18n) {
  return new Intl.NumberFormat(i18n.locale, { style: "percent", maximumFractionDigits: 0 }).format(value);
}

function dash(i18n) {
  return el("span", { class: "muted" }, "—");
}

function renderSites(body, store, i18n, steer, canSteer) {
  const rows = [...store.sites.values()].sort((a, b) => a.name.localeCompare(b.name, i18n.locale));
  if (!rows.length) return empty(body, 5, i18n.t("no_sites"));
  const people = [...store.agents.values()];
  body.replaceChildren(
    ...rows.map((site) => {
      const here = people.filter((a) => a.site_id === site.id);
      const available = here.filter((a) => a.presence === "available").length;
      const onContacts = here.filter((a) => a.contacts.size > 0).length;
      const button = (action, state) =>
        el(
          "button",
          {
            type: "button",
            class: `button ${action === "close" ? "danger" : "subtle"} small`,
            disabled: site.state === state || !canSteer,
            title: i18n.t(`${action}_label`, { site: site.name }),
            onclick: () => steer(site, state),
          },
          i18n.t(action),
        );
      return el(
        "tr",
        { "data-site": site.id },
        el("th", { scope: "row" }, site.name),
        el("td", { class: "state" }, el("span", { class: `site-state ${site.state}` }, i18n.t(`site_${site.state}`))),
        el("td", { class: "num" }, String(available)),
        el("td", { class: "num" }, String(onContacts)),
        el("td", { class: "actions" }, el("div", {}, button("close", "closed"), button("drain", "draining"), button("open", "open"))),
      );
    }),
  );
}

// The demo's simulated agents (opencx demo): named as such, in words a screen reader reads.
function simulatedBadge(i18n) {
  return el("span", { class: "sim-badge", title: i18n.t("simulated_hint") }, i18n.t("simulated"));
}

function renderAgents(body, store, i18n, figures, actions) {
  const rows = [...store.agents.values()].sort(
    (a, b) => PRESENCE_ORDER[a.presence] - PRESENCE_ORDER[b.presence] || a.display_name.localeCompare(b.display_name, i18n.locale),
  );
  if (!rows.length) return empty(body, 6, i18n.t("no_agents"));
  body.replaceChildren(
    ...rows.map((agent) => {
      const state = i18n.t(`presence.${agent.presence}`);
      const site = store.sites.get(agent.site_id);
      const label = agent.reason ? `${state} · ${i18n.reason(agent.reason)}` : state;
      const today = figures.agent(agent.user_id);
      return el(
        "tr",
        { "data-agent": agent.user_id },
        el(
          "th",
          { scope: "row" },
          agent.display_name,
          agent.simulated ? simulatedBadge(i18n) : null,
          site ? el("span", { class: "muted channel", "aria-hidden": "true" }, site.name) : null,
        ),
        el("td", { class: "state" }, el("span", { class: `presence-badge ${agent.presence}` }, label)),
        el("td", { class: "num", "data-since": agent.since }),
        el("td", { class: "num contacts" }, String(agent.contacts.size)),
        el("td", { class: "num occupancy" }, today && today.occupancy != null ? percent(today.occupancy, i18n) : dash(i18n)),
        el("td", { class: "actions" }, el("div", {}, actions.agent(agent))),
      );
    }),
  );
}
