// Texts and formats in the page's language: the texts come translated from the server
// (gettext catalogs), dates and times are formatted by the browser for the page's
// locale and the agent's time zone.

export function makeI18n(config) {
  const texts = config.texts;
  const time = new Intl.DateTimeFormat(config.locale, {
    hour: "2-digit",
    minute: "2-digit",
    timeZone: config.timezone,
  });
  const dateTime = new Intl.DateTimeFormat(config.locale, {
    dateStyle: "medium",
    timeStyle: "short",
    timeZone: config.timezone,
  });
  const day = new Intl.DateTimeFormat(config.locale, { dateStyle: "medium", timeZone: config.timezone });
  return {
    locale: config.locale,
    t(key, values) {
      let text = key.split(".").reduce((node, part) => (node ? node[part] : undefined), texts);
      if (typeof text !== "string") text = key;
      for (const [name, value] of Object.entries(values || {})) {
        text = text.split(`%(${name})s`).join(String(value));
      }
      return text;
    },
    channel: (code) => (texts.channels && texts.channels[code]) || code,
    reason: (code) => (texts.reasons && texts.reasons[code]) || code,
    time: (iso) => time.format(new Date(iso)),
    when(iso) {
      const at = new Date(iso);
      return day.format(at) === day.format(new Date()) ? time.format(at) : dateTime.format(at);
    },
    /** A duration as a clock shows it: 0:42, 12:05, 1:02:03. */
    duration(seconds) {
      const s = Math.max(0, Math.floor(seconds));
      const h = Math.floor(s / 3600);
      const m = Math.floor((s % 3600) / 60);
      const rest = String(s % 60).padStart(2, "0");
      return h ? `${h}:${String(m).padStart(2, "0")}:${rest}` : `${m}:${rest}`;
    },
  };
}

/** A DOM element: el("button", {class: "x", onclick: f}, "text", child). */
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "text") node.textContent = value;
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}
