// Business hours: weekly schedules in a time zone (time ranges per day), their holidays,
// and whether each is open right now (GET /business-hours/{id}/status).

import { el } from "../desktop/i18n.js";
import { button, clearProblems, deleteAfterAsking, editor, field, frame, notice, showProblem, table, split } from "./kit.js";

export async function mountHours(root, { api, i18n, can, config }) {
  const days = config.texts.days;
  // 2024-01-01 was a Monday: the browser names the days short, in the page's language.
  const weekday = new Intl.DateTimeFormat(config.locale, { weekday: "short", timeZone: "UTC" });
  const shortDays = [0, 1, 2, 3, 4, 5, 6].map((day) => weekday.format(new Date(Date.UTC(2024, 0, 1 + day))));
  const t = (key, values) => i18n.t(`hours.${key}`, values);
  const body = frame(root, {
    title: i18n.t("sections.hours"),
    intro: t("intro"),
    readOnly: !can.directory,
    i18n,
    actions: can.directory ? [button(t("new_title"), () => edit(null), { kind: "primary" })] : [],
  });
  const list = el("div", { class: "list" });
  const side = el("div", { class: "side" });
  body.append(split(list, side));

  async function reload() {
    const schedules = await api.all("/business-hours");
    const states = await Promise.all(schedules.map((h) => api.get(`/business-hours/${h.id}/status`).catch(() => null)));
    const status = new Map(schedules.map((h, index) => [h.id, states[index]]));
    list.replaceChildren(
      table({
        caption: i18n.t("sections.hours"),
        i18n,
        rows: schedules,
        columns: [
          { label: i18n.t("queue.name"), cell: (h) => el("span", {}, h.name, el("span", { class: "channel muted" }, h.timezone)) },
          { label: t("weekly"), cell: (h) => summary(h.weekly), secondary: true },
          { label: t("now"), cell: (h) => badge(status.get(h.id)) },
        ],
        onRowAction: (h) => [
          button(can.directory ? i18n.t("edit") : t("weekly"), () => edit(h), { label: `${i18n.t("edit")} ${h.name}` }),
          can.directory ? button(i18n.t("delete"), () => remove(h), { label: `${i18n.t("delete")} ${h.name}` }) : null,
        ],
      }),
    );
  }

  /** The open days, consecutive ones as a span: "Mon – Sat". */
  function summary(weekly) {
    const open = [...new Set(weekly.map((w) => w.day))].sort();
    const spans = [];
    for (const day of open) {
      const last = spans[spans.length - 1];
      if (last && last[1] === day - 1) last[1] = day;
      else spans.push([day, day]);
    }
    const short = (day) => shortDays[day];
    return spans.map(([a, b]) => (a === b ? short(a) : `${short(a)} – ${short(b)}`)).join(", ") || t("closed_day");
  }

  function badge(state) {
    if (!state) return "—";
    if (state.open) return el("span", { class: "site-state open" }, t("open_now"));
    const next = state.next_opening ? ` · ${t("next_opening", { when: i18n.when(state.next_opening) })}` : "";
    return el("span", { class: "site-state closed" }, t("closed_now") + next);
  }

  function edit(schedule) {
    const h = schedule || { name: "", timezone: Intl.DateTimeFormat().resolvedOptions().timeZone || "Europe/Paris", weekly: [0, 1, 2, 3, 4].map((day) => ({ day, open: "09:00", close: "18:00" })) };
    const name = field({ name: "name", label: i18n.t("queue.name"), required: true }, h.name);
    const timezone = field({ name: "timezone", label: t("timezone"), placeholder: "Europe/Paris" }, h.timezone);
    const week = weekEditor(h.weekly);
    const extra = [];
    if (schedule) extra.push(statusLine(schedule), holidays(schedule));
    else if (can.directory) extra.push(el("p", { class: "muted" }, t("save_first")));
    const form = editor({
      i18n,
      title: schedule ? t("edit_title", { name: schedule.name }) : t("new_title"),
      fields: [name, timezone, week.node],
      extra,
      readOnly: !can.directory,
      onCancel: () => side.replaceChildren(),
      submit: async () => {
        const data = { name: name.control.value.trim(), timezone: timezone.control.value.trim(), weekly: week.value() };
        const saved = schedule ? await api.patch(`/business-hours/${schedule.id}`, data) : await api.post("/business-hours", data);
        notice(root, `${saved.name} · ${i18n.t("saved")}`);
        await reload();
        edit(saved);
      },
    });
    side.replaceChildren(form);
    name.control.focus();
  }

  /** Seven days, each with its time ranges; ``value()`` gives the API's weekly list. */
  function weekEditor(weekly) {
    const error = el("p", { class: "field-error", id: "weekly-error", role: "alert" });
    const rows = el("div", { class: "week" });
    const perDay = [0, 1, 2, 3, 4, 5, 6].map((day) => weekly.filter((w) => w.day === day).map((w) => ({ open: w.open, close: w.close })));
    function render() {
      rows.replaceChildren(
        ...perDay.map((ranges, day) =>
          el(
            "div",
            { class: "day", role: "group", "aria-label": dayName(day) },
            el("span", { class: "day-name" }, dayName(day)),
            el(
              "div",
              { class: "ranges" },
              ranges.length ? null : el("span", { class: "muted" }, t("closed_day")),
              ranges.map((range, index) =>
                el(
                  "span",
                  { class: "range" },
                  el("input", { type: "time", value: range.open, "aria-label": `${dayName(day)} ${t("opens")}`, disabled: !can.directory, oninput: (e) => (range.open = e.target.value) }),
                  "–",
                  el("input", { type: "time", value: range.close === "24:00" ? "23:59" : range.close, "aria-label": `${dayName(day)} ${t("closes")}`, disabled: !can.directory, oninput: (e) => (range.close = e.target.value) }),
                  can.directory ? button("×", () => { ranges.splice(index, 1); render(); }, { label: `${i18n.t("remove")} ${dayName(day)} ${range.open}` }) : null,
                ),
              ),
            ),
            can.directory ? button("+", () => { ranges.push(nextRange(ranges)); render(); }, { label: `${t("add_range")} ${dayName(day)}` }) : null,
          ),
        ),
      );
    }
    function dayName(day) {
      return days[day];
    }
    render();
    const node = el("fieldset", { class: "field wide weekly", "data-field": "weekly", "aria-describedby": "weekly-error" }, el("legend", {}, t("weekly")), rows, error);
    return {
      node,
      value: () => perDay.flatMap((ranges, day) => ranges.filter((r) => r.open && r.close).map((r) => ({ day, open: r.open, close: r.close === "23:59" ? "24:00" : r.close }))),
    };
  }

  function nextRange(ranges) {
    const last = ranges[ranges.length - 1];
    return last ? { open: last.close, close: last.close < "22:00" ? "22:00" : "23:59" } : { open: "09:00", close: "18:00" };
  }

  function statusLine(schedule) {
    const line = el("p", { class: "hours-status", role: "status" }, i18n.t("loading"));
    api.get(`/business-hours/${schedule.id}/status`).then(
      (state) => line.replaceChildren(badge(state)),
      () => line.replaceChildren("—"),
    );
    return line;
  }

  function holidays(schedule) {
    const box = el("section", { class: "holidays", "aria-label": t("holidays") }, el("h3", {}, t("holidays")));
    const listed = el("ul", { class: "holiday-list" });
    const day = field({ name: "day", label: t("holiday_day"), type: "date" });
    const label = field({ name: "name", label: t("holiday_name") });
    const opens = field({ name: "special_hours.0.open", label: t("opens"), type: "time" });
    const closes = field({ name: "special_hours.0.close", label: t("closes"), type: "time" });
    const problem = el("p", { class: "form-problem", role: "alert" });
    const add = el(
      "div",
      { class: "holiday-add" },
      day,
      label,
      opens,
      closes,
      el("p", { class: "field-help wide" }, t("holiday_hours_help")),
      problem,
      can.directory ? button(t("add_holiday"), addHoliday) : null,
    );
    async function load() {
      const items = await api.all(`/business-hours/${schedule.id}/holidays`);
      listed.replaceChildren(
        ...(items.length ? items : [null]).map((item) =>
          item === null
            ? el("li", { class: "muted" }, t("no_holidays"))
            : el(
                "li",
                {},
                el("strong", {}, new Date(`${item.day}T12:00:00`).toLocaleDateString(i18n.locale, { dateStyle: "medium" })),
                ` ${item.name} · `,
                item.special_hours.length ? item.special_hours.map((s) => `${s.open}–${s.close}`).join(", ") : t("closed_all_day"),
                can.directory ? button(i18n.t("remove"), () => removeHoliday(item), { label: `${i18n.t("remove")} ${item.name}` }) : null,
              ),
        ),
      );
    }
    async function addHoliday() {
      clearProblems(add);
      const data = { day: day.control.value, name: label.control.value.trim() };
      if (opens.control.value && closes.control.value) data.special_hours = [{ open: opens.control.value, close: closes.control.value }];
      try {
        await api.post(`/business-hours/${schedule.id}/holidays`, data);
        for (const f of [day, label, opens, closes]) f.control.value = "";
        await load();
      } catch (failure) {
        showProblem(add, i18n, failure);
      }
    }
    async function removeHoliday(item) {
      await api.del(`/business-hours/${schedule.id}/holidays/${item.id}`);
      await load();
    }
    box.append(listed, can.directory ? add : null);
    load();
    return box;
  }

  async function remove(schedule) {
    await deleteAfterAsking({ i18n, api, root, name: schedule.name, path: `/business-hours/${schedule.id}`, reload, side });
  }

  await reload();
}
