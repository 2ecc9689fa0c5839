// The supervisor cockpit: reads the page's configuration, opens /ws/supervisor and
// mounts the parts. The socket, API and i18n modules are the desktop's.

import { makeApi } from "../desktop/api.js";
import { makeI18n } from "../desktop/i18n.js";
import { AgentLive } from "../desktop/live.js";
import { mountAlerts } from "./alerts.js";
import { mountCharts } from "./charts.js";
import { mountHelp } from "./help.js";
import { makePresence } from "./presence.js";
import { makeReassign } from "./reassign.js";
import { makeWatch } from "./watch.js";
import { makeSteering } from "./steering.js";
import { CockpitStore } from "./store.js";
import { mountTables } from "./tables.js";
import { TodayFigures } from "./figures.js";
import { makeThresholds } from "./thresholds.js";

const ANSWERED_OR_GONE = new Set(["active", "abandoned", "ended"]);
// The day's figures change with them too: occupancy counts presence time.
const FIGURES_CHANGE = new Set(["agent.presence_changed"]);
const config = JSON.parse(document.getElementById("cockpit-config").textContent);
const i18n = makeI18n(config);
const api = makeApi(config.csrf, i18n);
const store = new CockpitStore();
const live = new AgentLive("/ws/supervisor");
const figures = new TodayFigures(api, config.can_report);
const steer = makeSteering({ store, api, i18n });

const presence = makePresence({ api, i18n, enabled: config.can_set_presence });
const reassign = makeReassign({ store, api, i18n, enabled: config.can_reassign });
const watch = makeWatch({ api, i18n, config });
const actions = {
  queue: makeThresholds({ api, i18n, enabled: config.can_set_thresholds }),
  agent: (agent) => [watch(agent), reassign(agent), presence(agent)],
};

mountTables({ store, i18n, figures, steer, canSteer: config.can_steer, actions });
mountAlerts({ store, figures, i18n });
if (config.can_report) mountCharts({ store, figures, i18n });
mountHelp({ store, api, i18n });

const connection = document.querySelector(".connection");
live.addEventListener("status", (event) => {
  connection.dataset.connection = event.detail;
  connection.textContent = i18n.t(event.detail);
});
live.addEventListener("snapshot", (event) => {
  store.snapshot(event.detail);
  figures.refresh();
});
live.addEventListener("event", (event) => {
  store.apply(event.detail);
  // A contact answered, abandoned or ended changes the day's figures.
  const state = event.detail.payload && event.detail.payload.state;
  if (event.detail.type === "interaction.state_changed" && ANSWERED_OR_GONE.has(state)) figures.refresh();
  else if (FIGURES_CHANGE.has(event.detail.type)) figures.refresh();
});
live.start();
