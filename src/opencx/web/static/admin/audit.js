// The audit trail (GET /audit): every change, newest first, filtered by action, kind of
// thing and period, a page at a time ("Show more" follows the API's cursor).

import { el } from "../desktop/i18n.js";
import { button, field, frame, table } from "./kit.js";

const PAGE = 50;

export async function mountAudit(root, { api, i18n }) {
  const t = (key, values) => i18n.t(`audit.${key}`, values);
  const body = frame(root, { title: i18n.t("sections.audit"), intro: t("intro"), i18n });
  const users = await api.all("/users", 20).catch(() => []);
  const names = new Map(users.map((u) => [u.id, u.display_name || u.email]));
  const action = field({ name: "action", label: t("action"), placeholder: "queue.create", code: true });
  const kind = field({ name: "entity_kind", label: t("entity"), placeholder: "queue", code: true });
  const since = field({ name: "since", label: t("since"), type: "date" });
  const until = field({ name: "until", label: t("until"), type: "date" });
  const rows = [];
  let cursor = null;
  const list = el("div", { class: "list audit" });
  const more = button(i18n.t("more"), () => load(false));
  const filters = el(
    "form",
    { class: "audit-filters", "aria-label": t("filter"), onsubmit: (event) => { event.preventDefault(); load(true); } },
    action, kind, since, until,
    button(t("filter"), null, { kind: "primary", type: "submit" }),
  );
  body.append(filters, list, more);

  function query() {
    const params = new URLSearchParams({ limit: String(PAGE), order: "newest" });
    if (action.control.value.trim()) params.set("action", action.control.value.trim());
    if (kind.control.value.trim()) params.set("entity_kind", kind.control.value.trim());
    if (since.control.value) params.set("since", new Date(`${since.control.value}T00:00:00`).toISOString());
    if (until.control.value) params.set("until", new Date(`${until.control.value}T23:59:59.999`).toISOString());
    if (cursor) params.set("cursor", cursor);
    return `/audit?${params}`;
  }

  async function load(fresh) {
    if (fresh) {
      rows.length = 0;
      cursor = null;
    }
    const page = await api.get(query());
    rows.push(...page.items);
    cursor = page.next_cursor;
    more.hidden = !cursor;
    list.replaceChildren(
      table({
        caption: i18n.t("sections.audit"),
        i18n,
        rows,
        columns: [
          { label: t("when"), cell: (r) => el("time", { datetime: r.at }, i18n.when(r.at)) },
          { label: t("actor"), cell: (r) => (r.actor_user_id === null ? t("system") : names.get(r.actor_user_id) || `#${r.actor_user_id}`) },
          { label: t("action"), cell: (r) => el("code", {}, r.action) },
          { label: t("entity"), cell: (r) => `${r.entity_kind}${r.entity_id === null ? "" : ` #${r.entity_id}`}` },
          { label: t("changes"), cell: (r) => el("code", { class: "changes" }, summary(r.changes)), className: "changes-cell" },
        ],
      }),
    );
  }

  function summary(changes) {
    const text = JSON.stringify(changes);
    return text.length > 160 ? `${text.slice(0, 157)}…` : text;
  }

  await load(true);
}
