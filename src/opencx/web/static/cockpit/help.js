// Agents' help requests, live from /ws/supervisor, each with a box to answer it
// (POST /api/v1/help-requests/{id}/answer). The answer reaches the agent on
// /ws/agent; the request leaves this list with the help.answered event.

import { el } from "../desktop/i18n.js";

export function mountHelp({ store, api, i18n }) {
  const list = document.getElementById("help-list");
  const count = document.getElementById("help-count");
  const drafts = new Map(); // what a supervisor typed survives re-rendering

  const render = () => {
    const requests = [...store.help.values()].sort((a, b) => a.id - b.id);
    count.textContent = String(requests.length);
    count.classList.toggle("warn", requests.length > 0);
    if (!requests.length) {
      list.replaceChildren(el("li", { class: "empty muted" }, i18n.t("no_help")));
      return;
    }
    const focused = document.activeElement && document.activeElement.dataset.help;
    list.replaceChildren(...requests.map((request) => item(request)));
    if (focused) list.querySelector(`textarea[data-help="${focused}"]`)?.focus();
  };

  function item(request) {
    const agent = store.agents.get(request.agent_id);
    const name = agent ? agent.display_name : i18n.t("unknown_agent");
    const box = el("textarea", {
      rows: 2,
      "data-help": request.id,
      "aria-label": i18n.t("answer_for", { agent: name }),
      oninput: () => drafts.set(request.id, box.value),
    });
    box.value = drafts.get(request.id) || "";
    const error = el("p", { class: "form-error", role: "alert", hidden: true });
    const send = el("button", { type: "submit", class: "button primary small" }, i18n.t("send"));
    const form = el(
      "form",
      {
        class: "help-answer",
        onsubmit: async (event) => {
          event.preventDefault();
          if (!box.value.trim()) return;
          send.disabled = true;
          send.textContent = i18n.t("sending");
          try {
            await api.post(`/help-requests/${request.id}/answer`, { answer: box.value.trim() });
            drafts.delete(request.id);
          } catch (failure) {
            error.hidden = false;
            error.textContent = i18n.t("answer_failed", { detail: failure.message });
            send.disabled = false;
            send.textContent = i18n.t("send");
          }
        },
      },
      box,
      send,
      error,
    );
    return el(
      "li",
      { class: "help-item", "data-request": request.id },
      el("p", { class: "question" }, request.question),
      el(
        "p",
        { class: "muted meta" },
        i18n.t("asked_by", { agent: name, conversation: request.conversation_id, time: i18n.time(request.created_at) }),
      ),
      form,
    );
  }

  store.addEventListener("change", (event) => {
    if (event.detail === "snapshot" || event.detail.startsWith("help.") || event.detail === "agent.presence_changed") render();
  });
  render();
}
