// Teams, sites and skills: short lists, each created, renamed and deleted in place.
// One generic section serves the three; only their fields differ.

import { el } from "../desktop/i18n.js";
import { button, deleteAfterAsking, editor, field, frame, notice, table, valueOf, split } from "./kit.js";

/** A list of simple rows at ``path``: ``fields`` are kit field specs, ``columns`` table columns. */
async function mountSimple(root, { api, i18n, can }, { section, textKey, path, fields, columns, blank }) {
  const t = (key, values) => i18n.t(`${textKey}.${key}`, values);
  const body = frame(root, {
    title: i18n.t(`sections.${section}`),
    intro: t("intro"),
    readOnly: !can.directory,
    i18n,
    actions: can.directory ? [button(t("new_title"), () => edit(null), { kind: "primary" })] : [],
  });
  const list = el("div", { class: "list" });
  const side = el("div", { class: "side" });
  body.append(split(list, side));

  async function reload() {
    const rows = await api.all(path);
    list.replaceChildren(
      table({
        caption: i18n.t(`sections.${section}`),
        i18n,
        rows,
        columns,
        onRowAction: can.directory
          ? (row) => [
              button(i18n.t("edit"), () => edit(row), { label: `${i18n.t("edit")} ${row.name}` }),
              button(i18n.t("delete"), () => remove(row), { label: `${i18n.t("delete")} ${row.name}` }),
            ]
          : null,
      }),
    );
  }

  function edit(row) {
    const values = row || blank;
    const nodes = fields.map((spec) => field(spec, values[spec.name]));
    side.replaceChildren(
      editor({
        i18n,
        title: row ? t("edit_title", { name: row.name }) : t("new_title"),
        fields: nodes,
        onCancel: () => side.replaceChildren(),
        submit: async () => {
          const data = Object.fromEntries(fields.map((spec, index) => [spec.name, valueOf(nodes[index].control, spec.type)]));
          const saved = row ? await api.patch(`${path}/${row.id}`, data) : await api.post(path, data);
          side.replaceChildren();
          notice(root, `${saved.name} · ${i18n.t("saved")}`);
          await reload();
        },
      }),
    );
    nodes[0].control.focus();
  }

  async function remove(row) {
    await deleteAfterAsking({ i18n, api, root, name: row.name, path: `${path}/${row.id}`, reload });
  }

  await reload();
}

export function mountTeams(root, context) {
  const { i18n } = context;
  return mountSimple(root, context, {
    section: "teams",
    textKey: "team",
    path: "/teams",
    blank: { name: "", description: "" },
    fields: [
      { name: "name", label: i18n.t("queue.name"), required: true },
      { name: "description", label: i18n.t("team.description"), type: "textarea", wide: true },
    ],
    columns: [
      { label: i18n.t("queue.name"), cell: (r) => r.name },
      { label: i18n.t("team.description"), cell: (r) => r.description },
    ],
  });
}

export function mountSites(root, context) {
  const { i18n, config } = context;
  return mountSimple(root, context, {
    section: "sites",
    textKey: "site",
    path: "/sites",
    blank: { name: "", kind: "internal", timezone: context.config.timezone },
    fields: [
      { name: "name", label: i18n.t("queue.name"), required: true },
      { name: "kind", label: i18n.t("site.kind"), type: "select", options: Object.entries(config.texts.site_kinds) },
      { name: "timezone", label: i18n.t("hours.timezone") },
    ],
    columns: [
      { label: i18n.t("queue.name"), cell: (r) => r.name },
      { label: i18n.t("site.kind"), cell: (r) => i18n.t(`site_kinds.${r.kind}`) },
      { label: i18n.t("hours.timezone"), cell: (r) => r.timezone },
    ],
  });
}

export function mountSkills(root, context) {
  const { i18n } = context;
  return mountSimple(root, context, {
    section: "skills",
    textKey: "skill",
    path: "/skills",
    blank: { name: "", description: "" },
    fields: [
      { name: "name", label: i18n.t("queue.name"), required: true, code: true },
      { name: "description", label: i18n.t("team.description"), type: "textarea", wide: true },
    ],
    columns: [
      { label: i18n.t("queue.name"), cell: (r) => el("code", {}, r.name) },
      { label: i18n.t("team.description"), cell: (r) => r.description },
    ],
  });
}
