// A queue's alert thresholds, edited in a small dialog (PUT /api/v1/queues/{id}/thresholds).
// The page shows the new thresholds when the server's queue.changed brings a fresh
// snapshot, on every supervisor's cockpit at once; an empty field is no threshold.

import { el } from "../desktop/i18n.js";

export function makeThresholds({ api, i18n, enabled }) {
  const dialog = document.getElementById("thresholds-dialog");
  const form = dialog.querySelector("form");
  const title = dialog.querySelector("h2");
  const error = dialog.querySelector(".form-error");
  const fields = {
    max_waiting: form.elements.max_waiting,
    max_longest_wait_seconds: form.elements.max_longest_wait_seconds,
    min_service_level: form.elements.min_service_level,
  };
  let current = null;

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (event.submitter && event.submitter.value === "cancel") return dialog.close();
    const number = (input) => (input.value.trim() === "" ? null : Number(input.value));
    const percent = number(fields.min_service_level);
    const body = {
      max_waiting: number(fields.max_waiting),
      max_longest_wait_seconds: number(fields.max_longest_wait_seconds),
      min_service_level: percent == null ? null : percent / 100,
    };
    try {
      await api.put(`/queues/${current.id}/thresholds`, body);
      dialog.close();
    } catch (failure) {
      error.hidden = false;
      error.textContent = i18n.t("thresholds_failed", { detail: failure.message });
    }
  });

  function open(queue) {
    current = queue;
    const t = queue.thresholds || {};
    title.textContent = i18n.t("thresholds_of", { queue: queue.name });
    fields.max_waiting.value = t.max_waiting ?? "";
    fields.max_longest_wait_seconds.value = t.max_longest_wait_seconds ?? "";
    fields.min_service_level.value = t.min_service_level == null ? "" : Math.round(t.min_service_level * 100);
    error.hidden = true;
    dialog.showModal();
    fields.max_waiting.focus();
  }

  /** The row's button: opens the dialog (nothing for who may not set thresholds). */
  return function button(queue) {
    if (!enabled) return null;
    return el(
      "button",
      { type: "button", class: "button subtle small", "aria-label": i18n.t("thresholds_of", { queue: queue.name }), onclick: () => open(queue) },
      i18n.t("thresholds"),
    );
  };
}
