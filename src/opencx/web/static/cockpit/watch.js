// Looking silently at a conversation an agent has in hand: the desktop's timeline,
// read-only, in a dialog opened from the Agents table. It reads the task, its contact and
// the conversation's timeline (GET only): nothing is written, nothing reaches the
// customer or the agent. It shows the conversation as it was when opened; "Refresh"
// reads it again.

import { makeI18n, el } from "../desktop/i18n.js";
import { Timeline } from "../desktop/timeline.js";

export function makeWatch({ api, i18n, config }) {
  const dialog = document.getElementById("watch-dialog");
  const title = dialog.querySelector("h2");
  const pick = dialog.querySelector("select");
  const body = dialog.querySelector(".watch-body");
  const refresh = dialog.querySelector('button[value="refresh"]');
  const texts = { ...config.timeline_texts, channels: config.texts.channels };
  const timelineI18n = makeI18n({ ...config, texts });
  let current = null;

  async function show(taskId) {
    body.replaceChildren(el("p", { class: "muted" }, i18n.t("loading")));
    try {
      const task = await api.get(`/tasks/${taskId}`);
      const contact = await api.get(`/interactions/${task.interaction_id}`);
      const timeline = new Timeline({ api, i18n: timelineI18n, userId: config.user.id, conversationId: contact.conversation_id });
      body.replaceChildren(timeline.node);
      await timeline.load();
    } catch (failure) {
      body.replaceChildren(el("p", { class: "form-error", role: "alert" }, i18n.t("watch_failed", { detail: failure.message })));
    }
  }

  pick.addEventListener("change", () => show(pick.value));
  refresh.addEventListener("click", (event) => {
    event.preventDefault();
    show(pick.value);
  });
  dialog.querySelector('button[value="close"]').addEventListener("click", () => dialog.close());

  function open(agent) {
    current = agent;
    title.textContent = i18n.t("watch_of", { agent: agent.display_name });
    const tasks = [...agent.contacts].sort((a, b) => a - b);
    pick.replaceChildren(...tasks.map((task) => el("option", { value: task }, i18n.t("contact_n", { id: task }))));
    pick.closest("label").hidden = tasks.length < 2;
    dialog.showModal();
    show(tasks[0]);
  }

  return function button(agent) {
    if (!agent.contacts.size) return null;
    return el(
      "button",
      { type: "button", class: "button subtle small", "aria-label": i18n.t("watch_of", { agent: agent.display_name }), onclick: () => open(agent) },
      i18n.t("watch"),
    );
  };
}
