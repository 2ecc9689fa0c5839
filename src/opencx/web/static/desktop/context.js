// <cx-context>: beside the conversation, what helps to answer it, as tabs: the
// customer (360 and business systems), answers (suggested, searched) and working
// with others (notes, a question to a supervisor). Loaded when first shown, per
// conversation, and again when asked.

import { answersPanel } from "./answers.js";
import { collaboratePanel } from "./collaborate.js";
import { customerPanel } from "./customer.js";
import { el } from "./i18n.js";
import { tabMove } from "./tabs.js";

const TABS = ["customer", "answers", "collaborate"];

export function defineContext({ store, api, i18n }) {
  class Context extends HTMLElement {
    connectedCallback() {
      this.tab = "customer";
      this.shownFor = null;
      store.addEventListener("change", () => this.render());
      store.addEventListener("domain-event", (event) => {
        // Another of the customer's messages: the suggestions follow it.
        const e = event.detail;
        if (e.type === "message.created" && e.payload && e.payload.conversation_id === store.selected && this.tab === "answers") this.load();
      });
      this.render();
    }

    render() {
      const work = store.conversations.get(store.selected);
      this.hidden = !work;
      if (!work) {
        this.shownFor = null;
        return;
      }
      // A chat whose visitor proved their address moves to that customer: shown anew.
      const key = `${work.conversation_id}:${work.customer_id}`;
      if (this.shownFor === key) return;
      this.shownFor = key;
      this.load();
    }

    tabs() {
      const list = el("div", { role: "tablist", class: "context-tabs", "aria-label": i18n.t("context"), onkeydown: (event) => this.keys(event) });
      for (const name of TABS) {
        const selected = name === this.tab;
        list.append(
          el("button", { type: "button", role: "tab", id: `context-tab-${name}`, "aria-selected": String(selected), "aria-controls": "context-panel", tabindex: selected ? "0" : "-1", onclick: () => this.choose(name) }, i18n.t(`tab_${name}`)),
        );
      }
      return list;
    }

    keys(event) {
      const to = tabMove(event, TABS.indexOf(this.tab), TABS.length);
      if (to === null) return;
      const next = TABS[to];
      this.choose(next);
      this.querySelector(`#context-tab-${next}`)?.focus();
    }

    choose(name) {
      this.tab = name;
      this.load();
    }

    async load() {
      const work = store.conversations.get(store.selected);
      if (!work) return;
      const panel = el("div", { role: "tabpanel", id: "context-panel", "aria-labelledby": `context-tab-${this.tab}`, class: "context-panel", "aria-busy": "true" });
      this.replaceChildren(this.tabs(), panel);
      const parts = {
        api,
        i18n,
        work,
        insert: (text) => document.querySelector("cx-conversation").composer()?.insert(text),
        refresh: () => document.querySelector("cx-conversation").refreshTimeline(),
        openConversation: (conversation) => {
          if (conversation.id === work.conversation_id) return;
          document.dispatchEvent(new CustomEvent("open-conversation", { detail: conversation.id }));
        },
      };
      try {
        const content =
          this.tab === "customer" ? await customerPanel(parts) : this.tab === "answers" ? await answersPanel(parts) : collaboratePanel(parts);
        if (this.shownFor === `${work.conversation_id}:${work.customer_id}`) panel.replaceChildren(content);
      } catch (error) {
        panel.replaceChildren(el("p", { class: "muted" }, i18n.t("load_failed", { detail: error.message })));
      }
      panel.removeAttribute("aria-busy");
    }
  }
  customElements.define("cx-context", Context);
}
