// The routing workflow as forms: filters, each with its targets (queue, agents, time-out,
// priority, rings) and fallback. Every expression is checked as it is typed
// (POST /routing/expressions/validate, debounced); the dry run asks where a contact
// arriving now would go under the draft, and why (POST /routing/dry-run); Save puts the
// draft in force (PUT /routing/workflow). Supervisors read the workflow and try it.

import { el } from "../desktop/i18n.js";
import { button, clearProblems, debounce, field, fieldLine, frame, notice, optionsOf, showFieldError, showProblem, table } from "./kit.js";

const CHECK_AFTER_MS = 300;

export async function mountRouting(root, { api, i18n, can, config }) {
  const t = (key, values) => i18n.t(`routing.${key}`, values);
  const editable = can.directory;
  const saveButton = editable ? button(t("save"), () => save(), { kind: "primary" }) : null;
  const body = frame(root, { title: i18n.t("sections.routing"), intro: t("intro"), readOnly: !editable, i18n, actions: [saveButton] });
  const [saved, queues] = await Promise.all([api.get("/routing/workflow"), api.all("/queues")]);
  const draft = { filters: saved.filters.map(copyFilter), fallback: saved.fallback };
  const version = el("p", { class: "muted version" }, versionLine(saved));
  const filtersNode = el("div", { class: "filters" });
  const problem = el("p", { class: "form-problem", role: "alert" });
  const workflowForm = el("form", { class: "workflow", "aria-label": i18n.t("sections.routing"), novalidate: true, onsubmit: (e) => e.preventDefault() }, version, filtersNode, problem);
  const rehearsal = dryRunPanel();
  body.append(el("div", { class: "split routing" }, workflowForm, rehearsal.node));
  render();

  function versionLine(workflow) {
    return workflow.version === null ? t("never_saved") : t("version", { version: workflow.version, when: i18n.when(workflow.saved_at) });
  }

  function copyFilter(f) {
    return {
      name: f.name,
      expression: f.expression || "",
      fallback: f.fallback || null,
      targets: f.targets.map((x) => ({ ...x, rings: (x.rings || []).map((r) => ({ ...r })) })),
    };
  }

  function newTarget() {
    return { queue_id: queues.length ? queues[0].id : null, expression: "", timeout_seconds: null, priority: null, skip_if: "never", preferred: null, rings: [] };
  }

  function render() {
    filtersNode.replaceChildren(
      ...draft.filters.map((f, i) => filterCard(f, i)),
      editable ? button(`+ ${t("add_filter")}`, () => { draft.filters.push({ name: "", expression: "", fallback: null, targets: [newTarget()] }); render(); }) : null,
      el(
        "div",
        { class: "workflow-fallback" },
        selectField({ name: "fallback", label: t("workflow_fallback") }, fallbackOptions(false), draft.fallback, (v) => (draft.fallback = v)),
      ),
    );
    if (!draft.filters.length) filtersNode.prepend(el("p", { class: "muted empty-note" }, i18n.t("empty")));
  }

  function filterCard(f, i) {
    const path = `filters.${i}`;
    const tools = editable
      ? el(
          "div",
          { class: "card-tools" },
          i > 0 ? button("↑", () => move(i, -1), { label: `${t("move_up")} ${t("filter", { number: i + 1 })}` }) : null,
          i < draft.filters.length - 1 ? button("↓", () => move(i, 1), { label: `${t("move_down")} ${t("filter", { number: i + 1 })}` }) : null,
          button(t("remove_filter"), () => { draft.filters.splice(i, 1); render(); }),
        )
      : null;
    return el(
      "fieldset",
      { class: "filter-card", "aria-label": t("filter", { number: i + 1 }) },
      el("legend", {}, t("filter", { number: i + 1 }), f.name ? ` · ${f.name}` : ""),
      tools,
      el(
        "div",
        { class: "fields" },
        textField({ name: "name", path: `${path}.name`, label: t("filter_name") }, f.name, (v) => (f.name = v)),
        expressionField({ path: `${path}.expression`, label: t("filter_expression"), help: t("filter_expression_help") }, "task", f.expression, (v) => (f.expression = v)),
        selectField({ name: "fallback", path: `${path}.fallback`, label: t("filter_fallback") }, fallbackOptions(true), f.fallback || "", (v) => (f.fallback = v || null)),
      ),
      el("h3", {}, t("targets")),
      el("ol", { class: "targets" }, f.targets.map((x, j) => targetRow(f, x, `${path}.targets.${j}`, j))),
      editable ? button(`+ ${t("add_target")}`, () => { f.targets.push(newTarget()); render(); }) : null,
    );
  }

  function targetRow(f, x, path, j) {
    const queueOptions = [["", t("choose_queue")], ...optionsOf(queues)];
    if (x.queue_id && !queues.some((q) => q.id === x.queue_id)) queueOptions.push([x.queue_id, t("other_queue")]);
    return el(
      "li",
      { class: "target" },
      el(
        "div",
        { class: "fields" },
        selectField({ name: "queue_id", path: `${path}.queue_id`, label: t("queue") }, queueOptions, x.queue_id ?? "", (v) => (x.queue_id = v ? Number(v) : null)),
        expressionField({ path: `${path}.expression`, label: t("worker_expression"), help: t("worker_expression_help") }, "worker", x.expression, (v) => (x.expression = v)),
        numberField({ path: `${path}.timeout_seconds`, label: t("timeout"), min: 1 }, x.timeout_seconds, (v) => (x.timeout_seconds = v)),
        numberField({ path: `${path}.priority`, label: t("priority"), min: -1000, max: 1000 }, x.priority, (v) => (x.priority = v)),
      ),
      ringsBlock(x, path),
      editable && f.targets.length > 1 ? button(t("remove_target"), () => { f.targets.splice(j, 1); render(); }, { label: `${t("remove_target")} ${t("target", { number: j + 1 })}` }) : null,
    );
  }

  function ringsBlock(x, path) {
    if (!x.rings.length && !editable) return null;
    return el(
      "div",
      { class: "rings" },
      el("span", { class: "rings-title" }, t("rings")),
      x.rings.map((ring, k) =>
        el(
          "div",
          { class: "ring" },
          numberField({ path: `${path}.rings.${k}.after_seconds`, label: t("ring_after"), min: 0 }, ring.after_seconds, (v) => (ring.after_seconds = v)),
          expressionField({ path: `${path}.rings.${k}.expression`, label: t("ring_expression") }, "worker", ring.expression, (v) => (ring.expression = v)),
          editable ? button("×", () => { x.rings.splice(k, 1); render(); }, { label: t("remove_ring") }) : null,
        ),
      ),
      editable ? button(`+ ${t("add_ring")}`, () => { x.rings.push({ after_seconds: 30, expression: "" }); render(); }) : null,
    );
  }

  function move(i, by) {
    const [f] = draft.filters.splice(i, 1);
    draft.filters.splice(i + by, 0, f);
    render();
  }

  function fallbackOptions(inherit) {
    const options = Object.entries(config.texts.fallbacks);
    return inherit ? [["", t("as_workflow")], ...options] : options;
  }

  function textField(spec, value, set) {
    const node = field({ ...spec, disabled: !editable }, value);
    node.control.addEventListener("input", () => set(node.control.value));
    return node;
  }

  function numberField(spec, value, set) {
    const node = field({ ...spec, name: spec.path.split(".").pop(), type: "number", disabled: !editable }, value);
    node.control.addEventListener("input", () => set(node.control.value === "" ? null : Number(node.control.value)));
    return node;
  }

  function selectField(spec, options, value, set) {
    const node = field({ ...spec, type: "select", options, disabled: !editable }, value);
    node.control.addEventListener("change", () => set(node.control.value));
    return node;
  }

  /** An expression input checked as it is typed: an error shows its column under it. */
  function expressionField(spec, rootName, value, set) {
    const node = field({ ...spec, name: "expression", code: true, wide: true, disabled: !editable, placeholder: rootName === "task" ? 'lang == "fr"' : "skills.billing >= 2" }, value);
    const input = node.control;
    const check = debounce(async () => {
      const source = input.value;
      try {
        await api.post("/routing/expressions/validate", { expression: source, root: rootName });
        if (input.value !== source) return;
        showFieldError(input, "");
        input.classList.toggle("valid", source.trim() !== "");
      } catch (failure) {
        if (input.value !== source) return;
        input.classList.remove("valid");
        const problem = failure.problem || {};
        const message = (problem.errors && problem.errors[0] && problem.errors[0].message) || failure.detail;
        showFieldError(input, fieldLine(i18n, message, problem.column));
      }
    }, CHECK_AFTER_MS);
    input.addEventListener("input", () => {
      set(input.value);
      check();
    });
    return node;
  }

  async function save() {
    clearProblems(workflowForm);
    saveButton.disabled = true;
    try {
      const result = await api.put("/routing/workflow", draft);
      version.textContent = versionLine(result);
      notice(root, t("saved", { version: result.version }));
    } catch (failure) {
      showProblem(workflowForm, i18n, failure);
      notice(root, i18n.t("action_failed", { detail: failure.message }), true);
    } finally {
      saveButton.disabled = false;
    }
  }

  function dryRunPanel() {
    const channel = field({ name: "channel", label: t("contact_channel"), type: "select", options: Object.entries(config.texts.channels) }, "chat");
    const lang = field({ name: "lang", label: t("contact_lang"), placeholder: "fr" }, "");
    const vip = field({ name: "vip", label: t("contact_vip"), type: "checkbox" }, false);
    const more = field({ name: "attributes", path: "contact.attributes", label: t("contact_attributes"), help: t("contact_attributes_help"), type: "textarea", rows: 2 }, "");
    const result = el("div", { class: "dry-run-result", role: "status", "aria-live": "polite" });
    const problem = el("p", { class: "form-problem", role: "alert" });
    const form = el(
      "form",
      {
        class: "dry-run panel",
        "aria-labelledby": "dry-run-title",
        novalidate: true,
        onsubmit: async (event) => {
          event.preventDefault();
          clearProblems(form);
          clearProblems(workflowForm);
          let attributes = {};
          try {
            attributes = more.control.value.trim() ? JSON.parse(more.control.value) : {};
            if (typeof attributes !== "object" || Array.isArray(attributes) || attributes === null) throw new Error("not an object");
          } catch {
            showFieldError(more.control, t("bad_json"));
            return;
          }
          if (lang.control.value.trim()) attributes.lang = lang.control.value.trim();
          if (vip.control.checked) attributes.vip = true;
          try {
            const answer = await api.post("/routing/dry-run", { workflow: draft, contact: { channel: channel.control.value, attributes } });
            result.replaceChildren(...explain(answer));
          } catch (failure) {
            result.replaceChildren();
            showProblem(workflowForm, i18n, failure);
            problem.textContent = i18n.t("action_failed", { detail: failure.message });
          }
        },
      },
      el("h2", { id: "dry-run-title" }, t("dry_run")),
      el("p", { class: "muted" }, t("dry_run_intro")),
      el("div", { class: "fields" }, channel, lang, vip, more),
      problem,
      el("div", { class: "editor-actions" }, button(t("try"), null, { kind: "primary", type: "submit" })),
      result,
    );
    return { node: el("aside", { class: "side" }, form) };
  }

  function explain(answer) {
    const lines = [];
    if (answer.filter_name !== null) lines.push(el("p", { class: "verdict matched" }, t("matched", { name: answer.filter_name })));
    else lines.push(el("p", { class: "verdict" }, t("no_filter")));
    if (answer.filters_not_matched.length) lines.push(el("p", { class: "muted" }, t("not_matched", { names: answer.filters_not_matched.join(", ") })));
    if (answer.fallback) {
      lines.push(el("p", { class: "verdict fallback" }, t("falls_back", { action: i18n.t(`fallbacks.${answer.fallback}`).toLocaleLowerCase(i18n.locale) })));
      if (answer.filter_index !== null) lines.push(el("p", { class: "muted reason", title: answer.fallback_reason || "" }, t("no_target")));
      return lines;
    }
    const queue = answer.queue_name || t("other_queue");
    const step = (answer.step_index ?? 0) + 1;
    lines.push(el("p", { class: "verdict" }, answer.position ? t("waits_in", { queue, step, position: answer.position }) : t("goes_to", { queue, step })));
    const offered = answer.candidates.find((c) => c.worker_id === answer.offered_to);
    lines.push(el("p", { class: `verdict ${offered ? "offered" : "waiting"}` }, offered ? t("offered_to", { agent: offered.name }) : t("nobody_now")));
    // Agents offline are many and say nothing about this contact: counted, not listed.
    const offline = answer.candidates.filter((c) => c.reason_code === "presence" && c.reason_params.presence === "offline");
    const shown = answer.candidates.filter((c) => !offline.includes(c)).sort((a, b) => Number(b.eligible) - Number(a.eligible));
    lines.push(
      table({
        i18n,
        rows: shown,
        empty: t("no_agents"),
        columns: [
          { label: t("agent"), cell: (c) => c.name },
          { label: t("eligible"), cell: (c) => el("span", { class: `pill ${c.eligible ? "yes" : "no"}` }, c.eligible ? i18n.t("yes") : i18n.t("no")) },
          { label: t("why_not"), cell: (c) => el("span", { title: c.reason || "" }, reasonLine(c)), className: "reason" },
        ],
      }),
    );
    if (offline.length) lines.push(el("p", { class: "muted table-note" }, t("offline", { count: offline.length })));
    return lines;
  }

  /** A verdict in the reader's language, from its code and the values it names. */
  function reasonLine(candidate) {
    if (!candidate.reason_code) return candidate.reason || "";
    const params = { ...candidate.reason_params };
    if (params.presence) params.presence = i18n.t(`presence.${params.presence}`).toLocaleLowerCase(i18n.locale);
    if (params.state) params.state = i18n.t(`site_states.${params.state}`).toLocaleLowerCase(i18n.locale);
    if (params.channel) params.channel = i18n.channel(params.channel);
    return i18n.t(`reasons.${candidate.reason_code}`, params);
  }
}
