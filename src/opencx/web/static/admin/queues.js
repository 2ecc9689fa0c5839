// Queues: list, create, edit and delete, with every setting the API accepts. The
// sites, teams and business hours to choose from come from the API too.

import { el } from "../desktop/i18n.js";
import { button, deleteAfterAsking, editor, field, frame, nameOf, notice, optionsOf, table, valueOf, split } from "./kit.js";

const NUMBERS = ["priority", "service_level_seconds", "short_abandon_seconds", "wrap_up_seconds", "expected_handle_seconds"];
const REFS = ["site_id", "team_id", "business_hours_id"];

export async function mountQueues(root, { api, i18n, can, config }) {
  const t = (key, values) => i18n.t(`queue.${key}`, values);
  const body = frame(root, {
    title: i18n.t("sections.queues"),
    intro: t("intro"),
    readOnly: !can.directory,
    i18n,
    actions: can.directory ? [button(t("new_title"), () => edit(null), { kind: "primary" })] : [],
  });
  const [sites, teams, hours] = await Promise.all([api.all("/sites"), api.all("/teams"), api.all("/business-hours")]);
  const list = el("div", { class: "list" });
  const side = el("div", { class: "side" });
  body.append(split(list, side));
  let queues = [];

  async function reload() {
    queues = await api.all("/queues");
    list.replaceChildren(
      table({
        caption: i18n.t("sections.queues"),
        i18n,
        rows: queues,
        columns: [
          { label: t("name"), cell: (q) => q.name },
          { label: t("channel"), cell: (q) => i18n.channel(q.channel) },
          { label: t("site"), cell: (q) => nameOf(sites, q.site_id, "—"), secondary: true },
          { label: t("hours"), cell: (q) => nameOf(hours, q.business_hours_id, t("always_open")) },
          { label: t("priority"), cell: (q) => q.priority, num: true, secondary: true },
          { label: t("service_level"), cell: (q) => q.service_level_seconds, num: true, secondary: true },
        ],
        onRowAction: (q) => [
          button(can.directory ? i18n.t("edit") : i18n.t("sections.queues"), () => edit(q), { label: `${i18n.t("edit")} ${q.name}` }),
          can.directory ? button(i18n.t("delete"), () => remove(q), { kind: "subtle danger-text", label: `${i18n.t("delete")} ${q.name}` }) : null,
        ],
      }),
    );
  }

  function edit(queue) {
    const q = queue || { channel: "chat", priority: 0, service_level_seconds: 20, short_abandon_seconds: 5, wrap_up_seconds: 30, expected_handle_seconds: 300, selection: "longest_idle", target_expression: "" };
    const specs = [
      { name: "name", label: t("name"), required: true },
      { name: "channel", label: t("channel"), type: "select", options: Object.keys(config.texts.channels).map((c) => [c, i18n.channel(c)]) },
      { name: "site_id", label: t("site"), type: "select", options: optionsOf(sites, i18n.t("none")) },
      { name: "team_id", label: t("team"), type: "select", options: optionsOf(teams, i18n.t("none")) },
      { name: "business_hours_id", label: t("hours"), type: "select", options: optionsOf(hours, t("always_open")) },
      { name: "target_expression", label: t("target"), help: t("target_help"), code: true, wide: true },
      { name: "priority", label: t("priority"), type: "number", min: 0, max: 1000 },
      { name: "service_level_seconds", label: t("service_level"), type: "number", min: 1 },
      { name: "short_abandon_seconds", label: t("short_abandon"), type: "number", min: 0 },
      { name: "wrap_up_seconds", label: t("wrap_up"), type: "number", min: 0 },
      { name: "expected_handle_seconds", label: t("handle"), type: "number", min: 1 },
      { name: "selection", label: t("selection"), type: "select", options: Object.entries(config.texts.selections) },
      { name: "selection_skill", label: t("selection_skill"), code: true, placeholder: "skills.billing" },
      { name: "auto_accept", label: t("auto_accept"), type: "checkbox", wide: true },
    ];
    const fields = specs.map((spec) => field(spec, q[spec.name]));
    const form = editor({
      i18n,
      title: queue ? t("edit_title", { name: queue.name }) : t("new_title"),
      fields,
      readOnly: !can.directory,
      onCancel: () => side.replaceChildren(),
      submit: async () => {
        const data = {};
        specs.forEach((spec, index) => {
          const kind = NUMBERS.includes(spec.name) ? "number" : REFS.includes(spec.name) ? "id" : "text";
          data[spec.name] = valueOf(fields[index].control, kind);
        });
        if (data.selection_skill === "") data.selection_skill = null;
        const saved = queue ? await api.patch(`/queues/${queue.id}`, data) : await api.post("/queues", data);
        side.replaceChildren();
        notice(root, `${saved.name} · ${i18n.t("saved")}`);
        await reload();
      },
    });
    side.replaceChildren(form);
    fields[0].control.focus();
  }

  async function remove(queue) {
    await deleteAfterAsking({ i18n, api, root, name: queue.name, path: `/queues/${queue.id}`, reload, side });
  }

  await reload();
}
