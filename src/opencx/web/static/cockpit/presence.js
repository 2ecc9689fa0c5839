// Forcing an agent's presence from the Agents table (PUT /api/v1/users/{id}/presence):
// the row's button opens a small dialog to pick the new state; taking an agent offline
// asks for a second click, since it withdraws their pending offers. The row changes
// with the agent.presence_changed event, like every supervisor's.

import { el } from "../desktop/i18n.js";

const REASONS = ["break", "lunch", "training", "meeting", "admin", "coaching", "technical_issue"];

export function makePresence({ api, i18n, enabled }) {
  const dialog = document.getElementById("presence-dialog");
  const form = dialog.querySelector("form");
  const title = dialog.querySelector("h2");
  const choice = form.elements.state;
  const warning = dialog.querySelector(".offline-warning");
  const apply = form.querySelector('button[value="apply"]');
  const error = dialog.querySelector(".form-error");
  let current = null;

  choice.replaceChildren(
    el("option", { value: "available" }, i18n.t("presence.available")),
    ...REASONS.map((reason) => el("option", { value: `not_ready:${reason}` }, `${i18n.t("presence.not_ready")} · ${i18n.reason(reason)}`)),
    el("option", { value: "offline" }, i18n.t("presence.offline")),
  );
  const update = () => {
    const offline = choice.value === "offline";
    warning.hidden = !offline;
    apply.textContent = i18n.t(offline ? "set_offline" : "apply");
    apply.classList.toggle("danger", offline);
    apply.classList.toggle("primary", !offline);
  };
  choice.addEventListener("change", update);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (event.submitter && event.submitter.value === "cancel") return dialog.close();
    const [state, reason] = choice.value.split(":");
    try {
      await api.put(`/users/${current.user_id}/presence`, { state, reason: reason || null });
      dialog.close();
    } catch (failure) {
      error.hidden = false;
      error.textContent = i18n.t("presence_failed", { detail: failure.message });
    }
  });

  function open(agent) {
    current = agent;
    title.textContent = i18n.t("presence_of", { agent: agent.display_name });
    warning.textContent = i18n.t("offline_warning", { agent: agent.display_name });
    choice.value = agent.presence === "available" ? "not_ready:break" : "available";
    error.hidden = true;
    update();
    dialog.showModal();
    choice.focus();
  }

  return function button(agent) {
    if (!enabled) return null;
    return el(
      "button",
      { type: "button", class: "button subtle small", "aria-label": i18n.t("presence_of", { agent: agent.display_name }), onclick: () => open(agent) },
      i18n.t("change_state"),
    );
  };
}
