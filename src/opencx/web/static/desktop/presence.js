// The presence menu in the top bar and the time spent in the current state.

export function mountPresence({ store, api, i18n, userId }) {
  const select = document.querySelector('select[name="presence"]');
  const since = document.querySelector(".presence-time");
  const box = select.closest(".presence");

  function valueOf(me) {
    return me.presence === "not_ready" ? `not_ready:${me.reason}` : me.presence;
  }
  function show() {
    if (!store.me) return;
    const value = valueOf(store.me);
    const option = [...select.options].find((o) => o.value === value);
    if (option) option.hidden = false; // a reason routing set, shown while it holds
    select.value = value;
    select.disabled = false;
    box.dataset.presence = store.me.presence;
    tick();
  }
  function tick() {
    if (!store.me) return;
    since.textContent = i18n.duration((Date.now() - Date.parse(store.me.since)) / 1000);
  }

  select.addEventListener("change", async () => {
    const [state, reason] = select.value.split(":");
    const before = store.me;
    if (before && select.value === valueOf(before)) return;
    select.disabled = true;
    try {
      await api.put(`/users/${userId}/presence`, { state, reason: reason || null });
    } catch (error) {
      if (before) select.value = valueOf(before);
      document.dispatchEvent(new CustomEvent("desk-error", { detail: error }));
    } finally {
      select.disabled = false;
    }
  });
  store.addEventListener("change", (event) => {
    if (event.detail === "presence" || event.detail === "all") show();
  });
  setInterval(tick, 1000);
}
