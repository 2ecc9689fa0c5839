// The REST API as the desktop calls it: same-origin cookie, CSRF header on writes,
// RFC 9457 problems turned into errors the agent can read in the page's language.
//
// An ApiError's message is what the desktop shows: the server's own detail on an
// English page (the server writes them in English), otherwise a translated line chosen
// by the problem's stable code (opencx.core.errors), never an untranslated sentence.
// The server's detail stays on the error (``detail``) for a tooltip.

/** Problem codes the desktop can meet, and the key of their line in texts.errors. */
const LINES = {
  "opencx.bad_request": "invalid_input",
  "opencx.invalid_input": "invalid_input",
  "opencx.not_found": "not_found",
  "opencx.method_not_allowed": "server",
  "opencx.conflict": "conflict",
  "opencx.illegal_transition": "illegal_transition",
  "opencx.permission_denied": "permission_denied",
  "opencx.unauthenticated": "unauthenticated",
  "opencx.rate_limited": "rate_limited",
  "opencx.too_large": "too_large",
  "opencx.unsupported_media_type": "unsupported_media_type",
  "opencx.unavailable": "unavailable",
  "opencx.error": "server",
};

export class ApiError extends Error {
  constructor(status, message, problem, detail) {
    super(message);
    this.status = status;
    this.problem = problem;
    this.detail = detail ?? message;
  }
}

/** The line to show for a failed call: see the module's header. */
export function problemLine(i18n, status, problem, detail) {
  if (i18n.locale.startsWith("en") && detail) return detail;
  let key = (problem && LINES[problem.code]) || null;
  if (problem && problem.window_closed_at !== undefined) key = "window_closed";
  if (!key) key = status === 0 ? "network" : status === 404 ? "not_found" : "server";
  return i18n.t(`errors.${key}`);
}

export function makeApi(csrf, i18n) {
  async function call(method, path, body) {
    const init = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
    if (method !== "GET") init.headers["X-CSRF-Token"] = csrf;
    if (body instanceof FormData) {
      init.body = body;
    } else if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch("/api/v1" + path, init);
    } catch (failure) {
      throw new ApiError(0, i18n.t("errors.network"), null, failure.message);
    }
    if (response.status === 204) return null;
    const data = await response.json().catch(() => null);
    if (!response.ok) {
      const detail = (data && (data.detail || data.title)) || response.statusText;
      throw new ApiError(response.status, problemLine(i18n, response.status, data, detail), data, detail);
    }
    return data;
  }
  return {
    get: (path) => call("GET", path),
    post: (path, body) => call("POST", path, body ?? {}),
    put: (path, body) => call("PUT", path, body ?? {}),
    patch: (path, body) => call("PATCH", path, body ?? {}),
    del: (path) => call("DELETE", path),
    /** Every item of a paged list (bounded: the desktop never needs more than a few pages). */
    async all(path, pages = 5) {
      const items = [];
      let cursor = null;
      for (let i = 0; i < pages; i += 1) {
        const sep = path.includes("?") ? "&" : "?";
        const page = await call("GET", path + (cursor ? `${sep}cursor=${encodeURIComponent(cursor)}` : ""));
        items.push(...page.items);
        cursor = page.next_cursor;
        if (!cursor) break;
      }
      return items;
    },
  };
}
