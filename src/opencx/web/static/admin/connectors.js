// Connectors (GET /connectors, connectors.manage): the business systems asked about a
// customer, their URL template, authentication, the lines agents see, time-out and
// cache; and "try it" (POST /connectors/{id}/test), which asks about one customer now.
// A credential is write-only: the API answers only whether one is stored (has_secret),
// and one left empty on a change keeps the stored one while the kind stays the same.

import { el } from "../desktop/i18n.js";
import { button, deleteAfterAsking, editor, field, frame, nameOf, notice, showProblem, clearProblems, split, table, valueOf } from "./kit.js";

const AUTH_KINDS = ["none", "bearer", "basic", "header"];
//: Where each kind keeps its credential in the API's auth object.
const SECRET_KEY = { bearer: "token", basic: "password", header: "value" };
const FORMATS = ["text", "date", "datetime", "money", "status"];

export async function mountConnectors(root, { api, i18n, config }) {
  const t = (key, values) => i18n.t(`connector.${key}`, values);
  const lang = config.locale.slice(0, 2);
  const body = frame(root, {
    title: i18n.t("sections.connectors"),
    intro: t("intro"),
    i18n,
    actions: [button(t("new_title"), () => edit(null), { kind: "primary" })],
  });
  const sites = await api.all("/sites", 10);
  const list = el("div", { class: "list" });
  const side = el("div", { class: "side" });
  body.append(split(list, side));

  async function reload() {
    const rows = await api.all("/connectors", 10);
    list.replaceChildren(
      table({
        caption: i18n.t("sections.connectors"),
        i18n,
        rows,
        columns: [
          {
            label: t("name"),
            cell: (r) => el("span", {}, r.name, el("span", { class: "channel muted" }, r.description), r.enabled ? null : el("span", { class: "pill no" }, t("disabled"))),
          },
          { label: t("auth"), cell: (r) => t(`auth_kinds.${r.auth.kind}`), secondary: true },
          { label: t("lines"), cell: (r) => String(r.fields.length), num: true },
          { label: t("url"), cell: (r) => el("code", { class: "url" }, r.url_template), secondary: true },
          { label: i18n.t("sections.sites"), cell: (r) => (r.site_ids.length ? r.site_ids.map((id) => nameOf(sites, id, `#${id}`)).join(", ") : "—"), secondary: true },
        ],
        onRowAction: (r) => [
          button(i18n.t("edit"), () => edit(r), { label: `${i18n.t("edit")} ${r.name}` }),
          button(i18n.t("delete"), () => remove(r), { label: `${i18n.t("delete")} ${r.name}` }),
        ],
      }),
    );
  }

  /** One line of the mapping: its labels, where its value is and how it is shown. */
  function mappingLine(index, value, onRemove) {
    const path = (name) => `fields.${index}.${name}`;
    const en = field({ name: "label_en", path: path("label.en"), label: t("field_label_en"), required: true }, value.label?.en);
    const fr = field({ name: "label_fr", path: path("label.fr"), label: t("field_label_fr") }, value.label?.fr);
    const where = field({ name: "path", path: path("path"), label: t("field_path"), code: true, placeholder: "contract.items[0].price" }, value.path);
    const format = field({ name: "format", path: path("format"), label: t("field_format"), type: "select", options: FORMATS.map((f) => [f, t(`formats.${f}`)]) }, value.format || "text");
    const currency = field({ name: "currency", path: path("currency"), label: t("currency"), placeholder: "EUR", code: true }, value.currency);
    const follow = () => {
      currency.hidden = format.control.value !== "money";
    };
    format.control.addEventListener("change", follow);
    follow();
    const number = index + 1;
    const node = el(
      "fieldset",
      { class: "mapping-line" },
      el("legend", {}, t("field", { number })),
      en,
      fr,
      where,
      format,
      currency,
      button(t("remove_field"), () => onRemove(line), { label: `${t("remove_field")} ${number}` }),
    );
    const line = {
      node,
      read: () => {
        const label = { en: en.control.value.trim() };
        if (fr.control.value.trim()) label.fr = fr.control.value.trim();
        const out = { label, path: where.control.value.trim(), format: format.control.value };
        if (format.control.value === "money" && currency.control.value.trim()) out.currency = currency.control.value.trim();
        return out;
      },
    };
    return line;
  }

  function edit(row) {
    const values = row || { enabled: true, timeout_ms: 2000, cache_seconds: 60, auth: { kind: "none" }, fields: [], site_ids: [] };
    const name = field({ name: "name", label: t("name"), required: true }, values.name);
    const enabled = field({ name: "enabled", label: t("enabled"), type: "checkbox" }, values.enabled);
    const description = field({ name: "description", label: t("description"), wide: true }, values.description);
    const labelEn = field({ name: "label.en", label: t("label_en"), help: t("label_help") }, values.label?.en);
    const labelFr = field({ name: "label.fr", label: t("label_fr") }, values.label?.fr);
    const url = field({ name: "url_template", label: t("url"), wide: true, code: true, help: t("url_help"), placeholder: "https://crm.example.com/api/customers/{customer.external_id}" }, values.url_template);
    const kind = field({ name: "auth.kind", label: t("auth"), type: "select", options: AUTH_KINDS.map((k) => [k, t(`auth_kinds.${k}`)]) }, values.auth.kind);
    const username = field({ name: "auth.username", label: t("username") }, values.auth.username);
    const headerName = field({ name: "auth.name", label: t("header_name"), code: true, placeholder: "X-Api-Key" }, values.auth.name);
    const stored = row && row.auth.has_secret;
    const secret = field({ name: "auth.secret", label: t("token"), type: "password", help: stored ? t("secret_stored") : null }, "");
    secret.control.setAttribute("autocomplete", "new-password");
    const timeout = field({ name: "timeout_ms", label: t("timeout"), type: "number", min: 100, step: 100 }, values.timeout_ms);
    const cache = field({ name: "cache_seconds", label: t("cache"), type: "number", min: 0 }, values.cache_seconds);
    const siteBoxes = sites.map((site) => field({ name: `site_${site.id}`, path: "site_ids", label: site.name, type: "checkbox" }, values.site_ids.includes(site.id)));
    const siteSet = el("fieldset", {}, el("legend", {}, t("sites")), el("p", { class: "field-help" }, t("sites_help")), siteBoxes);

    function followAuth() {
      const chosen = kind.control.value;
      username.hidden = chosen !== "basic";
      headerName.hidden = chosen !== "header";
      secret.hidden = chosen === "none";
      const words = { bearer: t("token"), basic: t("password"), header: t("header_value") };
      if (words[chosen]) secret.querySelector("label").textContent = words[chosen];
      const keeps = stored && chosen === row.auth.kind;
      const help = secret.querySelector(".field-help");
      if (help) help.hidden = !keeps;
    }
    kind.control.addEventListener("change", followAuth);
    followAuth();

    // Lines are numbered as the API numbers them (fields.0.path), so a problem finds its input.
    let lines = [];
    const mapping = el("div", { class: "mapping" });
    const layOut = (all) => {
      lines = all.map((value, index) => mappingLine(index, value, (gone) => layOut(lines.filter((line) => line !== gone).map((line) => line.read()))));
      mapping.replaceChildren(...lines.map((line) => line.node));
    };
    const addLine = () => layOut([...lines.map((line) => line.read()), {}]);
    layOut(values.fields);
    const mappingSet = el("fieldset", {}, el("legend", {}, t("fields")), mapping, button(`+ ${t("add_field")}`, () => addLine()));

    function auth() {
      const chosen = kind.control.value;
      const out = { kind: chosen };
      if (chosen === "basic") out.username = username.control.value.trim();
      if (chosen === "header") out.name = headerName.control.value.trim();
      if (SECRET_KEY[chosen] && secret.control.value) out[SECRET_KEY[chosen]] = secret.control.value;
      return out;
    }

    const form = editor({
      i18n,
      title: row ? t("edit_title", { name: row.name }) : t("new_title"),
      fields: [name, enabled, description, labelEn, labelFr, url, kind, username, headerName, secret, timeout, cache, siteSet, mappingSet],
      onCancel: () => side.replaceChildren(),
      submit: async () => {
        const label = {};
        if (labelEn.control.value.trim()) label.en = labelEn.control.value.trim();
        if (labelFr.control.value.trim()) label.fr = labelFr.control.value.trim();
        const data = {
          name: valueOf(name.control),
          description: valueOf(description.control),
          label: Object.keys(label).length ? label : null,
          enabled: enabled.control.checked,
          url_template: valueOf(url.control),
          auth: auth(),
          fields: lines.map((line) => line.read()),
          timeout_ms: valueOf(timeout.control, "number"),
          cache_seconds: valueOf(cache.control, "number"),
          site_ids: sites.filter((site, index) => siteBoxes[index].control.checked).map((site) => site.id),
        };
        // The secret's input stands for whichever key the kind uses.
        const secretKey = SECRET_KEY[data.auth.kind];
        try {
          const saved = row ? await api.patch(`/connectors/${row.id}`, data) : await api.post("/connectors", data);
          notice(root, `${saved.name} · ${i18n.t("saved")}`);
          await reload();
          edit(saved); // stays open, with "try it" now that it exists
        } catch (failure) {
          for (const error of failure.problem?.errors || []) {
            const where = String(error.field || "").replace(/^body\./, "");
            if (secretKey && where === `auth.${data.auth.kind}.${secretKey}`) error.field = "auth.secret";
            else if (where.startsWith(`auth.${data.auth.kind}.`)) error.field = `auth.${where.split(".").pop()}`;
            else if (where.startsWith("label.") || where === "label") error.field = "label.en";
            else if (where.startsWith("site_ids")) error.field = "site_ids";
          }
          throw failure;
        }
      },
    });
    side.replaceChildren(form, row ? tryIt(row) : null);
    name.control.focus();
  }

  /** Ask the business system about one customer now, and show what agents would see. */
  function tryIt(row) {
    const customer = field({ name: "customer_id", label: t("customer"), type: "number", min: 1, required: true });
    const result = el("div", { class: "try-result", role: "status", "aria-live": "polite" });
    const problem = el("p", { class: "form-problem", role: "alert" });
    const form = el(
      "form",
      {
        class: "editor try-it",
        "aria-label": t("try"),
        novalidate: true,
        onsubmit: async (event) => {
          event.preventDefault();
          clearProblems(form);
          result.replaceChildren();
          try {
            const answer = await api.post(`/connectors/${row.id}/test`, { customer_id: valueOf(customer.control, "id"), locale: lang });
            result.replaceChildren(...outcome(answer));
          } catch (failure) {
            showProblem(form, i18n, failure);
          }
        },
      },
      el("h2", {}, t("try")),
      el("p", { class: "muted" }, t("try_intro")),
      el("div", { class: "fields" }, customer, button(t("try_button"), null, { kind: "primary", type: "submit" })),
      problem,
      result,
    );
    return form;
  }

  function outcome(answer) {
    const ok = answer.status === "ok";
    const nodes = [el("p", { class: `verdict ${ok ? "matched" : "fallback"}` }, t(`statuses.${answer.status}`, { error: answer.error || "" }))];
    if (answer.error && answer.status !== "error") nodes.push(el("p", { class: "muted" }, answer.error));
    if (answer.url) nodes.push(el("p", { class: "url muted" }, t("called", { url: answer.url, status: answer.http_status ?? "—" })));
    if (answer.fields.length) {
      nodes.push(
        table({
          i18n,
          rows: answer.fields,
          columns: [
            { label: t("shown_label"), cell: (f) => f.label },
            { label: t("shown_value"), cell: (f) => (f.value === null ? "—" : `${f.value}${f.currency ? ` ${f.currency}` : ""}`) },
          ],
        }),
      );
    }
    return nodes;
  }

  async function remove(row) {
    await deleteAfterAsking({ i18n, api, root, name: row.name, path: `/connectors/${row.id}`, reload, side });
  }

  await reload();
}
