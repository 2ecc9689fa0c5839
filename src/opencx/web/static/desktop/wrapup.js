// Wrap-up: the contact coded on the three axes — what the customer said, what it
// really was, what was done — picked from the reason trees with search, and a summary.

import { openFormDialog } from "./dialog.js";
import { el } from "./i18n.js";

const AXES = ["declaration", "qualification", "action"];

function flatten(nodes, locale, trail = []) {
  return nodes.flatMap((node) => {
    const label = node.labels[locale] || node.labels.en || Object.values(node.labels)[0] || node.code;
    const path = [...trail, label];
    return [{ id: node.id, label: path.join(" › ") }, ...flatten(node.children || [], locale, path)];
  });
}

export async function openWrapUp({ api, i18n, work, onDone }) {
  const lang = i18n.locale.slice(0, 2);
  const trees = await Promise.all(
    AXES.map((axis) => api.get(`/contact-reasons/tree?axis=${axis}&active_only=true`).catch(() => [])),
  );
  const pickers = AXES.map((axis, index) => {
    const options = flatten(trees[index], lang);
    const listId = `reasons-${axis}`;
    const input = el("input", { type: "search", list: listId, name: axis, "aria-label": i18n.t(axis), placeholder: i18n.t("search_reason"), autocomplete: "off" });
    const list = el("datalist", { id: listId }, options.map((option) => el("option", { value: option.label })));
    return { axis, input, options, node: el("label", { class: "field" }, el("span", {}, i18n.t(axis)), input, list) };
  });
  const summary = el("textarea", { name: "summary", rows: "3", maxlength: "2000", "aria-label": i18n.t("summary") });
  openFormDialog({
    i18n,
    id: "wrapup",
    title: i18n.t("wrap_up_title"),
    submitLabel: i18n.t("finish"),
    focus: pickers[0].input,
    fields: [...pickers.map((picker) => picker.node), el("label", { class: "field" }, el("span", {}, i18n.t("summary")), summary)],
    submit: async () => {
      const body = { summary: summary.value.trim() || null };
      for (const picker of pickers) {
        const typed = picker.input.value.trim();
        const found = picker.options.find((option) => option.label === typed);
        if (typed && !found) {
          picker.input.focus();
          throw new Error(`${i18n.t(picker.axis)}: ${typed}`);
        }
        body[`${picker.axis}_reason_id`] = found ? found.id : null;
      }
      await onDone(body);
    },
  });
}
