// The knowledge base (GET /knowledge/articles): articles searched by relevance, written,
// published or taken back to draft, and deleted. Admins and supervisors write them
// (knowledge.write); agents read the published ones from their desktop.

import { el } from "../desktop/i18n.js";
import { button, deleteAfterAsking, editor, field, frame, notice, split, table, valueOf } from "./kit.js";

const LOCALES = [
  ["fr", "Français"],
  ["en", "English"],
];

/** Tags as the API takes them: a list, from "refund, delivery". */
function tagsOf(text) {
  return text
    .split(",")
    .map((tag) => tag.trim())
    .filter(Boolean);
}

export async function mountKnowledge(root, { api, i18n, can, config }) {
  const t = (key, values) => i18n.t(`knowledge.${key}`, values);
  const mayWrite = can.knowledge;
  const body = frame(root, {
    title: i18n.t("sections.knowledge"),
    intro: t("intro"),
    readOnly: !mayWrite,
    i18n,
    actions: mayWrite ? [button(t("new_title"), () => edit(null), { kind: "primary" })] : [],
  });
  const query = field({ name: "q", label: t("search"), type: "search" }, "");
  const language = field({ name: "locale", label: i18n.t("knowledge.locale"), type: "select", options: [["", t("every_language")], ...LOCALES] }, "");
  const status = field(
    {
      name: "published",
      label: t("status"),
      type: "select",
      options: [
        ["", t("every_status")],
        ["true", t("published")],
        ["false", t("draft")],
      ],
    },
    "",
  );
  const search = el(
    "form",
    {
      class: "list-filters",
      role: "search",
      "aria-label": t("search"),
      onsubmit: (event) => {
        event.preventDefault();
        reload();
      },
    },
    query,
    language,
    status,
    button(t("search_button"), null, { type: "submit" }),
  );
  language.control.addEventListener("change", () => reload());
  status.control.addEventListener("change", () => reload());
  const list = el("div", { class: "list" });
  const side = el("div", { class: "side" });
  body.append(search, split(list, side));

  async function rows() {
    const params = new URLSearchParams();
    const words = query.control.value.trim();
    if (words) params.set("q", words);
    if (language.control.value) params.set("locale", language.control.value);
    if (status.control.value) params.set("published", status.control.value);
    const path = `/knowledge/articles${params.size ? `?${params}` : ""}`;
    // A search answers the most relevant articles in one page, best first.
    return words ? (await api.get(path)).items : api.all(path, 10);
  }

  async function reload() {
    let found;
    try {
      found = await rows();
    } catch (failure) {
      notice(root, i18n.t("action_failed", { detail: failure.message }), true);
      return;
    }
    const filtered = query.control.value.trim() || language.control.value || status.control.value;
    list.replaceChildren(
      table({
        caption: i18n.t("sections.knowledge"),
        i18n,
        rows: found,
        empty: filtered ? t("no_match") : undefined,
        columns: [
          { label: t("title"), cell: (r) => el("span", {}, r.title, el("span", { class: "channel muted" }, r.body.slice(0, 90))) },
          { label: t("locale"), cell: (r) => r.locale.toUpperCase(), secondary: true },
          { label: t("status"), cell: (r) => el("span", { class: `pill ${r.published ? "yes" : "no"}` }, r.published ? t("published") : t("draft")) },
          { label: t("tags_column"), cell: (r) => r.tags.map((tag) => el("span", { class: "tag" }, tag)), secondary: true },
          { label: t("updated"), cell: (r) => new Date(r.updated_at).toLocaleDateString(config.locale, { timeZone: config.timezone }), secondary: true },
        ],
        onRowAction: (r) =>
          mayWrite
            ? [
                button(i18n.t("edit"), () => edit(r), { label: `${i18n.t("edit")} ${r.title}` }),
                // Hidden while the editor is open beside the list: its form has the switch.
                button(r.published ? t("unpublish") : t("publish"), () => publish(r, !r.published), {
                  label: `${r.published ? t("unpublish") : t("publish")} ${r.title}`,
                  kind: "subtle secondary",
                }),
                button(i18n.t("delete"), () => remove(r), { label: `${i18n.t("delete")} ${r.title}` }),
              ]
            : [],
      }),
    );
  }

  function edit(row) {
    const specs = [
      { name: "title", label: t("title"), required: true, wide: true },
      { name: "locale", label: t("locale"), type: "select", options: LOCALES },
      { name: "tags", label: t("tags"), placeholder: "refund, delivery" },
      { name: "published", label: t("publish_now"), type: "checkbox" },
      { name: "body", label: t("body"), type: "textarea", rows: 12, wide: true },
    ];
    const values = row ? { ...row, tags: row.tags.join(", ") } : { locale: config.locale.startsWith("fr") ? "fr" : "en", published: false, tags: "" };
    const fields = specs.map((spec) => field(spec, values[spec.name]));
    side.replaceChildren(
      editor({
        i18n,
        title: row ? t("edit_title", { name: row.title }) : t("new_title"),
        fields,
        onCancel: () => side.replaceChildren(),
        submit: async () => {
          const data = Object.fromEntries(specs.map((spec, index) => [spec.name, valueOf(fields[index].control)]));
          data.tags = tagsOf(data.tags);
          const saved = row ? await api.patch(`/knowledge/articles/${row.id}`, data) : await api.post("/knowledge/articles", data);
          side.replaceChildren();
          notice(root, `${saved.title} · ${i18n.t("saved")}`);
          await reload();
        },
      }),
    );
    fields[0].control.focus();
  }

  async function publish(row, published) {
    try {
      await api.patch(`/knowledge/articles/${row.id}`, { published });
      notice(root, t(published ? "published_notice" : "unpublished_notice", { name: row.title }));
      await reload();
    } catch (failure) {
      notice(root, i18n.t("action_failed", { detail: failure.message }), true);
    }
  }

  async function remove(row) {
    await deleteAfterAsking({ i18n, api, root, name: row.title, path: `/knowledge/articles/${row.id}`, reload, side });
  }

  await reload();
}
