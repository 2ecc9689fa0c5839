// Answers: suggested answers ranked for the customer's latest words (canned
// responses, knowledge-base articles, agents' answers in resolved conversations), and a
// search over the canned responses and the knowledge base; a click puts the text in the
// reply box, where the agent edits it before sending.

import { el } from "./i18n.js";

export async function answersPanel({ api, i18n, work, insert }) {
  const suggestions = el("ol", { class: "suggestions", "aria-label": i18n.t("suggested_answers") });
  const results = el("ul", { class: "suggestions" });
  const search = el("input", { type: "search", "aria-label": i18n.t("search_answers"), placeholder: i18n.t("search_answers") });
  let timer = null;
  search.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => find(search.value.trim()), 250);
  });

  function card(item, text, kindLabel) {
    return el(
      "li",
      { class: "suggestion" },
      el("p", { class: "suggestion-head" }, el("span", { class: "tag" }, kindLabel), " ", el("strong", {}, item.title)),
      el("p", { class: "suggestion-text" }, text.length > 280 ? `${text.slice(0, 280)}…` : text),
      el("button", { type: "button", class: "button subtle small", onclick: () => use(item, text) }, i18n.t("use_answer")),
    );
  }

  async function use(item, text) {
    if (item.kind === "canned" && item.body !== undefined) {
      const rendered = await api.post(`/canned-responses/${item.id}/render`, { conversation_id: work.conversation_id });
      insert(rendered.text);
    } else {
      insert(text);
    }
  }

  async function find(q) {
    if (!q) {
      results.replaceChildren();
      return;
    }
    const query = encodeURIComponent(q);
    const [canned, articles] = await Promise.all([
      api.get(`/canned-responses?q=${query}&limit=5`).catch(() => ({ items: [] })),
      api.get(`/knowledge/articles?q=${query}&limit=5`).catch(() => ({ items: [] })),
    ]);
    const items = [
      ...canned.items.map((c) => card({ ...c, kind: "canned" }, c.body, i18n.t("kind_canned"))),
      ...articles.items.map((a) => card({ ...a, kind: "article" }, a.body, i18n.t("kind_article"))),
    ];
    results.replaceChildren(...(items.length ? items : [el("li", { class: "muted" }, i18n.t("nothing_found"))]));
  }

  const ranked = await api.get(`/conversations/${work.conversation_id}/suggestions?limit=5`).catch(() => []);
  suggestions.replaceChildren(
    ...(ranked.length
      ? ranked.map((s) => card(s, s.text, i18n.t(`kind_${s.kind}`)))
      : [el("li", { class: "muted" }, i18n.t("no_suggestions"))]),
  );
  return el(
    "div",
    { class: "answers-panel" },
    el("h3", { class: "panel-title" }, i18n.t("suggested_answers")),
    suggestions,
    el("h3", { class: "panel-title" }, i18n.t("search_answers")),
    search,
    results,
  );
}
