// What the desktop shows, kept from the live view: the agent's presence, the offers
// waiting for an answer, and the conversations in hand. Applies the events the way
// docs/realtime.md says (core/live_views.py is the reference) and tells the screen.

export class DeskStore extends EventTarget {
  constructor(userId) {
    super();
    this.userId = userId;
    this.me = null;
    this.offers = new Map();
    this.conversations = new Map();
    this.helpPending = new Set();
    this.selected = null; // conversation id shown in the work area
  }

  snapshot(data) {
    this.me = { presence: data.presence, reason: data.reason, since: data.since };
    this.helpPending = new Set(data.help_answers_pending || []);
    this.offers = new Map((data.offers || []).map((offer) => [offer.reservation_id, offer]));
    const held = (data.conversations || []).map((work) => [work.conversation_id, work]);
    const viewed = [...this.conversations].filter(([id, work]) => work.state === "viewing" && !held.some(([h]) => h === id));
    this.conversations = new Map([...held, ...viewed]);
    if (this.selected !== null && !this.conversations.has(this.selected)) this.selected = null;
    if (this.selected === null && this.conversations.size) this.selected = held[0][0];
    this._changed("all");
  }

  apply(event) {
    const payload = event.payload || {};
    switch (event.type) {
      case "agent.presence_changed":
        if (event.entity_id !== this.userId) return;
        this.me = { presence: payload.presence, reason: payload.reason, since: payload.since };
        this._changed("presence");
        return;
      case "reservation.created":
      case "reservation.updated":
        if (payload.worker_id !== this.userId) return;
        this._reservation(event, payload);
        return;
      case "interaction.state_changed":
        this._interaction(event, payload);
        this.dispatchEvent(new CustomEvent("domain-event", { detail: event }));
        return;
      case "help.requested":
        this.helpPending.add(event.entity_id);
        this.dispatchEvent(new CustomEvent("domain-event", { detail: event }));
        return;
      case "help.answered":
        this.helpPending.delete(event.entity_id);
        this.dispatchEvent(new CustomEvent("domain-event", { detail: event }));
        return;
      default:
        this.dispatchEvent(new CustomEvent("domain-event", { detail: event }));
    }
  }

  _reservation(event, payload) {
    const offer = this.offers.get(event.entity_id);
    if (payload.state === "pending") {
      this.offers.set(event.entity_id, event.details || { ...payload, ...offer });
      this._changed("offers");
      return;
    }
    this.offers.delete(event.entity_id);
    if (payload.state === "accepted") {
      const known = [...this.conversations.values()].find((work) => work.task_id === payload.task_id);
      const base = offer || known || payload;
      this.conversations.set(payload.conversation_id, {
        ...base,
        task_id: payload.task_id,
        interaction_id: payload.interaction_id,
        conversation_id: payload.conversation_id,
        channel: payload.channel,
        queue_id: payload.queue_id,
        state: "active",
        since: payload.accepted_at || new Date().toISOString(),
        wrap_up_until: null,
      });
      if (this.selected === null) this.selected = payload.conversation_id;
    } else if (payload.state === "completed") {
      const work = this.conversations.get(payload.conversation_id);
      if (work && work.task_id === payload.task_id && work.state !== "wrap_up") this._remove(payload.conversation_id);
    }
    this._changed("all");
  }

  _interaction(event, payload) {
    const entry = [...this.conversations.values()].find((work) => work.interaction_id === event.entity_id && work.task_id);
    if (!entry) return;
    if (payload.state === "active" || payload.state === "held") {
      this.conversations.set(entry.conversation_id, { ...entry, state: payload.state });
    } else if (payload.state === "wrap_up") {
      this.conversations.set(entry.conversation_id, { ...entry, state: "wrap_up", wrap_up_until: payload.wrap_up_until || null });
    } else {
      this._remove(entry.conversation_id);
    }
    this._changed("all");
  }

  _remove(conversationId) {
    this.conversations.delete(conversationId);
    if (this.selected === conversationId) {
      this.selected = this.conversations.size ? [...this.conversations.keys()][0] : null;
    }
  }

  /** The agent accepted: show the conversation at once, before the feed confirms it. */
  accepted(offer) {
    this.offers.delete(offer.reservation_id);
    if (offer.conversation_id !== null && offer.conversation_id !== undefined) {
      if (!this.conversations.has(offer.conversation_id)) {
        this.conversations.set(offer.conversation_id, {
          ...offer,
          state: "active",
          since: new Date().toISOString(),
          wrap_up_until: null,
        });
      }
      this.selected = offer.conversation_id;
    }
    this._changed("all");
  }

  select(conversationId) {
    this.selected = conversationId;
    this._changed("selected");
  }

  /** A conversation opened to read (by link, from the inbox): not in hand, no task. */
  view(conversation) {
    if (!this.conversations.has(conversation.conversation_id)) {
      this.conversations.set(conversation.conversation_id, { ...conversation, state: "viewing" });
    }
    this.select(conversation.conversation_id);
  }

  /** The next conversation after the one shown, wrapping round. */
  next() {
    const ids = [...this.conversations.keys()];
    if (!ids.length) return;
    const at = ids.indexOf(this.selected);
    this.select(ids[(at + 1) % ids.length]);
  }

  update(conversationId, changes) {
    const work = this.conversations.get(conversationId);
    if (!work) return;
    this.conversations.set(conversationId, { ...work, ...changes });
    this._changed("conversations");
  }

  drop(conversationId) {
    this._remove(conversationId);
    this._changed("all");
  }

  _changed(what) {
    this.dispatchEvent(new CustomEvent("change", { detail: what }));
  }
}
