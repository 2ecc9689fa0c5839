// The agent desktop: reads the page's configuration, opens the live view and mounts the
// parts. Each part lives in its own module, by feature, like the server.

import { ApiError, makeApi } from "./api.js";
import { defineContext } from "./context.js";
import { defineConversation } from "./conversation.js";
import { trapFocus } from "./dialog.js";
import { mountContextDrawer } from "./drawer.js";
import { makeI18n } from "./i18n.js";
import { defineInbox } from "./inbox.js";
import { AgentLive } from "./live.js";
import { askPermissionOnFirstClick } from "./notify.js";
import { defineOffers } from "./offers.js";
import { mountPresence } from "./presence.js";
import { DeskStore } from "./store.js";
import { defineWorklist } from "./worklist.js";

const config = JSON.parse(document.getElementById("desk-config").textContent);
const i18n = makeI18n(config);
const api = makeApi(config.csrf, i18n);
const userId = config.user.id;
const store = new DeskStore(userId);
const live = new AgentLive("/ws/agent?inbox=1");
const drawer = mountContextDrawer({ store });
const parts = { store, api, i18n, userId, drawer };

defineOffers(parts);
defineWorklist(parts);
defineConversation(parts);
defineContext(parts);
defineInbox(parts);
mountPresence(parts);
askPermissionOnFirstClick();

const connection = document.querySelector(".connection");
live.addEventListener("status", (event) => {
  connection.dataset.connection = event.detail;
  connection.textContent = i18n.t(event.detail);
});
let opened = false;
live.addEventListener("snapshot", (event) => {
  store.snapshot(event.detail);
  if (!opened && config.open_conversation) {
    opened = true;
    openByLink(config.open_conversation).catch((error) => document.dispatchEvent(new CustomEvent("desk-error", { detail: error })));
  }
});
live.addEventListener("event", (event) => store.apply(event.detail));
live.addEventListener("inbox", (event) => store.dispatchEvent(new CustomEvent("inbox-changed", { detail: event.detail })));
live.start();

/** /desktop/conversations/{id}: the conversation, in hand or only to read. */
async function openByLink(conversationId) {
  if (store.conversations.has(conversationId)) {
    store.select(conversationId);
    return;
  }
  const conversation = await api.get(`/conversations/${conversationId}`);
  const customer = await api.get(`/customers/${conversation.customer_id}`).catch(() => null);
  const timeline = await api.get(`/conversations/${conversationId}/timeline?limit=1`);
  const first = timeline.items[0] || {};
  store.view({
    conversation_id: conversationId,
    customer_id: conversation.customer_id,
    customer_name: customer ? customer.display_name : null,
    subject: conversation.subject,
    channel: (first.interaction || first.message || {}).channel || "email",
    queue_name: null,
  });
}

document.addEventListener("open-conversation", (event) =>
  openByLink(event.detail).catch((error) => document.dispatchEvent(new CustomEvent("desk-error", { detail: error }))),
);

// The address follows the conversation shown, so a reload or a shared link opens it.
store.addEventListener("change", () => {
  const path = store.selected ? `/desktop/conversations/${store.selected}` : "/desktop";
  if (location.pathname !== path) history.replaceState(null, "", path);
});

// Errors the parts report (an error, or a line already written): one line at the foot
// of the page, gone after a while; the server's own words in its tooltip.
const toast = document.createElement("p");
toast.className = "toast";
toast.setAttribute("role", "alert");
toast.hidden = true;
document.body.append(toast);
let toastTimer = null;
function showToast(text, detail = "") {
  toast.textContent = text;
  toast.title = detail && detail !== text ? detail : "";
  toast.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (toast.hidden = true), 6000);
}
document.addEventListener("desk-error", (event) => {
  const error = event.detail;
  showToast(i18n.t("action_failed", { detail: errorLine(error) }), error?.detail ?? error?.message ?? "");
});
/** An ApiError's message is written for the agent (api.js); another error's is not,
 * outside English. */
function errorLine(error) {
  if (typeof error === "string") return error;
  return error instanceof ApiError || i18n.locale.startsWith("en") ? error.message : i18n.t("errors.server");
}
document.addEventListener("desk-note", (event) => showToast(event.detail));

// Keyboard shortcuts (listed in the dialog "?" opens).
const shortcuts = document.getElementById("shortcuts");
trapFocus(shortcuts);
document.querySelector('[data-action="shortcuts"]').addEventListener("click", () => shortcuts.showModal());
document.addEventListener("keydown", (event) => {
  const typing = event.target.closest("input, textarea, select");
  if (event.altKey && !event.ctrlKey && !event.metaKey) {
    // event.code, not event.key: Alt+A types "å" on some keyboards
    const action = {
      KeyA: () => document.querySelector("cx-offers").acceptFirst(),
      KeyN: () => store.next(),
      KeyW: () => document.querySelector("cx-conversation").wrapUpShown(),
    }[event.code];
    if (action) {
      event.preventDefault();
      action();
    }
  } else if (event.key === "?" && !typing) {
    event.preventDefault();
    shortcuts.showModal();
  }
});
