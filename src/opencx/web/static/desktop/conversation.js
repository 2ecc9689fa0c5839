// <cx-conversation>: the conversation shown — who, on which channel, the whole
// timeline, the reply box and the actions (transfer, wrap up). One Timeline and one
// Composer per conversation in hand, kept while the agent switches between them so
// nothing typed or loaded is lost.

import { announce } from "./announce.js";
import { Composer } from "./composer.js";
import { el } from "./i18n.js";
import { Timeline } from "./timeline.js";
import { openTransfer } from "./transfer.js";
import { openWrapUp } from "./wrapup.js";

export function defineConversation({ store, api, i18n, userId, drawer }) {
  const views = new Map(); // conversation id -> {timeline, composer, node}

  class Conversation extends HTMLElement {
    connectedCallback() {
      this.id = "conversation-panel";
      this.setAttribute("role", "tabpanel");
      store.addEventListener("change", () => this.render());
      store.addEventListener("domain-event", (event) => this.live(event.detail));
      this.render();
    }

    render() {
      for (const id of views.keys()) if (!store.conversations.has(id)) views.delete(id);
      const work = store.conversations.get(store.selected);
      if (!work) {
        this.removeAttribute("aria-labelledby");
        this.replaceChildren(el("div", { class: "placeholder" }, el("p", { class: "muted" }, i18n.t("pick_conversation"))));
        return;
      }
      this.setAttribute("aria-labelledby", `tab-${work.conversation_id}`);
      const view = views.get(work.conversation_id) || this.open(work);
      view.work = work;
      view.header.replaceWith((view.header = this.header(view)));
      if (this.firstElementChild !== view.node) this.replaceChildren(view.node);
    }

    open(work) {
      const timeline = new Timeline({ api, i18n, userId, conversationId: work.conversation_id });
      const view = { work, timeline, header: el("header") };
      view.composer = new Composer({
        api,
        i18n,
        work,
        channels: [],
        onSent: (message) => {
          timeline.add({ kind: "message", at: message.created_at, message });
          timeline.scroll();
        },
      });
      view.node = el("div", { class: "conversation" }, view.header, timeline.node, timeline.typing, view.composer.node);
      views.set(work.conversation_id, view);
      view.reachable = [];
      customerChannels(work.customer_id).then((channels) => {
        view.reachable = channels;
        view.composer.setChannels([...timeline.channels, ...channels]);
      });
      timeline
        .load()
        .then(() => view.composer.setChannels([...timeline.channels, ...view.reachable]))
        .catch((error) => timeline.list.append(el("li", { class: "entry system" }, i18n.t("load_failed", { detail: error.message }))));
      return view;
    }

    header(view) {
      const work = view.work;
      const wrapping = work.state === "wrap_up";
      const inHand = work.task_id !== undefined && work.task_id !== null;
      const left = wrapping && work.wrap_up_until ? Math.max(0, Math.round((Date.parse(work.wrap_up_until) - Date.now()) / 1000)) : null;
      return el(
        "header",
        { class: "conversation-head" },
        el(
          "div",
          {},
          el("h2", { class: "customer-name" }, work.customer_name || i18n.t("unknown_customer")),
          el(
            "p",
            { class: "muted conversation-where" },
            // The queue is often named after its channel: say it once.
            [...new Set([i18n.channel(work.channel), work.queue_name].filter(Boolean))].join(" · "),
            left !== null ? ` · ${i18n.t("wrap_up_until", { seconds: left })}` : "",
          ),
          work.subject ? el("p", { class: "conversation-subject", title: work.subject }, work.subject) : null,
        ),
        el(
          "div",
          { class: "conversation-actions" },
          this.snoozeMenu(work),
          el(
            "button",
            {
              type: "button",
              class: "button subtle context-toggle",
              "aria-controls": "desk-context",
              "aria-expanded": String(drawer.isOpen()),
              onclick: (event) => drawer.toggle(event.currentTarget),
            },
            i18n.t("customer_details"),
          ),
          inHand ? el("button", { type: "button", class: "button subtle", disabled: wrapping, onclick: () => this.transfer(view) }, i18n.t("transfer")) : null,
          inHand ? el("button", { type: "button", class: "button primary", "data-action": "wrap-up", onclick: () => this.wrapUp(view) }, i18n.t("wrap_up")) : null,
        ),
      );
    }

    snoozeMenu(work) {
      const menu = el(
        "select",
        { class: "snooze", "aria-label": i18n.t("snooze") },
        el("option", { value: "" }, i18n.t("snooze")),
        el("option", { value: "hour" }, i18n.t("snooze_hour")),
        el("option", { value: "tomorrow" }, i18n.t("snooze_tomorrow")),
        el("option", { value: "week" }, i18n.t("snooze_week")),
      );
      menu.addEventListener("change", async () => {
        const until = snoozeUntil(menu.value);
        menu.value = "";
        if (!until) return;
        try {
          const snoozed = await api.post(`/conversations/${work.conversation_id}/snooze`, { until: until.toISOString() });
          const when = i18n.when(snoozed.snoozed_until || until.toISOString());
          document.dispatchEvent(new CustomEvent("desk-note", { detail: i18n.t("snoozed_until", { when }) }));
        } catch (error) {
          report(error);
        }
      });
      return menu;
    }

    transfer(view) {
      openTransfer({ api, i18n, work: view.work, onDone: () => store.drop(view.work.conversation_id) }).catch(report);
    }

    async wrapUp(view) {
      const work = view.work;
      try {
        if (work.state !== "wrap_up") {
          await api.post(`/tasks/${work.task_id}/complete`);
          store.update(work.conversation_id, { state: "wrap_up" });
        }
      } catch (error) {
        report(error);
        return;
      }
      await openWrapUp({
        api,
        i18n,
        work,
        onDone: async (coding) => {
          if (work.interaction_id) await api.post(`/interactions/${work.interaction_id}/wrap-up`, coding);
          // The wrap-up may have run its time out already: the agent is free either way.
          await api.post(`/tasks/${work.task_id}/end-wrap-up`).catch((error) => {
            if (error.status !== 409) throw error;
          });
          store.drop(work.conversation_id);
        },
      }).catch(report);
    }

    /** An event of the feed about one of the agent's conversations. */
    live(event) {
      const payload = event.payload || {};
      const id = payload.conversation_id ?? (event.entity_kind === "conversation" ? event.entity_id : null);
      const work = store.conversations.get(id);
      if (event.type === "message.created" && payload.author_kind === "customer" && work && id !== store.selected) {
        announce(i18n.t("new_message_from", { customer: work.customer_name || i18n.t("unknown_customer") }));
      }
      const view = views.get(id);
      if (!view) return;
      switch (event.type) {
        case "message.created":
        case "message.delivery_changed":
        case "message.attachment_changed":
          view.timeline.refreshMessage(payload.message_id ?? event.entity_id).catch(() => {});
          if (event.type === "message.created" && payload.channel) view.composer.setChannels([...view.timeline.channels, ...view.reachable, payload.channel]);
          return;
        case "chat.typing":
          if (payload.author_kind !== "agent") view.timeline.showTyping();
          return;
        case "note.created":
        case "help.answered":
          view.timeline.load().catch(() => {});
          return;
        default:
      }
    }

    wrapUpShown() {
      const view = views.get(store.selected);
      if (view && view.work.task_id) this.wrapUp(view);
    }

    composer() {
      return views.get(store.selected)?.composer;
    }

    refreshTimeline() {
      views.get(store.selected)?.timeline.load().catch(report);
    }
  }

  /** Channels the customer can be written to first, whatever this conversation used:
   * e-mail, where they have a confirmed address (the e-mail sender writes only there). */
  async function customerChannels(customerId) {
    if (!customerId) return [];
    const customer = await api.get(`/customers/${customerId}`).catch(() => null);
    const identities = (customer && customer.identities) || [];
    return identities.some((identity) => identity.kind === "email" && identity.confirmed) ? ["email"] : [];
  }

  /** When a snooze ends, in the agent's own clock: in an hour, tomorrow or next Monday at 9. */
  function snoozeUntil(choice) {
    const at = new Date();
    if (choice === "hour") return new Date(at.getTime() + 3600_000);
    if (choice !== "tomorrow" && choice !== "week") return null;
    const days = choice === "tomorrow" ? 1 : ((8 - at.getDay()) % 7) || 7;
    at.setDate(at.getDate() + days);
    at.setHours(9, 0, 0, 0);
    return at;
  }

  function report(error) {
    document.dispatchEvent(new CustomEvent("desk-error", { detail: error }));
  }

  customElements.define("cx-conversation", Conversation);
}
