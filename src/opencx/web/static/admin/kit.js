// The console's small kit: a section's frame, a table of rows, a form built from field
// descriptions, a confirmation, and the display of an API problem next to the fields it
// names. Every section module builds its screen from these.
//
// A problem's field comes as the API writes it: "body.filters.0.name" (request
// validation) or "filters[0].targets[1].expression" (a rule of ours); both name the
// input whose data-field is "filters.0.targets.1.expression".

import { el } from "../desktop/i18n.js";

/** The field path of a problem, as the inputs' data-field attributes write it. */
export function fieldPath(field) {
  return String(field || "")
    .replace(/^body\./, "")
    .replace(/^workflow\./, "")
    .replace(/\[(\d+)\]/g, ".$1")
    .replace(/^\./, "");
}

/** A line for one field error: the server's words on an English page, else ours. */
export function fieldLine(i18n, message, column) {
  if (i18n.locale.startsWith("en") && message) return message;
  const line = i18n.t("invalid_field");
  return column ? `${line} ${i18n.t("at_column", { column })}` : line;
}

/** Clears the errors shown in ``root``. */
export function clearProblems(root) {
  for (const node of root.querySelectorAll(".field-error")) node.textContent = "";
  for (const node of root.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
  const general = root.querySelector(".form-problem");
  if (general) general.textContent = "";
}

/** Shows ``failure`` (an ApiError) in ``root``: next to each field it names, or on top. */
export function showProblem(root, i18n, failure) {
  clearProblems(root);
  const problem = failure.problem || {};
  const errors = problem.errors || [];
  let placed = 0;
  for (const error of errors) {
    const input = root.querySelector(`[data-field="${CSS.escape(fieldPath(error.field))}"]`);
    if (!input) continue;
    showFieldError(input, fieldLine(i18n, error.message, problem.column));
    placed += 1;
  }
  if (placed === errors.length && placed > 0) return;
  const general = root.querySelector(".form-problem");
  if (general) general.textContent = i18n.t("action_failed", { detail: failure.message });
}

/** Shows ``line`` under ``input`` and marks it invalid (an empty line clears it). */
export function showFieldError(input, line) {
  const slot = document.getElementById(input.getAttribute("aria-describedby")?.split(" ")[0] || "");
  if (slot) slot.textContent = line;
  if (line) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
}

let serial = 0;

/** A labelled control with its error slot: ``{name, label, type, options, help, ...}``. */
export function field(spec, value) {
  serial += 1;
  const id = `f${serial}`;
  const errorId = `${id}-error`;
  const described = spec.help ? `${errorId} ${id}-help` : errorId;
  const common = { id, name: spec.name, "data-field": spec.path || spec.name, "aria-describedby": described, disabled: spec.disabled };
  let control;
  if (spec.type === "select") {
    control = el(
      "select",
      common,
      spec.options.map(([optionValue, text]) => el("option", { value: optionValue, selected: String(optionValue) === String(value ?? "") }, text)),
    );
  } else if (spec.type === "checkbox") {
    control = el("input", { ...common, type: "checkbox", checked: Boolean(value) });
  } else if (spec.type === "textarea") {
    control = el("textarea", { ...common, rows: spec.rows || 3, placeholder: spec.placeholder }, value ?? "");
  } else {
    control = el("input", {
      ...common,
      type: spec.type || "text",
      value: value ?? "",
      required: spec.required,
      min: spec.min,
      max: spec.max,
      step: spec.step,
      placeholder: spec.placeholder,
      autocomplete: "off",
      spellcheck: spec.code ? "false" : null,
      class: spec.code ? "code" : null,
    });
  }
  const wrap = el(
    "div",
    { class: `field${spec.type === "checkbox" ? " check" : ""}${spec.wide ? " wide" : ""}` },
    spec.type === "checkbox" ? [control, el("label", { for: id }, spec.label)] : [el("label", { for: id }, spec.label), control],
    spec.help ? el("p", { class: "field-help", id: `${id}-help` }, spec.help) : null,
    el("p", { class: "field-error", id: errorId, role: "alert" }),
  );
  wrap.control = control;
  return wrap;
}

/** The value of a control as the API wants it: numbers as numbers, "" as null. */
export function valueOf(control, type) {
  if (control.type === "checkbox") return control.checked;
  const raw = control.value.trim();
  if (type === "number") return raw === "" ? null : Number(raw);
  if (type === "id") return raw === "" ? null : Number(raw);
  return raw;
}

/** A section's frame: a heading, an introduction, a tool bar and a body. */
export function frame(root, { title, intro, actions = [], readOnly = false, i18n }) {
  root.replaceChildren(
    el("div", { class: "section-head" }, el("div", {}, el("h1", {}, title), intro ? el("p", { class: "muted intro" }, intro) : null), el("div", { class: "section-actions" }, actions)),
    ...(readOnly ? [el("p", { class: "read-only", role: "note" }, i18n.t("read_only"))] : []),
    el("p", { class: "notice", role: "status", "aria-live": "polite" }),
  );
  const body = el("div", { class: "section-body" });
  root.append(body);
  return body;
}

/** A short confirmation in the section's status line. */
export function notice(root, text, failed = false) {
  const line = root.querySelector(".notice");
  if (!line) return;
  line.textContent = text;
  line.classList.toggle("failed", failed);
}

/** A table: ``columns`` are ``{label, cell(row), num}``; the first column heads each row. */
export function table({ caption, columns, rows, i18n, empty, onRowAction }) {
  const classes = (c, base) => [base, c.secondary ? "secondary" : null].filter(Boolean).join(" ") || null;
  const head = el("tr", {}, columns.map((c) => el("th", { scope: "col", class: classes(c, c.num ? "num" : null) }, c.label)));
  if (onRowAction) head.append(el("th", { scope: "col" }, el("span", { class: "visually-hidden" }, i18n.t("actions"))));
  const body = el("tbody");
  if (!rows.length) {
    body.append(el("tr", { class: "empty" }, el("td", { colspan: columns.length + (onRowAction ? 1 : 0) }, empty || i18n.t("empty"))));
  }
  for (const row of rows) {
    const cells = columns.map((c, index) => el(index === 0 ? "th" : "td", { scope: index === 0 ? "row" : null, class: classes(c, c.num ? "num" : c.className) }, c.cell(row)));
    const tr = el("tr", {}, cells);
    if (onRowAction) tr.append(el("td", { class: "row-actions" }, onRowAction(row)));
    body.append(tr);
  }
  return el("table", { class: "grid" }, caption ? el("caption", {}, caption) : null, el("thead", {}, head), body);
}

/**
 * A list with its editor beside it; while the editor is open the list keeps only its
 * main columns (those not marked ``secondary``), so both fit side by side.
 */
export function split(list, side, extraClass = "") {
  const node = el("div", { class: `split ${extraClass}`.trim() }, list, side);
  const follow = () => {
    node.classList.toggle("editing", side.childElementCount > 0);
    list.scrollLeft = 0; // a click on a row's button may have scrolled the wider list
  };
  new MutationObserver(follow).observe(side, { childList: true });
  return node;
}

/** A button. */
export function button(text, onclick, { kind = "subtle", label, type = "button" } = {}) {
  return el("button", { type, class: `button ${kind}`, onclick, "aria-label": label }, text);
}

/**
 * An editor panel: a titled form of ``fields`` (field() results or other nodes), with
 * Save and Cancel; ``submit`` does the work and a failure is shown next to its fields.
 */
export function editor({ i18n, title, fields, submit, onCancel, readOnly = false, extra = [] }) {
  const problem = el("p", { class: "form-problem", role: "alert" });
  const form = el(
    "form",
    {
      class: "editor",
      "aria-label": title,
      novalidate: true,
      onsubmit: async (event) => {
        event.preventDefault();
        if (readOnly) return;
        clearProblems(form);
        const save = form.querySelector("button[type=submit]");
        save.disabled = true;
        try {
          await submit(form);
        } catch (failure) {
          showProblem(form, i18n, failure);
        } finally {
          save.disabled = false;
        }
      },
    },
    el("h2", {}, title),
    el("div", { class: "fields" }, fields),
    extra,
    problem,
    el(
      "div",
      { class: "editor-actions" },
      readOnly ? null : button(i18n.t("save"), null, { kind: "primary", type: "submit" }),
      button(i18n.t("cancel"), onCancel),
    ),
  );
  if (readOnly) for (const control of form.querySelectorAll("input, select, textarea")) control.disabled = true;
  return form;
}

/** Asks before deleting; resolves to whether the user said yes. */
export function confirmDelete(i18n, name) {
  return new Promise((resolve) => {
    const dialog = el(
      "dialog",
      { class: "confirm", "aria-labelledby": "confirm-title" },
      el("h2", { id: "confirm-title" }, i18n.t("confirm_delete", { name })),
      el(
        "form",
        { method: "dialog", class: "editor-actions" },
        el("button", { class: "button danger", value: "yes" }, i18n.t("delete")),
        el("button", { class: "button subtle", value: "no", autofocus: true }, i18n.t("cancel")),
      ),
    );
    dialog.addEventListener("close", () => {
      resolve(dialog.returnValue === "yes");
      dialog.remove();
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

/** Asks before deleting ``name``, deletes ``path`` through the API, says so and reloads;
 * ``side`` (the editor beside the list), when given, is closed. */
export async function deleteAfterAsking({ i18n, api, root, name, path, reload, side = null }) {
  if (!(await confirmDelete(i18n, name))) return;
  try {
    await api.del(path);
    if (side) side.replaceChildren();
    notice(root, i18n.t("deleted", { name }));
    await reload();
  } catch (failure) {
    notice(root, i18n.t("action_failed", { detail: failure.message }), true);
  }
}

/** ``fn`` called once ``wait`` ms have passed without another call. */
export function debounce(fn, wait) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), wait);
  };
}

/** Options of a select from rows: ``[[id, name]]``, with a first "none" choice if asked. */
export function optionsOf(rows, noneText) {
  const options = rows.map((row) => [row.id, row.name || row.display_name]);
  return noneText === undefined ? options : [["", noneText], ...options];
}

/** The name of the row with ``id`` among ``rows``, or ``fallback``. */
export function nameOf(rows, id, fallback = "") {
  const found = rows.find((row) => row.id === id);
  return found ? found.name || found.display_name : fallback;
}
