// A live view over a WebSocket (/ws/agent for the desktop, /ws/supervisor for the
// cockpit): a snapshot, then numbered events (and, for a desktop following its inbox,
// numbered notices that a view of it changed). A gap in the numbering, a resync or a
// dropped connection brings a fresh snapshot; nothing here polls. Listeners get
// "snapshot" (the whole view) and "event" (one domain event).

const PING_EVERY_MS = 25_000;
const MAX_RETRY_MS = 15_000;

export class AgentLive extends EventTarget {
  constructor(path = "/ws/agent") {
    super();
    this.path = path;
    this.status = "connecting";
    this._socket = null;
    this._seq = -1;
    this._retry = 0;
    this._ping = null;
  }

  start() {
    this._open();
    window.addEventListener("online", () => this._socket || this._open());
  }

  _setStatus(status) {
    if (status === this.status) return;
    this.status = status;
    this.dispatchEvent(new CustomEvent("status", { detail: status }));
  }

  _open() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(`${scheme}//${location.host}${this.path}`);
    this._socket = socket;
    this._seq = -1;
    socket.addEventListener("message", (message) => this._receive(JSON.parse(message.data)));
    socket.addEventListener("close", (closed) => this._closed(socket, closed.code));
    clearInterval(this._ping);
    this._ping = setInterval(() => {
      if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: "ping" }));
    }, PING_EVERY_MS);
  }

  _receive(message) {
    if (message.type === "pong" || message.type === "error") return;
    if (message.seq !== this._seq + 1) {
      this._socket.close(4000, "gap"); // lost messages: start again from a snapshot
      return;
    }
    this._seq = message.seq;
    if (message.type === "snapshot") {
      this._retry = 0;
      this._setStatus("connected");
      this.dispatchEvent(new CustomEvent("snapshot", { detail: message.data }));
    } else if (message.type === "event") {
      // New offers and help requests come with what the event leaves out (``details``).
      const event = message.details ? { ...message.event, details: message.details } : message.event;
      this.dispatchEvent(new CustomEvent("event", { detail: event }));
    } else if (message.type === "inbox") {
      // Colleagues' work moved the inbox views it names (/ws/agent?inbox=1).
      this.dispatchEvent(new CustomEvent("inbox", { detail: message.views }));
    }
  }

  _closed(socket, code) {
    if (socket !== this._socket) return;
    this._socket = null;
    clearInterval(this._ping);
    if (code === 4401) {
      this._setStatus("signed_out");
      return;
    }
    this._setStatus("reconnecting");
    const wait = Math.min(MAX_RETRY_MS, 500 * 2 ** this._retry) * (0.75 + Math.random() / 2);
    this._retry += 1;
    setTimeout(() => this._open(), wait);
  }
}
