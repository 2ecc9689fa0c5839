// <cx-inbox>: the conversations beyond those in hand — mine, my team's, waiting in
// my queues, snoozed — filtered by channel, searched by name, address, words or case
// number. Opening one shows it beside the others without leaving the page.

import { el } from "./i18n.js";
import { tabMove } from "./tabs.js";

const VIEWS = ["mine", "team", "waiting", "snoozed"];
const CHANNELS = ["email", "chat", "sms", "whatsapp", "messenger", "voice", "review"];
const LIVE_TYPES = new Set([
  "message.created",
  "conversation.updated",
  "conversation.status_changed",
  "interaction.state_changed",
]);

export function defineInbox({ store, api, i18n }) {
  class Inbox extends HTMLElement {
    connectedCallback() {
      this.view = "mine";
      this.cursor = null;
      this.list = el("ul", { class: "inbox-list", id: "inbox-list" });
      this.panel = el("div", { role: "tabpanel", id: "inbox-panel", "aria-labelledby": "inbox-tab-mine" }, this.list);
      this.more = el("button", { type: "button", class: "button subtle small", hidden: true, onclick: () => this.load(true) }, i18n.t("more"));
      this.search = el("input", { type: "search", "aria-label": i18n.t("search_inbox"), placeholder: i18n.t("search_inbox") });
      this.channel = el("select", { "aria-label": i18n.t("channel_filter") }, el("option", { value: "" }, i18n.t("all_channels")), CHANNELS.map((c) => el("option", { value: c }, i18n.channel(c))));
      let timer = null;
      this.search.addEventListener("input", () => {
        clearTimeout(timer);
        timer = setTimeout(() => this.load(), 250);
      });
      this.channel.addEventListener("change", () => this.load());
      this.tabs = el("div", {
        role: "tablist",
        class: "inbox-tabs",
        "aria-labelledby": "inbox-title",
        onkeydown: (event) => {
          const to = tabMove(event, VIEWS.indexOf(this.view), VIEWS.length);
          if (to === null) return;
          this.choose(VIEWS[to]);
          this.tabs.querySelector(`#inbox-tab-${VIEWS[to]}`)?.focus();
        },
      });
      this.replaceChildren(this.tabs, el("div", { class: "inbox-filters" }, this.search, this.channel), this.panel, this.more);
      this.showTabs();
      // The view is read again (once, shortly after) on every event of the agent's feed
      // that changes one of the lists: their conversations' news, their contacts' state
      // (transfers, wrap-ups), an offer coming or going (a contact waiting in their
      // queues), a new snapshot after a reconnection; and when the tab is shown again.
      // Colleagues' work in the agent's queues comes as a notice naming the views it
      // moved (docs/inbox.md).
      store.addEventListener("domain-event", (event) => {
        if (LIVE_TYPES.has(event.detail.type)) this.soon();
      });
      store.addEventListener("inbox-changed", (event) => {
        if (event.detail.includes(this.view)) this.soon();
      });
      store.addEventListener("change", (event) => {
        if (event.detail === "all" || event.detail === "offers") this.soon();
      });
      document.addEventListener("visibilitychange", () => {
        if (!document.hidden) this.soon();
      });
      this.load();
    }

    soon() {
      clearTimeout(this._soon);
      this._soon = setTimeout(() => this.load(), 400);
    }

    showTabs() {
      this.tabs.replaceChildren(
        ...VIEWS.map((view) =>
          el(
            "button",
            {
              type: "button",
              role: "tab",
              id: `inbox-tab-${view}`,
              "aria-controls": "inbox-panel",
              "aria-selected": String(view === this.view),
              tabindex: view === this.view ? "0" : "-1",
              onclick: () => this.choose(view),
            },
            i18n.t(`inbox_${view}`),
          ),
        ),
      );
    }

    choose(view) {
      this.view = view;
      this.showTabs();
      this.panel.setAttribute("aria-labelledby", `inbox-tab-${view}`);
      this.load();
    }

    async load(more = false) {
      const params = new URLSearchParams({ view: this.view, limit: "20" });
      if (this.search.value.trim()) params.set("q", this.search.value.trim());
      if (this.channel.value) params.set("channel", this.channel.value);
      if (more && this.cursor) params.set("cursor", this.cursor);
      try {
        const page = await api.get(`/inbox?${params}`);
        this.cursor = page.next_cursor;
        this.more.hidden = !page.next_cursor;
        const rows = page.items.map((item) => this.row(item));
        if (more) this.list.append(...rows);
        else this.list.replaceChildren(...(rows.length ? rows : [el("li", { class: "empty muted" }, i18n.t("inbox_empty"))]));
      } catch (error) {
        this.list.replaceChildren(el("li", { class: "empty muted" }, i18n.t("load_failed", { detail: error.message })));
      }
    }

    row(item) {
      const when = item.snoozed_until || item.waiting_since || item.last_activity_at;
      return el(
        "li",
        {},
        el(
          "button",
          { type: "button", class: `inbox-item ${item.conversation_id === store.selected ? "current" : ""}`, onclick: () => document.dispatchEvent(new CustomEvent("open-conversation", { detail: item.conversation_id })) },
          el("span", { class: "history-head" }, el("span", {}, item.customer_name, " · #", String(item.conversation_id)), el("time", { datetime: when }, i18n.when(when))),
          el("strong", {}, item.subject || item.channels.map((c) => i18n.channel(c)).join(" · ")),
          item.preview ? el("span", { class: "muted preview" }, item.preview) : null,
        ),
      );
    }
  }
  customElements.define("cx-inbox", Inbox);
}
