// The supervisor's view as the server's reducers hold it (opencx.core._live_supervisor
// and _live_queues): the snapshot of /ws/supervisor, then each event applied the same
// way. Listeners get "change" after each.

const WAITING = new Set(["queued", "offered"]);
const id = (value) => (Number.isInteger(value) ? value : null);

export class CockpitStore extends EventTarget {
  constructor() {
    super();
    this.agents = new Map();
    this.sites = new Map();
    this.queues = new Map();
    this.help = new Map();
  }

  snapshot(data) {
    this.agents = new Map(data.agents.map((a) => [a.user_id, { ...a, eventId: 0, contacts: new Set(a.contacts) }]));
    this.sites = new Map(data.sites.map((s) => [s.id, { ...s }]));
    this.queues = new Map(
      data.queues.map((q) => [
        q.id,
        { ...q, waiting: new Map(q.waiting.map((c) => [c.interaction_id, c.since])), members: new Map(q.members.map((m) => [m.user_id, m.slots])) },
      ]),
    );
    this.help = new Map(data.help_requests.map((h) => [h.id, h]));
    this._changed("snapshot");
  }

  apply(event) {
    const handler = HANDLERS[event.type];
    if (handler) handler(this, event, event.payload || {});
    this._changed(event.type);
  }

  /** The contacts waiting in a queue, the longest waiting first: [{interaction_id, since}]. */
  waitingIn(queue) {
    return [...queue.waiting].map(([interaction, since]) => ({ interaction_id: interaction, since })).sort((a, b) => (a.since < b.since ? -1 : a.since > b.since ? 1 : a.interaction_id - b.interaction_id));
  }

  _changed(reason) {
    this.dispatchEvent(new CustomEvent("change", { detail: reason }));
  }

  _wait(interactionId, queueId, since) {
    for (const queue of this.queues.values()) queue.waiting.delete(interactionId);
    const queue = this.queues.get(queueId);
    if (queue && since) queue.waiting.set(interactionId, since);
  }

  _leave(interactionId) {
    for (const queue of this.queues.values()) queue.waiting.delete(interactionId);
  }
}

function presence(store, event, p) {
  const agent = store.agents.get(event.entity_id);
  if (!agent || (event.id && event.id <= agent.eventId)) return;
  Object.assign(agent, { presence: p.presence, reason: p.reason ?? null, since: p.since, eventId: event.id || agent.eventId });
}

function site(store, event, p) {
  let found = store.sites.get(event.entity_id);
  if (!found) {
    if (!String(p.action || "").endsWith("create") || !("name" in p)) return;
    found = { id: event.entity_id, name: p.name, kind: "internal", is_open: true, state: "open" };
    store.sites.set(found.id, found);
  }
  if ("name" in p) found.name = String(p.name);
  if ("kind" in p) found.kind = String(p.kind);
  if ("is_open" in p) found.is_open = String(p.is_open).toLowerCase() === "true";
  let routing = found.is_open ? found.state : "closed";
  if ("routing_state" in p) routing = String(p.routing_state);
  else if ("is_open" in p) routing = found.is_open ? "open" : "closed";
  found.state = found.is_open ? routing : "closed";
}

function interaction(store, event, p) {
  if (WAITING.has(p.state) && store.queues.has(id(p.queue_id))) store._wait(event.entity_id, p.queue_id, p.waiting_since);
  else store._leave(event.entity_id);
}

function step(store, event, p) {
  const interactionId = id(p.interaction_id);
  if (interactionId === null || !("waiting_since" in p) || id(p.queue_id) === null) return;
  if (store.queues.has(p.queue_id)) store._wait(interactionId, p.queue_id, p.waiting_since);
  else store._leave(interactionId);
}

function reservation(store, event, p) {
  const agent = store.agents.get(id(p.worker_id));
  if (!agent) return;
  if (p.state === "accepted") agent.contacts.add(p.task_id);
  else agent.contacts.delete(p.task_id);
}

function taskEnded(store, event) {
  for (const agent of store.agents.values()) agent.contacts.delete(event.entity_id);
}

const HANDLERS = {
  "agent.presence_changed": presence,
  "site.changed": site,
  "interaction.created": interaction,
  "interaction.state_changed": interaction,
  "task.updated": step,
  "reservation.created": reservation,
  "reservation.updated": reservation,
  "task.ended": taskEnded,
  "help.requested": (store, event) => event.details && store.help.set(event.entity_id, event.details),
  "help.answered": (store, event) => store.help.delete(event.entity_id),
};
