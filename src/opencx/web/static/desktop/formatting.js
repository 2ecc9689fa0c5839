// Formatting an e-mail answer: a toolbar and Ctrl+B / Ctrl+I that write light markup
// in the reply box (**bold**, *italic*, "- " and "1. " lists, [words](address)). The
// server makes the e-mail's HTML and text parts from it (opencx.core.rich_text), so
// what is typed stays plain text here and nothing the browser makes is ever sent.

import { el } from "./i18n.js";

/** A toolbar of formatting buttons acting on `textarea`; `changed` runs after each. */
export function formattingToolbar(textarea, i18n, changed) {
  const act = (action) => () => {
    action(textarea, i18n);
    changed();
    textarea.focus();
  };
  const button = (label, text, action, extra = {}) =>
    el("button", { type: "button", class: "format-button", "aria-label": label, title: label, onclick: act(action), ...extra }, text);
  return el(
    "div",
    { class: "format-bar", role: "toolbar", "aria-label": i18n.t("formatting"), "aria-controls": textarea.id },
    button(i18n.t("bold"), el("b", {}, "B"), (t) => wrap(t, "**")),
    button(i18n.t("italic"), el("i", {}, "I"), (t) => wrap(t, "*")),
    button(i18n.t("bulleted_list"), "•", (t) => prefixLines(t, () => "- ")),
    button(i18n.t("numbered_list"), "1.", (t) => prefixLines(t, (n) => `${n}. `)),
    // A word rather than an emoji: Debian's default fonts have no link glyph.
    button(i18n.t("link"), el("u", {}, i18n.t("link")), link, { "aria-haspopup": "dialog" }),
  );
}

/** Ctrl+B and Ctrl+I in the reply box; true when the key was one of them. */
export function formattingKey(event, textarea) {
  if (!(event.ctrlKey || event.metaKey) || event.altKey) return false;
  const key = event.key.toLowerCase();
  if (key !== "b" && key !== "i") return false;
  event.preventDefault();
  wrap(textarea, key === "b" ? "**" : "*");
  return true;
}

function wrap(textarea, marker) {
  const { selectionStart: start, selectionEnd: end, value } = textarea;
  const selected = value.slice(start, end);
  textarea.setRangeText(`${marker}${selected}${marker}`, start, end, "end");
  if (!selected) textarea.setSelectionRange(start + marker.length, start + marker.length);
  else textarea.setSelectionRange(start + marker.length, end + marker.length);
}

function prefixLines(textarea, prefix) {
  const { value } = textarea;
  const start = value.lastIndexOf("\n", textarea.selectionStart - 1) + 1;
  let end = value.indexOf("\n", textarea.selectionEnd);
  if (end === -1) end = value.length;
  const lines = value.slice(start, end).split("\n");
  const listed = lines.map((line, n) => prefix(n + 1) + line.replace(/^(?:[-*] |\d+[.)] )/, "")).join("\n");
  textarea.setRangeText(listed, start, end, "end");
}

function link(textarea, i18n) {
  const { selectionStart: start, selectionEnd: end, value } = textarea;
  const address = window.prompt(i18n.t("link_address"), "https://");
  if (!address || !/^(https?:\/\/|mailto:)\S+$/i.test(address.trim())) return;
  const words = value.slice(start, end) || address.trim();
  textarea.setRangeText(`[${words}](${address.trim()})`, start, end, "end");
}
