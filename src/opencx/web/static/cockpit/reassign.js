// Reassigning a contact an agent has in hand, from the Agents table
// (POST /api/v1/tasks/{id}/transfer): the row's button opens a dialog to pick which of
// their contacts, and where it goes, another agent of the floor or a queue, with an
// optional note for whoever takes it. The agent who had it wraps up; the row changes
// with the live view's reservation and task events, like every supervisor's.

import { el } from "../desktop/i18n.js";

export function makeReassign({ store, api, i18n, enabled }) {
  const dialog = document.getElementById("reassign-dialog");
  const form = dialog.querySelector("form");
  const title = dialog.querySelector("h2");
  const contact = form.elements.task;
  const target = form.elements.target;
  const note = form.elements.note;
  const error = dialog.querySelector(".form-error");
  let current = null;

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (event.submitter && event.submitter.value === "cancel") return dialog.close();
    const [kind, id] = target.value.split(":");
    const body = kind === "queue" ? { queue_id: Number(id) } : { worker_ids: [Number(id)] };
    if (note.value.trim()) body.note = note.value.trim();
    try {
      await api.post(`/tasks/${contact.value}/transfer`, body);
      dialog.close();
    } catch (failure) {
      error.hidden = false;
      error.textContent = i18n.t("reassign_failed", { detail: failure.message });
    }
  });

  function open(agent) {
    current = agent;
    title.textContent = i18n.t("reassign_of", { agent: agent.display_name });
    contact.replaceChildren(...[...agent.contacts].sort((a, b) => a - b).map((task) => el("option", { value: task }, i18n.t("contact_n", { id: task }))));
    const others = [...store.agents.values()]
      .filter((a) => a.user_id !== agent.user_id && a.presence !== "offline")
      .sort((a, b) => a.display_name.localeCompare(b.display_name, i18n.locale));
    const queues = [...store.queues.values()].sort((a, b) => a.name.localeCompare(b.name, i18n.locale));
    target.replaceChildren(
      el("optgroup", { label: i18n.t("to_agent") }, ...others.map((a) => el("option", { value: `agent:${a.user_id}` }, a.display_name))),
      el("optgroup", { label: i18n.t("to_queue") }, ...queues.map((q) => el("option", { value: `queue:${q.id}` }, q.name))),
    );
    note.value = "";
    error.hidden = true;
    dialog.showModal();
    contact.focus();
  }

  // A reassigned contact leaves the agent's hands: a dialog left open for it closes.
  store.addEventListener("change", () => {
    if (dialog.open && current && !store.agents.get(current.user_id)?.contacts.size) dialog.close();
  });

  return function button(agent) {
    if (!enabled || !agent.contacts.size) return null;
    return el(
      "button",
      { type: "button", class: "button subtle small", "aria-label": i18n.t("reassign_of", { agent: agent.display_name }), onclick: () => open(agent) },
      i18n.t("reassign"),
    );
  };
}
