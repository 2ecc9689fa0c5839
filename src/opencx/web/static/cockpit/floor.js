// A queue's members by state and the estimated wait of a newcomer, from the live view:
// the same rules as the server's (opencx.core._live_queues.staffing, estimated_wait,
// and routing's wait_at_position), with the queue's AHT of the day from the interval
// report where known, else its expected handle time. A member is busy with a contact in hand, else
// available when their presence is, else away; offline members are not counted. A
// member is free when available with fewer contacts in hand than slots.

export function staffing(store, queue) {
  const counts = { available: 0, busy: 0, away: 0, free: 0, slots: 0 };
  for (const [userId, slots] of queue.members) {
    const agent = store.agents.get(userId);
    if (!agent || agent.presence === "offline") continue;
    const inHand = agent.contacts.size;
    counts.slots += slots;
    if (inHand > 0) counts.busy += 1;
    else if (agent.presence === "available") counts.available += 1;
    else counts.away += 1;
    if (agent.presence === "available" && inHand < slots) counts.free += 1;
  }
  return counts;
}

/** Seconds a newcomer should wait; null when no member is logged in. */
export function estimatedWait(queue, counts, aht) {
  if (counts.slots === 0) return null;
  const place = queue.waiting.size + 1;
  if (place <= counts.free) return 0;
  const handle = aht ?? queue.expected_handle_seconds;
  return ((place - counts.free) * handle) / counts.slots;
}
