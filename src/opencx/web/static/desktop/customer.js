// The customer 360: who they are, how to reach them (verified or not), their other
// conversations on every channel, what is still open, and what the business systems
// say of them (connectors), each system on its own so a slow one holds up no other.

import { el } from "./i18n.js";

export async function customerPanel({ api, i18n, work, openConversation }) {
  const node = el("div", { class: "customer-panel" });
  if (!work.customer_id) {
    node.append(el("p", { class: "muted" }, i18n.t("unknown_customer")));
    return node;
  }
  const lang = i18n.locale.slice(0, 2);
  const [overview, systems] = await Promise.all([
    api.get(`/customers/${work.customer_id}/overview`),
    api.get(`/customers/${work.customer_id}/connectors?locale=${lang}`).catch(() => []),
  ]);
  const profile = overview.profile;
  const facts = [
    profile.segment && [i18n.t("segment"), profile.segment],
    profile.locale && [i18n.t("language"), profile.locale],
    profile.time_zone && [i18n.t("time_zone"), profile.time_zone],
    [i18n.t("customer_since"), i18n.when(profile.created_at)],
  ].filter(Boolean);
  node.append(
    el("h3", { class: "panel-title" }, profile.name || i18n.t("unknown_customer")),
    el("dl", { class: "kv" }, facts.map(([k, v]) => el("div", {}, el("dt", {}, k), el("dd", {}, v)))),
    el("h4", {}, i18n.t("identities")),
    el(
      "ul",
      { class: "identities" },
      overview.identities.map((identity) =>
        el(
          "li",
          {},
          el("span", { class: "muted" }, i18n.t(`identity_${identity.kind}`)),
          " ",
          identity.value,
          " ",
          el("span", { class: identity.verified ? "tag ok" : "tag" }, identity.verified ? i18n.t("verified") : i18n.t("unverified")),
        ),
      ),
    ),
  );
  for (const system of systems) node.append(connectorCard(system, i18n));
  if (overview.open_tasks.length) {
    node.append(
      el("h4", {}, i18n.t("open_tasks")),
      el("ul", { class: "history" }, overview.open_tasks.map((task) =>
        el("li", {}, `${i18n.channel(task.channel)} · ${task.queue ? task.queue.name : "—"} · ${i18n.when(task.since)}`))),
    );
  }
  node.append(
    el("h4", {}, i18n.t("past_conversations", { count: overview.conversations_total })),
    el(
      "ul",
      { class: "history" },
      overview.conversations.map((conversation) =>
        el(
          "li",
          {},
          el(
            "button",
            {
              type: "button",
              class: `history-item ${conversation.id === work.conversation_id ? "current" : ""}`,
              onclick: () => openConversation(conversation),
            },
            el("span", { class: "history-head" }, conversation.channels.map((c) => i18n.channel(c)).join(" · "), el("time", { datetime: conversation.last_activity_at }, i18n.when(conversation.last_activity_at))),
            el("strong", {}, conversation.subject || conversation.preview || "—"),
            el("span", { class: "muted" }, `${i18n.t(`status_${conversation.status}`)}${conversation.assignee ? ` · ${conversation.assignee.name}` : ""}`),
          ),
        ),
      ),
    ),
  );
  return node;
}

function connectorCard(system, i18n) {
  const body =
    system.status === "ok"
      ? el("dl", { class: "kv" }, system.fields.map((field) => el("div", {}, el("dt", {}, field.label), el("dd", { "data-format": field.format }, format(field, i18n)))))
      : el("p", { class: "muted" }, i18n.t(`connector_${system.status}`));
  return el(
    "section",
    { class: `connector cs-${system.status}`, "aria-label": system.name },
    el("h4", {}, system.name, system.cached && system.fetched_at ? el("span", { class: "muted" }, ` · ${i18n.when(system.fetched_at)}`) : null),
    body,
  );
}

function format(field, i18n) {
  if (field.value === null || field.value === undefined || field.value === "") return "—";
  switch (field.format) {
    case "money":
      return new Intl.NumberFormat(i18n.locale, { style: "currency", currency: field.currency || "EUR" }).format(Number(field.value));
    case "date":
    case "datetime":
      return i18n.when(String(field.value));
    default:
      return String(field.value);
  }
}
