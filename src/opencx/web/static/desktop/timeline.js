// One conversation's timeline: every message on every channel, with its files, the
// contacts' state changes and internal notes, in order; kept live from the feed.

import { el } from "./i18n.js";

export class Timeline {
  constructor({ api, i18n, userId, conversationId }) {
    this.api = api;
    this.i18n = i18n;
    this.userId = userId;
    this.conversationId = conversationId;
    this.seen = new Set();
    this.channels = new Set();
    // The log is the scrolling box, the entries a list inside it (a log is no list).
    this.list = el("ol", { class: "timeline-entries" });
    this.node = el("div", { class: "timeline", role: "log", "aria-label": i18n.t("conversation_log"), tabindex: "0" }, this.list);
    this.typing = el("p", { class: "typing muted", hidden: true }, i18n.t("customer_typing"));
    this._typingTimer = null;
  }

  async load() {
    // Busy while it fills, so a screen reader does not read the whole history as news.
    this.node.setAttribute("aria-busy", "true");
    try {
      const entries = await this.api.all(`/conversations/${this.conversationId}/timeline?limit=100`);
      for (const entry of entries) this.add(entry);
    } finally {
      this.node.removeAttribute("aria-busy");
    }
    this.scroll();
  }

  /** Adds one timeline entry once, in place by time. */
  add(entry) {
    const key = `${entry.kind}:${this._id(entry)}`;
    if (this.seen.has(key)) {
      this._replace(key, entry);
      return;
    }
    this.seen.add(key);
    const node = this.render(entry);
    node.dataset.key = key;
    node.dataset.at = entry.at;
    const after = [...this.list.children].find((child) => child.dataset.at > entry.at);
    this.list.insertBefore(node, after || null);
  }

  _id(entry) {
    const item = entry[entry.kind] || {};
    return item.id ?? entry.at;
  }

  _replace(key, entry) {
    const old = this.node.querySelector(`[data-key="${CSS.escape(key)}"]`);
    if (!old) return;
    const node = this.render(entry);
    node.dataset.key = key;
    node.dataset.at = entry.at;
    old.replaceWith(node);
  }

  render(entry) {
    switch (entry.kind) {
      case "message":
        return this.message(entry.message);
      case "interaction":
        return this.interaction(entry.interaction);
      case "note":
        return this.note(entry.note, entry.at);
      case "help_request":
        return this.help(entry.help_request || entry.help || {}, entry.at);
      default:
        return this.system(entry.kind, entry.at);
    }
  }

  message(message) {
    // The code e-mail too: it went to the customer's address, which the agent may answer.
    this.channels.add(message.channel);
    if (message.metadata && (message.metadata.withheld || message.metadata.kind === "chat_email_check")) return this.codeSent(message);
    const mine = message.author_kind === "agent";
    const who = {
      customer: this.i18n.t("customer"),
      agent: message.author_user_id === this.userId ? this.i18n.t("you") : this.i18n.t("agent_author"),
      bot: this.i18n.t("bot"),
      system: this.i18n.t("system"),
    }[message.author_kind];
    const files = (message.attachments || []).map((file) => this.file(file));
    const status = mine ? this.i18n.t(`delivery_${message.delivery_status}`) : "";
    return el(
      "li",
      { class: `entry message ${mine ? "outbound" : "inbound"}`, "data-message": message.id },
      el(
        "div",
        { class: "bubble" },
        el(
          "p",
          { class: "meta" },
          el("strong", {}, who),
          ` · ${this.i18n.channel(message.channel)} · `,
          el("time", { datetime: message.created_at }, this.i18n.when(message.created_at)),
        ),
        message.subject && message.channel === "email" ? el("p", { class: "subject" }, message.subject) : null,
        el("div", { class: "text" }, message.body_text),
        files.length ? el("ul", { class: "files" }, files) : null,
        mine
          ? el(
              "p",
              { class: `delivery ds-${message.delivery_status}`, title: message.delivery_error || "" },
              status,
            )
          : null,
      ),
    );
  }

  /** The e-mail carrying the code that proves a chat visitor's address: said, never shown
   * (the server withholds its words from agents; the desktop shows no one the code). */
  codeSent(message) {
    const status = this.i18n.t(`delivery_${message.delivery_status}`);
    return el(
      "li",
      { class: "entry system code-sent", "data-message": message.id },
      el("p", {}, `${this.i18n.t("code_sent")} · ${status} · `, el("time", { datetime: message.created_at }, this.i18n.when(message.created_at))),
    );
  }

  file(file) {
    const url = `/api/v1/attachments/${file.id}/content`;
    if (file.status === "stored" && file.content_type.startsWith("image/")) {
      return el("li", {}, el("a", { href: url, target: "_blank", rel: "noopener" }, el("img", { src: url, alt: file.filename, loading: "lazy" })));
    }
    const label = `${file.filename} (${Math.ceil(file.size / 1024)} KB)`;
    return el("li", {}, file.status === "stored" ? el("a", { href: url, download: file.filename }, label) : el("span", { class: "muted" }, file.filename));
  }

  interaction(interaction) {
    this.channels.add(interaction.channel);
    const channel = this.i18n.channel(interaction.channel);
    const state = this.i18n.t(`states.${interaction.state}`);
    return el(
      "li",
      { class: "entry system" },
      el("p", {}, `${this.i18n.t("interaction", { channel })} — ${state} · `, el("time", { datetime: interaction.arrived_at }, this.i18n.when(interaction.arrived_at))),
    );
  }

  note(note, at) {
    return el(
      "li",
      { class: "entry note" },
      el(
        "div",
        { class: "bubble" },
        el("p", { class: "meta" }, el("strong", {}, note.author_name || ""), " · ", el("time", { datetime: at }, this.i18n.when(at))),
        el("div", { class: "text" }, note.body),
      ),
    );
  }

  help(help, at) {
    return el(
      "li",
      { class: "entry note help" },
      el(
        "div",
        { class: "bubble" },
        el("p", { class: "meta" }, el("strong", {}, this.i18n.t("help_asked")), " · ", el("time", { datetime: at }, this.i18n.when(at))),
        el("div", { class: "text" }, help.question || ""),
        help.answer ? el("div", { class: "text answer" }, el("strong", {}, `${this.i18n.t("help_answer")} `), help.answer) : null,
      ),
    );
  }

  system(kind, at) {
    return el("li", { class: "entry system" }, el("p", {}, kind, " · ", el("time", { datetime: at }, this.i18n.when(at))));
  }

  /** A new or changed message the feed told of: fetched, since events carry only ids. */
  async refreshMessage(messageId) {
    const message = await this.api.get(`/messages/${messageId}`);
    this.add({ kind: "message", at: message.created_at, message });
    this.scroll();
  }

  showTyping() {
    this.typing.hidden = false;
    clearTimeout(this._typingTimer);
    this._typingTimer = setTimeout(() => (this.typing.hidden = true), 6000);
  }

  scroll() {
    this.node.scrollTop = this.node.scrollHeight;
  }
}
