// Channel accounts and mailboxes (GET /channel-accounts): the addresses customers write
// to, by channel, and the queue that receives what comes in. Admins change them
// (directory.write); supervisors read those of the sites they see. A credential is
// write-only: the API answers only whether one is stored (has_secret).

import { el } from "../desktop/i18n.js";
import { button, deleteAfterAsking, editor, field, frame, nameOf, notice, optionsOf, split, table, valueOf } from "./kit.js";

//: The providers that carry each channel, as the API's rule says (it checks again).
const PROVIDERS = {
  email: ["smtp", "imap"],
  sms: ["twilio"],
  whatsapp: ["meta", "twilio"],
  messenger: ["meta"],
  instagram: ["meta"],
  twitter: ["twitter"],
  review: ["google_play", "app_store"],
  chat: ["widget"],
};
//: The keys of each provider's settings (the API checks their values).
const SETTINGS = {
  smtp: ["threading"],
  imap: ["host", "port", "security", "username", "folder", "processed_folder", "threading"],
  google_play: ["package_name"],
  app_store: ["app_id", "issuer_id", "key_id"],
  twitter: ["user_id", "client_id"],
  widget: ["allowed_origins", "title_en", "title_fr", "offline_mailbox", "invitations"],
};
const CHANNELS = Object.keys(PROVIDERS);

export async function mountChannels(root, { api, i18n, can }) {
  const t = (key, values) => i18n.t(`channel.${key}`, values);
  const mayWrite = can.directory;
  const body = frame(root, {
    title: i18n.t("sections.channels"),
    intro: t("intro"),
    readOnly: !mayWrite,
    i18n,
    actions: mayWrite ? [button(t("new_title"), () => edit(null), { kind: "primary" })] : [],
  });
  const queues = await api.all("/queues", 10);
  const channelName = (channel) => i18n.t(`channels.${channel}`);
  const providerName = (provider) => t(`providers.${provider}`);
  const show = field({ name: "channel", label: t("filter_channel"), type: "select", options: [["", t("every_channel")], ...CHANNELS.map((c) => [c, channelName(c)])] }, "");
  show.control.addEventListener("change", () => reload());
  const list = el("div", { class: "list" });
  const side = el("div", { class: "side" });
  body.append(el("div", { class: "list-filters narrow" }, show), split(list, side));

  async function reload() {
    const channel = show.control.value;
    const rows = await api.all(`/channel-accounts${channel ? `?channel=${channel}` : ""}`, 10);
    list.replaceChildren(
      table({
        caption: i18n.t("sections.channels"),
        i18n,
        rows,
        columns: [
          {
            label: t("name"),
            cell: (r) => el("span", {}, r.name, el("span", { class: "channel muted" }, r.address), r.is_active ? null : el("span", { class: "pill no" }, t("inactive"))),
          },
          { label: t("channel"), cell: (r) => channelName(r.channel) },
          { label: t("provider"), cell: (r) => providerName(r.provider), secondary: true },
          { label: t("queue_column"), cell: (r) => (r.queue_id ? nameOf(queues, r.queue_id, `#${r.queue_id}`) : el("span", { class: "muted" }, t("no_queue"))) },
          {
            label: t("credential"),
            secondary: true,
            cell: (r) => [
              r.has_secret ? el("span", { class: "pill yes" }, t("stored")) : "",
              r.poller.last_error ? el("p", { class: "field-error" }, t("poll_failed", { error: r.poller.last_error })) : null,
            ],
          },
        ],
        onRowAction: (r) =>
          mayWrite
            ? [
                button(i18n.t("edit"), () => edit(r), { label: `${i18n.t("edit")} ${r.name}` }),
                button(i18n.t("delete"), () => remove(r), { label: `${i18n.t("delete")} ${r.name}` }),
              ]
            : [],
      }),
    );
  }

  function edit(row) {
    const values = row || { channel: show.control.value || "email", provider: PROVIDERS[show.control.value || "email"][0], locale: "en", is_active: true, settings: {} };
    const channel = field({ name: "channel", label: t("channel"), type: "select", options: CHANNELS.map((c) => [c, channelName(c)]) }, values.channel);
    const provider = field({ name: "provider", label: t("provider"), type: "select", options: PROVIDERS[values.channel].map((p) => [p, providerName(p)]) }, values.provider);
    const name = field({ name: "name", label: t("name"), required: true }, values.name);
    const address = field({ name: "address", label: t("address"), required: true, help: t("address_help") }, values.address);
    const queue = field({ name: "queue_id", label: t("queue"), type: "select", options: optionsOf(queues, t("no_queue")) }, values.queue_id);
    const locale = field({ name: "locale", label: t("locale"), type: "select", options: [["en", "English"], ["fr", "Français"]] }, values.locale);
    const ack = field({ name: "auto_ack_hours", label: t("auto_ack"), type: "number", min: 1, help: t("auto_ack_help") }, values.auto_ack_hours);
    const active = field({ name: "is_active", label: t("active"), type: "checkbox" }, values.is_active);
    const settings = field({ name: "settings", label: t("settings"), type: "textarea", rows: 7, wide: true, code: true, help: " " }, JSON.stringify(values.settings, null, 2));
    const secret = field({ name: "secret", label: t("secret"), type: "password", wide: true, help: row && row.has_secret ? t("secret_stored") : t("secret_help") }, "");
    const forget = row && row.has_secret ? field({ name: "forget_secret", label: t("remove_secret"), type: "checkbox" }, false) : null;
    secret.control.setAttribute("autocomplete", "new-password");

    const helpOf = (node) => node.querySelector(".field-help");
    function follow() {
      const chosen = provider.control.value;
      const carriers = PROVIDERS[channel.control.value];
      provider.control.replaceChildren(...carriers.map((p) => el("option", { value: p, selected: p === chosen }, providerName(p))));
      const keys = SETTINGS[provider.control.value];
      helpOf(settings).textContent = keys ? t("settings_help", { keys: keys.join(", ") }) : t("no_settings");
      ack.hidden = channel.control.value !== "email";
    }
    channel.control.addEventListener("change", follow);
    provider.control.addEventListener("change", follow);
    follow();

    side.replaceChildren(
      editor({
        i18n,
        title: row ? t("edit_title", { name: row.name }) : t("new_title"),
        fields: [channel, provider, name, address, queue, locale, ack, active, settings, secret, forget].filter(Boolean),
        onCancel: () => side.replaceChildren(),
        submit: async () => {
          let parsed;
          try {
            parsed = JSON.parse(settings.control.value.trim() || "{}");
          } catch {
            parsed = null;
          }
          if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
            throw { message: t("bad_json"), problem: { errors: [{ field: "settings", message: t("bad_json") }] } };
          }
          const data = {
            channel: channel.control.value,
            provider: provider.control.value,
            name: valueOf(name.control),
            address: valueOf(address.control),
            queue_id: valueOf(queue.control, "id"),
            locale: locale.control.value,
            auto_ack_hours: channel.control.value === "email" ? valueOf(ack.control, "number") : null,
            is_active: active.control.checked,
            settings: parsed,
          };
          if (secret.control.value) data.secret = secret.control.value;
          else if (forget && forget.control.checked) data.secret = null;
          try {
            const saved = row ? await api.patch(`/channel-accounts/${row.id}`, data) : await api.post("/channel-accounts", data);
            side.replaceChildren();
            notice(root, `${saved.name} · ${i18n.t("saved")}`);
          } catch (failure) {
            // A setting's problem names its key (settings.host): show it under the settings.
            for (const error of failure.problem?.errors || []) {
              if (/^(body\.)?settings\./.test(error.field || "")) error.field = "settings";
            }
            throw failure;
          }
          await reload();
        },
      }),
    );
    name.control.focus();
  }

  async function remove(row) {
    await deleteAfterAsking({ i18n, api, root, name: row.name, path: `/channel-accounts/${row.id}`, reload, side });
  }

  await reload();
}
