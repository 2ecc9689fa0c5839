// Transfer: to a queue or to a named agent (an expert), with a note the next agent
// reads with the conversation's history (a warm transfer).

import { openFormDialog } from "./dialog.js";
import { el } from "./i18n.js";

// The demo's simulated agents are shown, named as such, but cannot be chosen: routing
// offers them no real customer's contact.
function agentOption(agent, i18n) {
  const label = `${agent.display_name} (${i18n.t(`presence_${agent.presence}`)})`;
  if (!agent.simulated) return el("option", { value: `agent:${agent.id}` }, label);
  return el("option", { value: `agent:${agent.id}`, disabled: "" }, `${label} · ${i18n.t("simulated_agent")}`);
}

export async function openTransfer({ api, i18n, work, onDone }) {
  const queues = await api.all("/queues?limit=100").catch(() => []);
  const agents = await api.get("/colleagues?role=agent&limit=50").catch(() => []);
  const target = el("select", { name: "target" },
    el("optgroup", { label: i18n.t("queue") }, queues.map((queue) => el("option", { value: `queue:${queue.id}` }, queue.name))));
  if (agents.length) {
    target.append(el("optgroup", { label: i18n.t("agent") },
      agents.map((agent) => agentOption(agent, i18n))));
  }
  const note = el("textarea", { name: "note", rows: "3", maxlength: "2000", "aria-label": i18n.t("note_for_next") });
  openFormDialog({
    i18n,
    id: "transfer",
    title: i18n.t("transfer_title"),
    submitLabel: i18n.t("confirm_transfer"),
    focus: target,
    fields: [
      el("label", { class: "field" }, el("span", {}, i18n.t("transfer_to")), target),
      el("label", { class: "field" }, el("span", {}, i18n.t("note_for_next")), note),
    ],
    submit: async () => {
      const [kind, id] = target.value.split(":");
      const body = kind === "queue" ? { queue_id: Number(id) } : { worker_ids: [Number(id)] };
      if (note.value.trim()) body.note = note.value.trim();
      await api.post(`/tasks/${work.task_id}/transfer`, body);
      onDone();
    },
  });
}
