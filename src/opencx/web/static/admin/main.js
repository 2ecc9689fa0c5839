// The admin console: reads the page's configuration and shows one section at a time,
// each with its own path (/admin/queues…) so that it can be linked and the browser's
// back button works. The API and i18n modules are the desktop's.

import { makeApi } from "../desktop/api.js";
import { makeI18n } from "../desktop/i18n.js";
import { mountAudit } from "./audit.js";
import { mountCanned } from "./canned.js";
import { mountChannels } from "./channels.js";
import { mountConnectors } from "./connectors.js";
import { mountHours } from "./hours.js";
import { mountKnowledge } from "./knowledge.js";
import { mountQueues } from "./queues.js";
import { mountReasons } from "./reasons.js";
import { mountRouting } from "./routing.js";
import { mountSites, mountSkills, mountTeams } from "./directory.js";
import { mountUsers } from "./users.js";

const MOUNTS = {
  queues: mountQueues,
  hours: mountHours,
  routing: mountRouting,
  users: mountUsers,
  teams: mountTeams,
  sites: mountSites,
  skills: mountSkills,
  reasons: mountReasons,
  canned: mountCanned,
  knowledge: mountKnowledge,
  channels: mountChannels,
  connectors: mountConnectors,
  audit: mountAudit,
};

const config = JSON.parse(document.getElementById("admin-config").textContent);
const i18n = makeI18n(config);
const api = makeApi(config.csrf, i18n);
const root = document.getElementById("section");
const links = [...document.querySelectorAll(".admin-nav a[data-section]")];
const context = { api, i18n, config, can: config.can };

async function show(section) {
  for (const link of links) {
    if (link.dataset.section === section) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  document.title = `${i18n.t(`sections.${section}`)} · OpenCX`;
  root.setAttribute("aria-busy", "true");
  root.replaceChildren();
  try {
    await MOUNTS[section](root, context);
  } catch (failure) {
    root.replaceChildren();
    const line = document.createElement("p");
    line.className = "alert";
    line.setAttribute("role", "alert");
    line.textContent = i18n.t("load_failed", { detail: failure.message });
    root.append(line);
  } finally {
    root.setAttribute("aria-busy", "false");
  }
}

for (const link of links) {
  link.addEventListener("click", (event) => {
    if (event.metaKey || event.ctrlKey || event.shiftKey) return;
    event.preventDefault();
    history.pushState({ section: link.dataset.section }, "", link.href);
    show(link.dataset.section);
  });
}
window.addEventListener("popstate", () => {
  const section = location.pathname.split("/")[2] || config.sections[0];
  show(config.sections.includes(section) ? section : config.sections[0]);
});
show(config.section);
