// Contact reasons: one tree per axis (declared by the customer, qualified by the agent,
// action taken), each node with a code and a label per language; nodes are added at the
// root or under another, renamed, switched off and deleted (GET /contact-reasons/tree).

import { el } from "../desktop/i18n.js";
import { button, deleteAfterAsking, editor, field, frame, notice, split } from "./kit.js";

const AXES = ["declaration", "qualification", "action"];

export async function mountReasons(root, { api, i18n, can, config }) {
  const t = (key, values) => i18n.t(`reason.${key}`, values);
  const lang = config.locale.slice(0, 2);
  const body = frame(root, { title: i18n.t("sections.reasons"), intro: t("intro"), readOnly: !can.directory, i18n });
  const trees = el("div", { class: "list reason-trees" });
  const side = el("div", { class: "side" });
  body.append(split(trees, side));

  const label = (node) => node.labels[lang] || node.labels.en;

  async function reload() {
    const forests = await Promise.all(AXES.map((axis) => api.get(`/contact-reasons/tree?axis=${axis}`)));
    trees.replaceChildren(
      ...AXES.map((axis, index) =>
        el(
          "section",
          { class: "reason-axis", "aria-labelledby": `axis-${axis}` },
          el("h2", { id: `axis-${axis}` }, t(`axes.${axis}`)),
          forests[index].length ? branch(forests[index], axis) : el("p", { class: "muted" }, i18n.t("empty")),
          can.directory ? button(`+ ${t("add_root")}`, () => edit({ axis, parent: null })) : null,
        ),
      ),
    );
  }

  function branch(nodes, axis) {
    return el(
      "ul",
      { class: "reason-tree" },
      nodes.map((node) =>
        el(
          "li",
          {},
          el(
            "div",
            { class: "reason-node" },
            el("span", { class: "reason-label" }, label(node)),
            el("code", {}, node.code),
            node.is_active ? null : el("span", { class: "pill no" }, t("inactive")),
            can.directory
              ? el(
                  "span",
                  { class: "row-actions" },
                  button("+", () => edit({ axis, parent: node }), { label: `${t("add_child")} ${label(node)}` }),
                  button(i18n.t("edit"), () => edit({ axis, node }), { label: `${i18n.t("edit")} ${label(node)}` }),
                  button(i18n.t("delete"), () => remove(node), { label: `${i18n.t("delete")} ${label(node)}` }),
                )
              : null,
          ),
          node.children.length ? branch(node.children, axis) : null,
        ),
      ),
    );
  }

  function edit({ axis, node = null, parent = null }) {
    const code = field({ name: "code", label: t("code"), code: true, required: true, placeholder: "delivery.late" }, node ? node.code : parent ? `${parent.code}.` : "");
    const english = field({ name: "labels.en", label: t("label_en"), required: true }, node ? node.labels.en : "");
    const french = field({ name: "labels.fr", label: t("label_fr") }, node ? node.labels.fr || "" : "");
    const active = field({ name: "is_active", label: t("active"), type: "checkbox" }, node ? node.is_active : true);
    const title = node ? t("edit_title", { name: label(node) }) : parent ? t("child_title", { name: label(parent) }) : t("new_title", { axis: t(`axes.${axis}`) });
    side.replaceChildren(
      editor({
        i18n,
        title,
        fields: [code, english, french, active],
        onCancel: () => side.replaceChildren(),
        submit: async () => {
          const labels = { en: english.control.value.trim() };
          if (french.control.value.trim()) labels.fr = french.control.value.trim();
          const data = { code: code.control.value.trim(), labels, is_active: active.control.checked };
          if (node) await api.patch(`/contact-reasons/${node.id}`, data);
          else await api.post("/contact-reasons", { ...data, axis, parent_id: parent ? parent.id : null });
          side.replaceChildren();
          notice(root, `${labels[lang] || labels.en} · ${i18n.t("saved")}`);
          await reload();
        },
      }),
    );
    code.control.focus();
  }

  async function remove(node) {
    await deleteAfterAsking({ i18n, api, root, name: label(node), path: `/contact-reasons/${node.id}`, reload });
  }

  await reload();
}
