// Canned responses shared by a team or the whole company (GET /canned-responses):
// admins manage every one; supervisors those of their own team. Agents keep their
// personal ones in the desktop, so personal responses are not listed here.

import { el } from "../desktop/i18n.js";
import { button, deleteAfterAsking, editor, field, frame, nameOf, notice, optionsOf, split, table, valueOf } from "./kit.js";

const SHARED = ["company", "team"];

export async function mountCanned(root, { api, i18n, can, config }) {
  const t = (key, values) => i18n.t(`canned.${key}`, values);
  const myTeam = config.user.team_id;
  const mayWrite = (row) => can.canned_any || (can.canned_team && row.scope === "team" && row.team_id === myTeam && myTeam !== null);
  const mayCreate = can.canned_any || (can.canned_team && myTeam !== null);
  const body = frame(root, {
    title: i18n.t("sections.canned"),
    intro: t("intro"),
    readOnly: !mayCreate,
    i18n,
    actions: mayCreate ? [button(t("new_title"), () => edit(null), { kind: "primary" })] : [],
  });
  const teams = await api.all("/teams");
  const list = el("div", { class: "list" });
  const side = el("div", { class: "side" });
  body.append(split(list, side));

  async function reload() {
    const rows = (await api.all("/canned-responses", 10)).filter((row) => SHARED.includes(row.scope));
    list.replaceChildren(
      table({
        caption: i18n.t("sections.canned"),
        i18n,
        rows,
        columns: [
          { label: t("title"), cell: (r) => el("span", {}, r.title, el("span", { class: "channel muted" }, r.body.slice(0, 90))) },
          { label: t("scope"), cell: (r) => (r.scope === "team" ? nameOf(teams, r.team_id, t("scopes.team")) : t("scopes.company")) },
          { label: t("locale"), cell: (r) => r.locale.toUpperCase() },
          { label: t("shortcut"), cell: (r) => (r.shortcut ? el("code", {}, r.shortcut) : ""), secondary: true },
        ],
        onRowAction: (r) =>
          mayWrite(r)
            ? [
                button(i18n.t("edit"), () => edit(r), { label: `${i18n.t("edit")} ${r.title}` }),
                button(i18n.t("delete"), () => remove(r), { label: `${i18n.t("delete")} ${r.title}` }),
              ]
            : [],
      }),
    );
  }

  function edit(row) {
    const scopes = can.canned_any ? SHARED : ["team"];
    const teamOptions = can.canned_any ? optionsOf(teams) : optionsOf(teams.filter((team) => team.id === myTeam));
    const specs = [
      { name: "title", label: t("title"), required: true },
      { name: "locale", label: t("locale"), type: "select", options: [["fr", "Français"], ["en", "English"]] },
      { name: "shortcut", label: t("shortcut"), code: true, placeholder: "/thanks" },
      row ? null : { name: "scope", label: t("scope"), type: "select", options: scopes.map((s) => [s, t(`scopes.${s}`)]) },
      row ? null : { name: "team_id", label: t("team"), type: "select", options: teamOptions, kind: "id" },
      { name: "body", label: t("body"), type: "textarea", rows: 6, wide: true },
    ].filter(Boolean);
    const values = row || { locale: config.locale.startsWith("fr") ? "fr" : "en", scope: scopes[0], team_id: myTeam };
    const fields = specs.map((spec) => field(spec, values[spec.name]));
    side.replaceChildren(
      editor({
        i18n,
        title: row ? t("edit_title", { name: row.title }) : t("new_title"),
        fields,
        onCancel: () => side.replaceChildren(),
        submit: async () => {
          const data = Object.fromEntries(specs.map((spec, index) => [spec.name, valueOf(fields[index].control, spec.kind)]));
          if (!data.shortcut) data.shortcut = null;
          if (data.scope === "company") delete data.team_id;
          const saved = row ? await api.patch(`/canned-responses/${row.id}`, data) : await api.post("/canned-responses", data);
          side.replaceChildren();
          notice(root, `${saved.title} · ${i18n.t("saved")}`);
          await reload();
        },
      }),
    );
    fields[0].control.focus();
  }

  async function remove(row) {
    await deleteAfterAsking({ i18n, api, root, name: row.title, path: `/canned-responses/${row.id}`, reload });
  }

  await reload();
}
