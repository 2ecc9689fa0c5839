// Users: list with role, site and team; create; edit; and their skills with levels
// (PUT /users/{id}/skills). Supervisors read the list; admins change it.

import { el } from "../desktop/i18n.js";
import { button, clearProblems, editor, field, frame, nameOf, notice, optionsOf, showProblem, table, valueOf, split } from "./kit.js";

const CAPACITY_CHANNELS = ["chat", "email", "voice", "sms", "whatsapp"];

export async function mountUsers(root, { api, i18n, can, config }) {
  const t = (key, values) => i18n.t(`user.${key}`, values);
  const body = frame(root, {
    title: i18n.t("sections.users"),
    intro: t("intro"),
    readOnly: !can.users,
    i18n,
    actions: can.users ? [button(t("new_title"), () => edit(null), { kind: "primary" })] : [],
  });
  const [sites, teams, skills] = await Promise.all([api.all("/sites"), api.all("/teams"), api.all("/skills")]);
  const list = el("div", { class: "list" });
  const side = el("div", { class: "side" });
  body.append(split(list, side));

  async function reload() {
    const users = await api.all("/users", 20);
    list.replaceChildren(
      table({
        caption: i18n.t("sections.users"),
        i18n,
        rows: users,
        columns: [
          { label: t("name"), cell: (u) => el("span", {}, u.display_name || u.email, el("span", { class: "channel muted" }, u.email)) },
          { label: t("role"), cell: (u) => i18n.t(`roles.${u.role}`) },
          { label: i18n.t("queue.site"), cell: (u) => nameOf(sites, u.site_id, "—") },
          { label: i18n.t("queue.team"), cell: (u) => nameOf(teams, u.team_id, "—"), secondary: true },
          { label: t("skills"), cell: (u) => u.skills.map((s) => `${nameOf(skills, s.skill_id, s.skill_id)} ${s.level}`).join(", "), secondary: true },
          { label: t("active"), cell: (u) => (u.is_active ? i18n.t("yes") : i18n.t("no")), secondary: true },
        ],
        onRowAction: (u) => [button(can.users ? i18n.t("edit") : t("skills"), () => edit(u), { label: `${i18n.t("edit")} ${u.display_name || u.email}` })],
      }),
    );
  }

  function edit(user) {
    const u = user || { role: "agent", locale: config.locale.startsWith("fr") ? "fr" : "en", timezone: config.timezone, languages: [], capacity: { chat: 2, email: 5 } };
    const specs = [
      user ? null : { name: "email", label: t("email"), type: "email", required: true },
      { name: "display_name", label: t("name"), required: true },
      { name: "role", label: t("role"), type: "select", options: Object.entries(config.texts.roles) },
      { name: "site_id", label: i18n.t("queue.site"), type: "select", options: optionsOf(sites, i18n.t("none")), kind: "id" },
      { name: "team_id", label: i18n.t("queue.team"), type: "select", options: optionsOf(teams, i18n.t("none")), kind: "id" },
      { name: "locale", label: t("locale"), type: "select", options: [["en", "English"], ["fr", "Français"]] },
      { name: "timezone", label: t("timezone") },
      { name: "languages", label: t("languages"), placeholder: "fr, en" },
      { name: "password", label: t("password"), type: "password" },
      user ? { name: "is_active", label: t("active"), type: "checkbox" } : null,
    ].filter(Boolean);
    const fields = specs.map((spec) => field(spec, spec.name === "languages" ? (u.languages || []).join(", ") : spec.name === "password" ? "" : u[spec.name]));
    const capacity = CAPACITY_CHANNELS.map((channel) => field({ name: channel, path: `capacity.${channel}`, label: i18n.channel(channel), type: "number", min: 0, max: 50 }, (u.capacity || {})[channel] ?? 0));
    const capacityBox = el("fieldset", { class: "field wide capacity" }, el("legend", {}, t("capacity")), el("div", { class: "fields" }, capacity));
    const extra = user ? [skillsEditor(user)] : [];
    const form = editor({
      i18n,
      title: user ? t("edit_title", { name: user.display_name || user.email }) : t("new_title"),
      fields: [...fields, capacityBox],
      extra,
      readOnly: !can.users,
      onCancel: () => side.replaceChildren(),
      submit: async () => {
        const data = {};
        specs.forEach((spec, index) => (data[spec.name] = valueOf(fields[index].control, spec.kind)));
        data.languages = data.languages ? data.languages.split(",").map((code) => code.trim()).filter(Boolean) : [];
        if (!data.password) delete data.password;
        data.capacity = Object.fromEntries(CAPACITY_CHANNELS.map((channel, index) => [channel, Number(capacity[index].control.value || 0)]).filter(([, n]) => n > 0));
        const saved = user ? await api.patch(`/users/${user.id}`, data) : await api.post("/users", data);
        notice(root, `${saved.display_name || saved.email} · ${i18n.t("saved")}`);
        await reload();
        edit(saved);
      },
    });
    side.replaceChildren(form);
    fields[0].control.focus();
  }

  function skillsEditor(user) {
    const rows = user.skills.map((s) => ({ ...s }));
    const listNode = el("div", { class: "skill-rows" });
    const problem = el("p", { class: "form-problem", role: "alert" });
    const box = el("fieldset", { class: "skills-editor" }, el("legend", {}, t("skills")), listNode, problem);
    function render() {
      listNode.replaceChildren(
        ...rows.map((row, index) =>
          el(
            "div",
            { class: "skill-row" },
            bind(field({ name: "skill_id", path: `${index}.skill_id`, label: t("skill"), type: "select", options: optionsOf(skills), disabled: !can.users }, row.skill_id), (v) => (row.skill_id = Number(v))),
            bind(field({ name: "level", path: `${index}.level`, label: t("level"), type: "number", min: 1, max: 10, disabled: !can.users }, row.level), (v) => (row.level = Number(v))),
            can.users ? button("×", () => { rows.splice(index, 1); render(); }, { label: `${i18n.t("remove")} ${nameOf(skills, row.skill_id)}` }) : null,
          ),
        ),
      );
    }
    function bind(node, set) {
      node.control.addEventListener("change", () => set(node.control.value));
      return node;
    }
    render();
    if (can.users) {
      box.append(
        el(
          "div",
          { class: "editor-actions" },
          skills.length ? button(`+ ${t("add_skill")}`, () => { rows.push({ skill_id: skills[0].id, level: 1 }); render(); }) : null,
          button(t("save_skills"), async () => {
            clearProblems(box);
            try {
              await api.put(`/users/${user.id}/skills`, rows);
              notice(root, t("skills_saved"));
              await reload();
            } catch (failure) {
              showProblem(box, i18n, failure);
            }
          }),
        ),
      );
    }
    return box;
  }

  await reload();
}
