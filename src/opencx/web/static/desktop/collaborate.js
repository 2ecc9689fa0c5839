// Working with others on a conversation: internal notes that @mention colleagues
// (never shown to the customer), and a question to a supervisor, answered live.

import { el } from "./i18n.js";

export function collaboratePanel({ api, i18n, work, refresh }) {
  const mentioned = new Map(); // user id -> name
  const chips = el("ul", { class: "chips", "aria-label": i18n.t("mentions") });
  const people = el("datalist", { id: `people-${work.conversation_id}` });
  const who = el("input", {
    type: "search",
    list: people.id,
    "aria-label": i18n.t("mention_someone"),
    placeholder: i18n.t("mention_someone"),
    autocomplete: "off",
  });
  let found = [];
  who.addEventListener("input", async () => {
    const typed = who.value.trim();
    const match = found.find((person) => person.display_name === typed);
    if (match) {
      mentioned.set(match.id, match.display_name);
      who.value = "";
      showChips();
      return;
    }
    if (typed.length < 1) return;
    found = await api.get(`/colleagues?q=${encodeURIComponent(typed)}&limit=8`).catch(() => []);
    people.replaceChildren(...found.map((person) => el("option", { value: person.display_name })));
  });
  function showChips() {
    chips.replaceChildren(
      ...[...mentioned].map(([id, name]) =>
        el("li", { class: "chip" }, `@${name} `, el("button", { type: "button", "aria-label": i18n.t("remove_mention", { name }), onclick: () => (mentioned.delete(id), showChips()) }, "×")),
      ),
    );
  }

  const note = el("textarea", { rows: "3", maxlength: "5000", "aria-label": i18n.t("internal_note") });
  const noteStatus = el("p", { class: "form-error", role: "status" });
  const noteForm = el(
    "form",
    {
      class: "dialog-form",
      onsubmit: async (event) => {
        event.preventDefault();
        if (!note.value.trim()) return;
        try {
          await api.post(`/conversations/${work.conversation_id}/notes`, { body: note.value.trim(), mentions: [...mentioned.keys()] });
          note.value = "";
          mentioned.clear();
          showChips();
          noteStatus.textContent = "";
          refresh();
        } catch (error) {
          noteStatus.textContent = i18n.t("action_failed", { detail: error.message });
        }
      },
    },
    el("label", { class: "field" }, el("span", {}, i18n.t("internal_note")), note),
    el("div", { class: "field" }, who, people, chips),
    noteStatus,
    el("button", { type: "submit", class: "button subtle" }, i18n.t("add_note")),
  );

  const question = el("textarea", { rows: "2", maxlength: "2000", "aria-label": i18n.t("question_for_supervisor") });
  const helpStatus = el("p", { class: "form-error", role: "status" });
  const helpForm = el(
    "form",
    {
      class: "dialog-form",
      onsubmit: async (event) => {
        event.preventDefault();
        if (!question.value.trim()) return;
        try {
          await api.post("/help-requests", { conversation_id: work.conversation_id, question: question.value.trim() });
          question.value = "";
          helpStatus.textContent = i18n.t("help_sent");
          refresh();
        } catch (error) {
          helpStatus.textContent = i18n.t("action_failed", { detail: error.message });
        }
      },
    },
    el("label", { class: "field" }, el("span", {}, i18n.t("question_for_supervisor")), question),
    helpStatus,
    el("button", { type: "submit", class: "button subtle" }, i18n.t("ask_supervisor")),
  );
  return el(
    "div",
    { class: "collaborate-panel" },
    el("h3", { class: "panel-title" }, i18n.t("ask_supervisor")),
    helpForm,
    el("h3", { class: "panel-title" }, i18n.t("internal_note")),
    noteForm,
  );
}
