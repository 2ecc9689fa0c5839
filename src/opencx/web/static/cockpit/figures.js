// The day's figures per queue (service level, ASA, abandons), each queue's service
// level of the current 15 minutes, and each agent's occupancy today, from the interval
// report (GET /api/v1/reports/intervals, docs/kpis.md): the same KPI definitions as
// every report. The report is folded from the event log about once a minute: it is
// read when the page opens and again, at most every REFRESH_MS, when the live view
// says a contact left a queue or an agent's presence changed.

const REFRESH_MS = 30_000;
const QUARTER_MS = 15 * 60 * 1000;

export class TodayFigures extends EventTarget {
  constructor(api, enabled) {
    super();
    this._api = api;
    this._enabled = enabled;
    this._byQueue = new Map();
    this._nowByQueue = new Map();
    this._byAgent = new Map();
    this._rowsByQueue = new Map();
    this._last = 0;
    this._timer = null;
    this.failed = false;
  }

  of(queueId) {
    return this._byQueue.get(queueId) || null;
  }

  /** The queue's figures of the current 15 minutes, or null. */
  now(queueId) {
    return this._nowByQueue.get(queueId) || null;
  }

  /** The queue's rows of the day, one per 15 minutes with a contact, oldest first. */
  day(queueId) {
    return this._rowsByQueue.get(queueId) || [];
  }

  /** The agent's figures of the day, or null. */
  agent(agentId) {
    return this._byAgent.get(agentId) || null;
  }

  /** Read again soon: at once the first time, then at most every REFRESH_MS. */
  refresh() {
    if (!this._enabled || this._timer) return;
    const wait = Math.max(0, this._last + REFRESH_MS - Date.now());
    this._timer = setTimeout(() => this._read(), wait);
  }

  async _read() {
    this._last = Date.now();
    const midnight = new Date();
    midnight.setHours(0, 0, 0, 0);
    // Up to the end of the current quarter of an hour: the report takes whole intervals.
    const until = new Date(Math.ceil((Date.now() + 1) / QUARTER_MS) * QUARTER_MS);
    const current = new Date(until.getTime() - QUARTER_MS).getTime();
    const query = `from=${encodeURIComponent(midnight.toISOString())}&to=${encodeURIComponent(until.toISOString())}`;
    try {
      const [queues, agents] = await Promise.all([
        this._api.get(`/reports/intervals?${query}&group=queue`),
        this._api.get(`/reports/intervals?${query}&group=agent`),
      ]);
      this._byQueue = new Map(queues.totals.filter((row) => row.queue_id != null).map((row) => [row.queue_id, row.kpis]));
      const now = queues.intervals.filter((row) => row.queue_id != null && Date.parse(row.start) === current);
      this._nowByQueue = new Map(now.map((row) => [row.queue_id, row.kpis]));
      this._rowsByQueue = new Map();
      for (const row of queues.intervals.filter((r) => r.queue_id != null)) {
        if (!this._rowsByQueue.has(row.queue_id)) this._rowsByQueue.set(row.queue_id, []);
        this._rowsByQueue.get(row.queue_id).push(row);
      }
      for (const rows of this._rowsByQueue.values()) rows.sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
      this._byAgent = new Map(agents.totals.filter((row) => row.agent_id != null).map((row) => [row.agent_id, row.kpis]));
      this.failed = false;
    } catch {
      this.failed = true;
    } finally {
      this._timer = null;
      this.dispatchEvent(new CustomEvent("change"));
    }
  }
}
