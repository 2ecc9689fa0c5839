// The reply box: answers on the conversation's channel or another the customer has,
// with files; the draft is kept per conversation (in this browser) until it is sent,
// so a reload or a dropped connection never loses it.
//
// What each channel adds: an e-mail gets a formatting toolbar (light markup that the
// server makes HTML of) and Cc / Bcc fields; WhatsApp past the customer's 24-hour
// window takes only an approved template, picked and filled in instead of free text;
// Messenger and Instagram past 24 hours go with Meta's Human Agent tag while it allows
// (7 days), and after that nothing can be sent until the customer writes again. The
// reason is always shown, and the server checks every rule again when sending.

import { formattingKey, formattingToolbar } from "./formatting.js";
import { el } from "./i18n.js";
import { TemplatePicker } from "./templates.js";

const TYPING_EVERY_MS = 3000;
const WINDOWED = ["whatsapp", "messenger", "instagram"];
// What the server accepts as an address is its own check; this one catches typing slips.
const ADDRESS = /^[^\s@,;<>"]+@[^\s@,;<>"]+\.[^\s@,;<>"]+$/;
const MAX_COPIES = 20;

export class Composer {
  constructor({ api, i18n, work, channels, onSent }) {
    this.api = api;
    this.i18n = i18n;
    this.work = work;
    this.onSent = onSent;
    this.draftKey = `opencx.draft.${work.conversation_id}`;
    this.typedAt = 0;
    this.files = [];
    this.mode = "text"; // "text", "template" (WhatsApp past its window), "blocked"
    this.sending = false;
    this.checks = 0;
    const id = `reply-${work.conversation_id}`;
    this.text = el("textarea", {
      id,
      name: "reply",
      rows: "3",
      "aria-label": i18n.t("reply"),
      placeholder: i18n.t("reply"),
      oninput: () => this.typed(),
      onkeydown: (event) => {
        if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
          event.preventDefault();
          this.send();
        } else if (this.channel.value === "email" && formattingKey(event, this.text)) {
          this.typed();
        }
      },
    });
    this.text.value = localStorage.getItem(this.draftKey) || "";
    this.toolbar = formattingToolbar(this.text, i18n, () => this.typed());
    this.cc = this.copiesField("cc");
    this.bcc = this.copiesField("bcc");
    this.copies = el("div", { class: "copies" }, this.cc.label, this.bcc.label);
    this.templates = new TemplatePicker({ api, i18n, conversationId: work.conversation_id, changed: () => this.updateSend() });
    this.notice = el("p", { class: "composer-notice", role: "status" });
    this.sendButton = el("button", { type: "submit", class: "button primary" }, i18n.t("send"));
    this.channel = el("select", { "aria-label": i18n.t("reply_on"), onchange: () => this.checkWindow() });
    this.picker = el("input", { type: "file", multiple: true, hidden: true, onchange: () => this.picked() });
    this.attach = el("button", { type: "button", class: "button subtle", onclick: () => this.picker.click() }, i18n.t("attach"));
    this.fileList = el("ul", { class: "picked" });
    this.node = el(
      "form",
      { class: "composer", onsubmit: (event) => (event.preventDefault(), this.send()) },
      this.notice,
      this.copies,
      this.toolbar,
      this.text,
      this.templates.node,
      this.fileList,
      el(
        "div",
        { class: "composer-bar" },
        el("label", { class: "reply-on" }, el("span", { class: "muted" }, i18n.t("reply_on")), this.channel),
        this.attach,
        this.picker,
        this.sendButton,
      ),
    );
    this.setChannels(channels);
  }

  copiesField(name) {
    const input = el("input", {
      type: "text",
      name,
      autocomplete: "off",
      placeholder: this.i18n.t("copies_hint"),
      oninput: () => this.updateSend(),
    });
    const label = el("label", { class: "copies-field" }, el("span", {}, this.i18n.t(name)), input);
    return { input, label };
  }

  setChannels(channels) {
    const current = this.channel.value || this.work.channel;
    const all = [...new Set([this.work.channel, ...channels])].filter((c) => c && c !== "voice");
    this.channel.replaceChildren(...all.map((code) => el("option", { value: code }, this.i18n.channel(code))));
    this.channel.value = all.includes(current) ? current : all[0];
    this.checkWindow();
  }

  /** What the channel allows now: free text, a template only, or nothing (and why). */
  async checkWindow() {
    const check = ++this.checks;
    const channel = this.channel.value;
    const email = channel === "email";
    this.toolbar.hidden = !email;
    this.copies.hidden = !email;
    let mode = "text";
    let reason = "";
    if (WINDOWED.includes(channel)) {
      try {
        const windows = await this.api.get(`/conversations/${this.work.conversation_id}/reply-windows`);
        const window = windows.find((w) => w.channel === channel);
        if (check !== this.checks) return;
        if (window && !window.open) [mode, reason] = await this.closedWindow(channel, window);
      } catch {
        // the server checks again when sending; nothing to show here
      }
    }
    if (check !== this.checks) return;
    this.mode = mode;
    this.notice.textContent = reason;
    this.text.hidden = mode === "template";
    this.attach.hidden = mode === "template";
    this.templates.node.hidden = mode !== "template";
    this.updateSend();
  }

  /** The mode and the reason shown once the customer's 24-hour window is closed. */
  async closedWindow(channel, window) {
    const t = this.i18n.t;
    const name = this.i18n.channel(channel);
    const never = !window.last_customer_message_at;
    if (channel === "whatsapp") {
      const reason = t(never ? "whatsapp_never_wrote" : "whatsapp_window_closed");
      const count = await this.templates.load().catch(() => 0);
      return ["template", count ? reason : `${reason} ${t("no_templates")}`];
    }
    if (window.human_agent_open) {
      return ["text", t("human_agent_tag", { when: this.i18n.when(window.human_agent_closes_at) })];
    }
    if (never) return ["blocked", t("meta_never_wrote", { channel: name })];
    const tagged = window.human_agent_closes_at !== null && window.human_agent_closes_at !== undefined;
    return ["blocked", t(tagged ? "meta_tag_window_closed" : "meta_window_closed", { channel: name })];
  }

  /** The addresses typed in a copies field, and those that are none. */
  addresses(field) {
    const all = field.input.value.split(/[\s,;]+/).filter(Boolean);
    const wrong = all.filter((address) => !ADDRESS.test(address));
    const invalid = wrong.length > 0 || all.length > MAX_COPIES;
    if (invalid) field.input.setAttribute("aria-invalid", "true");
    else field.input.removeAttribute("aria-invalid");
    return { all, wrong, invalid };
  }

  updateSend() {
    let blocked = this.mode === "blocked" || (this.mode === "template" && !this.templates.message());
    if (this.channel.value === "email") {
      for (const field of [this.cc, this.bcc]) blocked = this.addresses(field).invalid || blocked;
    }
    this.sendButton.disabled = this.sending || blocked;
  }

  typed() {
    localStorage.setItem(this.draftKey, this.text.value);
    const now = Date.now();
    if (this.channel.value === "chat" && now - this.typedAt > TYPING_EVERY_MS && this.text.value) {
      this.typedAt = now;
      this.api.post(`/conversations/${this.work.conversation_id}/typing`).catch(() => {});
    }
  }

  picked() {
    this.files.push(...this.picker.files);
    this.picker.value = "";
    this.fileList.replaceChildren(...this.files.map((file) => el("li", {}, file.name)));
  }

  /** Put a text in the box (a suggested or canned answer), for the agent to edit. */
  insert(text) {
    this.text.value = this.text.value ? `${this.text.value}\n${text}` : text;
    this.typed();
    this.text.focus();
  }

  /** The message to post, or null when there is nothing to send. */
  async message() {
    const channel = this.channel.value;
    const base = {
      channel,
      direction: "outbound",
      author_kind: "agent",
      interaction_id: channel === this.work.channel ? this.work.interaction_id ?? null : null,
    };
    if (this.mode === "template") {
      const template = this.templates.message();
      return template && { ...base, body_text: "", template };
    }
    const body = this.text.value.trim();
    if (!body && !this.files.length) return null;
    const attachmentIds = [];
    for (const file of this.files) {
      const form = new FormData();
      form.append("file", file);
      const stored = await this.api.post(`/conversations/${this.work.conversation_id}/attachments`, form);
      attachmentIds.push(stored.id);
    }
    const message = { ...base, body_text: body, attachment_ids: attachmentIds };
    if (channel === "email") {
      message.body_format = "markup";
      message.cc = this.addresses(this.cc).all;
      message.bcc = this.addresses(this.bcc).all;
    }
    return message;
  }

  async send() {
    if (this.sendButton.disabled) return;
    this.sending = true;
    this.updateSend();
    this.sendButton.textContent = this.i18n.t("sending");
    try {
      const body = await this.message();
      if (!body) return;
      const message = await this.api.post(`/conversations/${this.work.conversation_id}/messages`, body);
      if (this.mode === "template") {
        this.templates.clear();
      } else {
        this.text.value = "";
        this.files = [];
        this.fileList.replaceChildren();
        this.cc.input.value = "";
        this.bcc.input.value = "";
        localStorage.removeItem(this.draftKey);
      }
      this.onSent(message);
    } catch (error) {
      this.notice.textContent = this.i18n.t("action_failed", { detail: error.message });
      this.notice.title = error.detail || "";
    } finally {
      this.sending = false;
      this.sendButton.textContent = this.i18n.t("send");
      this.updateSend();
      if (!this.text.hidden) this.text.focus();
    }
  }
}
