// <cx-worklist>: the conversations in hand, as tabs: one per conversation, the shown
// one selected; arrow keys move between them (the ARIA tabs pattern).

import { el } from "./i18n.js";
import { tabMove } from "./tabs.js";

export function defineWorklist({ store, i18n }) {
  class Worklist extends HTMLElement {
    connectedCallback() {
      this.unread = new Set();
      store.addEventListener("change", () => this.render());
      store.addEventListener("domain-event", (event) => {
        const id = event.detail.payload && event.detail.payload.conversation_id;
        if (event.detail.type === "message.created" && id !== store.selected && store.conversations.has(id)) {
          this.unread.add(id);
          this.render();
        }
      });
      this.render();
    }

    render() {
      this.unread.delete(store.selected);
      const works = [...store.conversations.values()];
      if (!works.length) {
        this.replaceChildren(el("p", { class: "empty muted" }, i18n.t("no_conversations")));
        return;
      }
      const list = el("div", {
        role: "tablist",
        "aria-orientation": "vertical",
        "aria-labelledby": "mine-title",
        onkeydown: (event) => this.keys(event),
      });
      for (const work of works) {
        const selected = work.conversation_id === store.selected;
        const state = { wrap_up: "in_wrap_up", held: "held", viewing: "viewing" }[work.state] || "active";
        list.append(
          el(
            "button",
            {
              type: "button",
              role: "tab",
              id: `tab-${work.conversation_id}`,
              "aria-selected": selected ? "true" : "false",
              "aria-controls": "conversation-panel",
              tabindex: selected ? "0" : "-1",
              class: `work ${this.unread.has(work.conversation_id) ? "unread" : ""}`,
              "data-state": work.state,
              onclick: () => store.select(work.conversation_id),
            },
            el("span", { class: `channel-badge ch-${work.channel}`, "aria-hidden": "true" }, i18n.channel(work.channel).slice(0, 1)),
            el(
              "span",
              { class: "work-text" },
              el("strong", {}, work.customer_name || i18n.t("unknown_customer")),
              el("span", { class: "muted" }, `${i18n.channel(work.channel)} · ${i18n.t(state)}`),
            ),
          ),
        );
      }
      this.replaceChildren(list);
    }

    keys(event) {
      const ids = [...store.conversations.keys()];
      const to = tabMove(event, Math.max(0, ids.indexOf(store.selected)), ids.length, { vertical: true });
      if (to === null) return;
      const next = ids[to];
      store.select(next);
      this.querySelector(`#tab-${next}`)?.focus();
    }
  }
  customElements.define("cx-worklist", Worklist);
}
