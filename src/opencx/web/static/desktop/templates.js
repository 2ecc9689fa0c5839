// The WhatsApp template picker: once the customer's 24-hour window is closed, WhatsApp
// takes only approved templates. The agent picks one of the account's templates
// (GET /conversations/{id}/whatsapp-templates), fills one field per placeholder and
// reads the preview; the server checks the parameters and fills the same body again.

import { el } from "./i18n.js";

export class TemplatePicker {
  constructor({ api, i18n, conversationId, changed }) {
    this.api = api;
    this.i18n = i18n;
    this.conversationId = conversationId;
    this.changed = changed;
    this.templates = [];
    this.select = el("select", { id: `template-${conversationId}`, onchange: () => this.pick() });
    this.fields = el("div", { class: "template-fields" });
    this.preview = el("p", { class: "template-preview", "aria-live": "polite" });
    this.node = el(
      "div",
      { class: "template-picker", hidden: true },
      el("label", { class: "template-choice", for: this.select.id }, i18n.t("template")),
      this.select,
      this.fields,
      el("p", { class: "muted template-preview-label" }, i18n.t("template_preview")),
      this.preview,
    );
  }

  /** Load the templates offered in this conversation; how many there are. */
  async load() {
    const offered = await this.api.get(`/conversations/${this.conversationId}/whatsapp-templates`);
    this.templates = offered.templates;
    this.select.replaceChildren(
      el("option", { value: "" }, this.i18n.t("choose_template")),
      ...this.templates.map((t, n) => el("option", { value: String(n) }, `${t.name} (${t.language})`)),
    );
    this.pick();
    return this.templates.length;
  }

  pick() {
    const template = this.chosen();
    this.fields.replaceChildren(
      ...Array.from({ length: template ? template.parameters : 0 }, (_, n) =>
        el(
          "label",
          { class: "template-parameter" },
          el("span", {}, this.i18n.t("template_parameter", { n: n + 1 })),
          el("input", { type: "text", name: `parameter-${n + 1}`, maxlength: "1024", required: true, oninput: () => this.show() }),
        ),
      ),
    );
    this.show();
  }

  chosen() {
    return this.select.value === "" ? null : this.templates[Number(this.select.value)];
  }

  values() {
    return [...this.fields.querySelectorAll("input")].map((input) => input.value.trim());
  }

  show() {
    const template = this.chosen();
    const values = this.values();
    this.preview.textContent = template ? fill(template.body, values) : "";
    this.changed();
  }

  /** The `template` of the message to post, or null while one is missing. */
  message() {
    const template = this.chosen();
    const parameters = this.values();
    if (!template || parameters.some((value) => !value)) return null;
    return { name: template.send_name, language: template.language, parameters };
  }

  clear() {
    this.select.value = "";
    this.pick();
  }
}

/** The body with {{n}} replaced by the n-th value; a placeholder not yet filled stays. */
function fill(body, values) {
  return body.replace(/\{\{\s*(\d{1,3})\s*\}\}/g, (whole, n) => values[Number(n) - 1] || whole);
}
