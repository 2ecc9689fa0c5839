// <cx-offers>: the offers waiting for the agent's answer, each with its channel,
// queue, customer, wait and a countdown; Accept and Reject; auto-accept where the
// queue says so.

import { announce } from "./announce.js";
import { el } from "./i18n.js";
import { chime, notifyIfHidden } from "./notify.js";

export function defineOffers({ store, api, i18n }) {
  class Offers extends HTMLElement {
    connectedCallback() {
      this.setAttribute("role", "list");
      this.known = new Set();
      this.busy = new Set();
      store.addEventListener("change", (event) => {
        if (event.detail === "offers" || event.detail === "all") this.render();
      });
      this.timer = setInterval(() => this.countdown(), 1000);
      this.render();
    }

    render() {
      const offers = [...store.offers.values()];
      const fresh = offers.filter((offer) => !this.known.has(offer.reservation_id));
      this.known = new Set(offers.map((offer) => offer.reservation_id));
      this.replaceChildren(
        ...(offers.length ? offers.map((offer) => this.card(offer)) : [this.empty()]),
      );
      for (const offer of fresh) {
        if (offer.auto_accept) {
          this.accept(offer);
          continue;
        }
        chime();
        const channel = i18n.channel(offer.channel);
        const customer = offer.customer_name || i18n.t("unknown_customer");
        announce(i18n.t("offer_from", { channel, customer }), { urgent: true });
        notifyIfHidden(i18n.t("new_offer", { channel }), offer.customer_name || "");
      }
    }

    empty() {
      return el("p", { class: "empty muted", role: "listitem" }, i18n.t("no_offers"));
    }

    card(offer) {
      const channel = i18n.channel(offer.channel);
      const customer = offer.customer_name || i18n.t("unknown_customer");
      const title = i18n.t("offer_from", { channel, customer });
      const waited = offer.waiting_since ? (Date.now() - Date.parse(offer.waiting_since)) / 1000 : 0;
      const id = `offer-${offer.reservation_id}`;
      return el(
        "div",
        { class: "offer", role: "listitem", "aria-labelledby": id, "data-reservation": offer.reservation_id },
        el("span", { class: `channel-badge ch-${offer.channel}`, "aria-hidden": "true" }, channel.slice(0, 1)),
        el(
          "div",
          { class: "offer-body" },
          el("h3", { id }, title),
          el(
            "p",
            { class: "muted" },
            i18n.t("queue_wait", { queue: offer.queue_name || "—", wait: i18n.duration(waited) }),
          ),
          offer.subject ? el("p", { class: "offer-subject" }, offer.subject) : null,
          offer.transfer_note
            ? el("p", { class: "offer-note" }, i18n.t("transfer_note", { note: offer.transfer_note }))
            : null,
          el("p", { class: "countdown", "data-expires": offer.expires_at }, this.left(offer.expires_at)),
        ),
        el(
          "div",
          { class: "offer-actions" },
          el("button", { type: "button", class: "button primary", onclick: () => this.accept(offer) }, i18n.t("accept")),
          el("button", { type: "button", class: "button subtle", onclick: () => this.reject(offer) }, i18n.t("reject")),
        ),
      );
    }

    left(expiresAt) {
      const seconds = Math.max(0, Math.round((Date.parse(expiresAt) - Date.now()) / 1000));
      return i18n.t("expires_in", { seconds });
    }

    countdown() {
      for (const node of this.querySelectorAll(".countdown")) {
        node.textContent = this.left(node.dataset.expires);
      }
    }

    async accept(offer) {
      if (this.busy.has(offer.reservation_id)) return;
      this.busy.add(offer.reservation_id);
      try {
        await api.post(`/reservations/${offer.reservation_id}/accept`);
        store.accepted(offer);
      } catch (error) {
        store.offers.delete(offer.reservation_id);
        this.render();
        document.dispatchEvent(new CustomEvent("desk-error", { detail: error }));
      } finally {
        this.busy.delete(offer.reservation_id);
      }
    }

    async reject(offer) {
      try {
        await api.post(`/reservations/${offer.reservation_id}/reject`);
      } catch (error) {
        document.dispatchEvent(new CustomEvent("desk-error", { detail: error }));
      }
      store.offers.delete(offer.reservation_id);
      this.render();
    }

    /** Alt+A: the first offer. */
    acceptFirst() {
      const [first] = store.offers.values();
      if (first) this.accept(first);
    }
  }
  customElements.define("cx-offers", Offers);
}
