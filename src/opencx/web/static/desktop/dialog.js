// Modal dialogs: focus stays inside while one is open (Tab and Shift+Tab wrap around)
// and goes back where it was when it closes, or to the conversation shown when that
// control is gone. A modal form: a title, fields, Cancel and a primary button;
// ``submit`` does the work, and what it throws is shown in the dialog, which stays
// open for another try.

import { el } from "./i18n.js";

const FOCUSABLE = "button, [href], input, select, textarea, [tabindex]:not([tabindex='-1'])";

/** Keeps Tab inside ``dialog`` while it is open, and puts focus back on close. */
export function trapFocus(dialog) {
  let before = null;
  const showModal = dialog.showModal.bind(dialog);
  dialog.showModal = () => {
    before = document.activeElement;
    showModal();
  };
  dialog.addEventListener("keydown", (event) => {
    if (event.key !== "Tab") return;
    const stops = [...dialog.querySelectorAll(FOCUSABLE)].filter((node) => !node.disabled && !node.hidden && node.getClientRects().length);
    if (!stops.length) return;
    const first = stops[0];
    const last = stops[stops.length - 1];
    if (event.shiftKey && document.activeElement === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  });
  dialog.addEventListener("close", () => {
    const back = before && before.isConnected ? before : document.querySelector('cx-worklist [aria-selected="true"]') || document.querySelector("cx-conversation");
    before = null;
    back?.focus();
  });
}

export function openFormDialog({ i18n, id, title, fields, submitLabel, submit, focus }) {
  const error = el("p", { class: "form-error", role: "alert" });
  const dialog = el(
    "dialog",
    { class: "desk-dialog", "aria-labelledby": `${id}-title` },
    el("h2", { id: `${id}-title` }, title),
    el(
      "form",
      {
        method: "dialog",
        class: "dialog-form",
        onsubmit: async (event) => {
          if (event.submitter && event.submitter.value === "cancel") return;
          event.preventDefault();
          try {
            await submit();
            dialog.close();
          } catch (failure) {
            error.textContent = i18n.t("action_failed", { detail: failure.message });
            error.title = failure.detail && failure.detail !== failure.message ? failure.detail : "";
          }
        },
      },
      fields,
      error,
      el(
        "div",
        { class: "dialog-actions" },
        el("button", { type: "submit", value: "cancel", class: "button subtle", formnovalidate: true }, i18n.t("cancel")),
        el("button", { type: "submit", value: "confirm", class: "button primary" }, submitLabel),
      ),
    ),
  );
  trapFocus(dialog);
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  focus?.focus();
}
