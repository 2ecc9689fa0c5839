/* OpenCX web chat widget. Embed with one tag:
 *   <script src="https://support.example.com/chat/widget.js" data-widget="KEY" async></script>
 * The page's <html lang> picks the language. window.OpenCX offers open(), close() and
 * setCartValue(value) for proactive invitations. Protocol: docs/chat.md. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.OpenCX) return;
  var key = script.getAttribute("data-widget");
  var base = new URL(script.src, location.href).origin;
  var wsBase = base.replace(/^http/, "ws");
  var lang = (document.documentElement.lang || navigator.language || "en").slice(0, 2);
  var storeKey = "opencx.chat." + key;
  var cartValue = parseFloat(script.getAttribute("data-cart-value") || "NaN");
  var state = load();
  var config = null, socket = null, retry = 0, typingAt = 0, typingTimer = null;
  var shownIds = {}, root, ui = {};

  function load() {
    try { return JSON.parse(localStorage.getItem(storeKey)) || {}; } catch (e) { return {}; }
  }
  function save() {
    try { localStorage.setItem(storeKey, JSON.stringify(state)); } catch (e) { /* private mode */ }
  }
  function t(name, values) {
    var text = (config && config.texts[name]) || name;
    Object.keys(values || {}).forEach(function (k) { text = text.split("%(" + k + ")s").join(values[k]); });
    return text;
  }
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k]; else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { node.appendChild(c); });
    return node;
  }
  function api(method, path, body, headers) {
    var init = { method: method, headers: headers || {} };
    if (body instanceof FormData) init.body = body;
    else if (body) { init.body = JSON.stringify(body); init.headers["Content-Type"] = "application/json"; }
    if (state.token) init.headers["X-Chat-Token"] = state.token;
    return fetch(base + "/chat" + path, init).then(function (r) {
      return r.json().then(function (data) { if (!r.ok) throw data; return data; });
    });
  }
  function newId() {
    var bytes = new Uint8Array(12);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  var CSS = ":host{all:initial;font:14px/1.4 system-ui,sans-serif;color:#1b1f24}" +
    ".launch{position:fixed;right:20px;bottom:20px;border:0;border-radius:24px;padding:12px 18px;background:#1d4ed8;color:#fff;font:inherit;cursor:pointer;box-shadow:0 4px 14px #0003}" +
    ".panel{position:fixed;right:20px;bottom:20px;width:340px;max-width:calc(100vw - 40px);height:480px;max-height:calc(100vh - 40px);background:#fff;border-radius:12px;box-shadow:0 8px 30px #0004;display:flex;flex-direction:column;overflow:hidden}" +
    "header{background:#1d4ed8;color:#fff;padding:10px 14px;display:flex;justify-content:space-between;align-items:center}" +
    "header button{background:none;border:0;color:#fff;font-size:18px;cursor:pointer}" +
    "form.pre{padding:14px;display:flex;flex-direction:column;gap:8px;overflow:auto}" +
    "label{display:flex;flex-direction:column;gap:2px;font-size:13px}" +
    "input,textarea{font:inherit;padding:7px;border:1px solid #b6bcc4;border-radius:6px}" +
    "button.primary{background:#1d4ed8;color:#fff;border:0;border-radius:6px;padding:9px;font:inherit;cursor:pointer}" +
    ".log{flex:1;overflow:auto;padding:10px;display:flex;flex-direction:column;gap:6px;background:#f5f7fa}" +
    ".msg{max-width:80%;padding:7px 10px;border-radius:10px;white-space:pre-wrap;word-wrap:break-word}" +
    ".msg.visitor{align-self:flex-end;background:#1d4ed8;color:#fff}" +
    ".msg.agent,.msg.system{align-self:flex-start;background:#fff;border:1px solid #dde1e6}" +
    ".msg.pending{opacity:.6}.who{display:block;font-size:11px;opacity:.8}" +
    ".status{padding:6px 10px;font-size:12px;color:#404854;min-height:16px}" +
    ".compose{display:flex;gap:6px;padding:8px;border-top:1px solid #dde1e6}" +
    ".compose textarea{flex:1;resize:none;height:38px}" +
    ".attach{background:none;border:1px solid #b6bcc4;border-radius:6px;color:#404854;cursor:pointer;padding:0 6px}" +
    ".invite{position:fixed;right:20px;bottom:80px;max-width:280px;background:#fff;border-radius:10px;padding:12px;box-shadow:0 4px 14px #0003;display:flex;flex-direction:column;gap:8px}" +
    ".msg.visitor .link{color:#fff}.file{display:block;padding:2px 0}" +
    ".link{background:none;border:0;color:#1d4ed8;font:inherit;font-size:12px;text-decoration:underline;cursor:pointer;padding:0 10px;text-align:left}" +
    ".note{padding:14px}.hidden{display:none!important}";

  function build() {
    var host = el("div", { id: "opencx-chat" });
    document.body.appendChild(host);
    root = host.attachShadow({ mode: "open" });
    root.appendChild(el("style", { text: CSS }));
    ui.launch = el("button", { class: "launch", type: "button", text: config.title });
    ui.launch.onclick = open;
    ui.title = el("span", { text: config.title });
    ui.close = el("button", { type: "button", "aria-label": t("close"), text: "×" });
    ui.close.onclick = close;
    ui.panel = el("div", { class: "panel hidden", role: "dialog", "aria-label": config.title, lang: config.locale },
      [el("header", {}, [ui.title, ui.close])]);
    ui.body = el("div", { style: "display:flex;flex-direction:column;flex:1;min-height:0" });
    ui.panel.appendChild(ui.body);
    root.appendChild(ui.launch);
    root.appendChild(ui.panel);
  }

  function showForm() {
    ui.body.textContent = "";
    var offline = !config.online && config.offline_email;
    var form = el("form", { class: "pre", novalidate: "" });
    if (offline) form.appendChild(el("p", { text: t("offline") }));
    var name = el("input", { name: "name", required: "", autocomplete: "name", maxlength: "120" });
    var email = el("input", { name: "email", type: "email", autocomplete: "email" });
    if (offline) email.setAttribute("required", "");
    var intent = el("textarea", { name: "intent", required: "", rows: "3", maxlength: "2000" });
    form.appendChild(el("label", { text: t("name") }, [name]));
    form.appendChild(el("label", { text: t("email") }, [email]));
    form.appendChild(el("label", { text: t("intent") }, [intent]));
    var error = el("p", { class: "status", role: "alert" });
    form.appendChild(error);
    form.appendChild(el("button", { class: "primary", type: "submit", text: offline ? t("leave_message") : t("start") }));
    form.onsubmit = function (event) {
      event.preventDefault();
      var missing = [name, email, intent].filter(function (f) { return f.hasAttribute("required") && !f.value.trim(); })[0];
      if (missing) { error.textContent = t("required"); missing.focus(); return; }
      var body = { name: name.value.trim(), intent: intent.value.trim(), page_url: location.href, locale: config.locale };
      if (email.value.trim()) body.email = email.value.trim();
      api("POST", "/widgets/" + encodeURIComponent(key) + "/chats", body).then(function (started) {
        if (started.mode === "email") {
          ui.body.textContent = "";
          ui.body.appendChild(el("p", { class: "note", text: t("offline_sent") }));
          return;
        }
        state = { token: started.token, lastId: 0, outbox: [], open: true, name: body.name, email: body.email || null };
        save();
        showChat();
      }, function (problem) {
        // Server details are in English: the visitor reads our own text in their language.
        var field = problem && problem.errors && problem.errors[0] && problem.errors[0].field;
        var input = { name: name, email: email, intent: intent }[field];
        error.textContent = input ? t("required") : problem && problem.status === 429 ? t("too_many") : t("error");
        if (input) input.focus();
      });
    };
    ui.body.appendChild(form);
    name.focus();
  }

  function showChat() {
    ui.body.textContent = "";
    shownIds = {};
    ui.log = el("div", { class: "log", role: "log", "aria-live": "polite" });
    ui.status = el("div", { class: "status", "data-role": "status" });
    ui.input = el("textarea", { "aria-label": t("placeholder"), placeholder: t("placeholder"), maxlength: "10000" });
    var send = el("button", { class: "primary", type: "button", text: t("send") });
    var file = el("input", { type: "file", class: "hidden" });
    var attach = el("button", { type: "button", class: "attach", "aria-label": t("attach"), title: t("attach") }, [clip()]);
    attach.onclick = function () { file.click(); };
    file.onchange = function () { if (file.files[0]) upload(file.files[0]); file.value = ""; };
    send.onclick = function () { submit(); };
    ui.input.onkeydown = function (e) { if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); submit(); } };
    ui.input.oninput = function () { if (Date.now() - typingAt > 2000) { typingAt = Date.now(); wsSend({ type: "typing" }); } };
    ui.body.appendChild(ui.log);
    ui.body.appendChild(ui.status);
    if (config.transcripts && state.email && !state.verified) ui.body.appendChild(codeForm());
    if (config.transcripts && state.email) {
      var transcript = el("button", { type: "button", class: "link", text: t("transcript") });
      transcript.onclick = function () {
        var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
        api("POST", "/transcript", { lang: config.locale, timezone: zone }).then(function (sent) {
          setStatus(t("transcript_sent", { email: sent.email }));
        }, function () { setStatus(t("error")); });
      };
      ui.body.appendChild(transcript);
    }
    ui.body.appendChild(el("div", { class: "compose" }, [attach, file, ui.input, send]));
    (state.outbox || []).forEach(function (item) { render({ client_id: item.client_id, text: item.text, author: "visitor", name: state.name }, true); });
    state.lastId = 0; // the snapshot re-sends the whole chat into this fresh view
    connect();
  }

  function codeForm() {
    // The address is linked to the visitor's history only once they show the code sent there.
    var form = el("form", { class: "code" });
    var code = el("input", { name: "code", inputmode: "numeric", autocomplete: "one-time-code", maxlength: "6", "aria-label": t("code") });
    form.appendChild(el("p", { class: "note", text: t("code_sent", { email: state.email }) }));
    form.appendChild(code);
    form.appendChild(el("button", { type: "submit", text: t("code_check") }));
    form.onsubmit = function (event) {
      event.preventDefault();
      api("POST", "/verification/code", { code: code.value.trim() }).then(function (checked) {
        state.token = checked.token;
        state.verified = true;
        save();
        form.remove();
        setStatus(t("code_ok"));
      }, function (problem) {
        setStatus(problem && problem.status === 429 ? t("too_many") : t("code_wrong"));
      });
    };
    return form;
  }

  function clip() {
    // An icon of our own: pages and headless browsers may have no emoji font.
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "18");
    svg.setAttribute("height", "18");
    svg.setAttribute("aria-hidden", "true");
    var path = document.createElementNS(ns, "path");
    path.setAttribute("d", "M16.5 6.5v10a4.5 4.5 0 0 1-9 0V5a3 3 0 0 1 6 0v10.5a1.5 1.5 0 0 1-3 0V6.5");
    path.setAttribute("fill", "none");
    path.setAttribute("stroke", "currentColor");
    path.setAttribute("stroke-width", "1.8");
    path.setAttribute("stroke-linecap", "round");
    svg.appendChild(path);
    return svg;
  }

  function submit() {
    var text = ui.input.value.trim();
    if (!text) return;
    ui.input.value = "";
    var item = { client_id: newId(), text: text };
    state.outbox = (state.outbox || []).concat([item]);
    save();
    render({ client_id: item.client_id, text: text, author: "visitor", name: state.name }, true);
    wsSend({ type: "message", text: text, client_id: item.client_id });
  }

  function upload(file) {
    var form = new FormData();
    form.append("file", file);
    form.append("client_id", newId());
    api("POST", "/files", form).catch(function () { setStatus(t("file_refused")); });
  }

  function wsSend(message) {
    if (socket && socket.readyState === 1) socket.send(JSON.stringify(message));
  }

  function connect() {
    if (socket) return;
    var url = wsBase + "/chat/ws?after=" + (state.lastId || 0) + "&token=" + encodeURIComponent(state.token);
    var ws = new WebSocket(url);
    socket = ws;
    ws.onopen = function () {
      retry = 0;
      (state.outbox || []).forEach(function (item) { ws.send(JSON.stringify({ type: "message", text: item.text, client_id: item.client_id })); });
    };
    ws.onmessage = function (event) { receive(JSON.parse(event.data)); };
    ws.onclose = function (event) {
      socket = null;
      if (event.code === 4401) { state = {}; save(); showForm(); return; }
      if (!state.token) return;
      setStatus(t("reconnecting"));
      retry = Math.min(retry + 1, 5);
      setTimeout(connect, 500 * Math.pow(2, retry));
    };
  }

  function receive(message) {
    if (message.type === "snapshot" || message.type === "update") {
      message.messages.forEach(function (m) { render(m, false); });
      if (message.messages.length) {
        state.lastId = message.messages[message.messages.length - 1].id;
        save();
        var theirs = message.messages.filter(function (m) { return m.author !== "visitor"; });
        if (theirs.length) {
          var last = theirs[theirs.length - 1].id;
          wsSend({ type: "delivered", message_id: last });
          if (!ui.panel.classList.contains("hidden") && document.visibilityState === "visible") wsSend({ type: "read", message_id: last });
        }
      }
      showStatus(message.status);
    } else if (message.type === "ack") {
      state.outbox = (state.outbox || []).filter(function (i) { return i.client_id !== message.client_id; });
      save();
    } else if (message.type === "typing") {
      setStatus(t("typing", { name: message.name || t("agent") }));
      clearTimeout(typingTimer);
      typingTimer = setTimeout(function () { showStatus(ui.lastStatus); }, 3000);
    } else if (message.type === "error") {
      setStatus(message.code === "opencx.rate_limited" ? t("too_many") : t("error"));
    }
  }

  function render(m, pending) {
    if (m.id && shownIds[m.id]) return;
    var existing = m.client_id && ui.log.querySelector('[data-client-id="' + m.client_id + '"]');
    var node = existing || el("div", { class: "msg " + m.author });
    node.className = "msg " + m.author + (pending ? " pending" : "");
    node.textContent = "";
    if (m.author !== "visitor") node.appendChild(el("span", { class: "who", text: m.name || t("agent") }));
    node.appendChild(document.createTextNode(m.text));
    (m.files || []).forEach(function (f) {
      var link = el("button", { type: "button", class: "link file", text: f.filename });
      link.insertBefore(clip(), link.firstChild);
      link.onclick = function () { download(f); };
      node.appendChild(link);
    });
    if (m.client_id) node.setAttribute("data-client-id", m.client_id);
    if (m.id) { node.setAttribute("data-id", m.id); shownIds[m.id] = true; }
    if (!existing) ui.log.appendChild(node);
    ui.log.scrollTop = ui.log.scrollHeight;
  }

  function download(file) {
    fetch(base + "/chat/files/" + file.id, { headers: { "X-Chat-Token": state.token } })
      .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.blob(); })
      .then(function (blob) {
        var url = URL.createObjectURL(blob);
        var a = el("a", { href: url, download: file.filename });
        root.appendChild(a);
        a.click();
        a.remove();
        setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
      })
      .catch(function () { setStatus(t("failed")); });
  }

  function minutes(seconds) {
    var value = Math.max(1, Math.round(seconds / 60));
    try { return new Intl.NumberFormat(config.locale, { style: "unit", unit: "minute", unitDisplay: "long" }).format(value); }
    catch (e) { return value + " min"; }
  }

  function showStatus(status) {
    ui.lastStatus = status;
    if (!status) return setStatus("");
    if (status.state === "waiting") {
      var parts = [];
      if (status.position) parts.push(t("waiting", { position: String(status.position) }));
      parts.push(status.estimated_wait_seconds == null ? t("wait_unknown") : t("wait_estimate", { wait: minutes(status.estimated_wait_seconds) }));
      setStatus(parts.join(" "));
    } else if (status.state === "connected") {
      setStatus(t("joined", { name: status.agent || t("agent") }));
    } else {
      setStatus(t("ended"));
    }
  }

  function setStatus(text) { if (ui.status) ui.status.textContent = text; }

  function open() {
    dismissInvitation();
    ui.launch.classList.add("hidden");
    ui.panel.classList.remove("hidden");
    state.open = true;
    save();
    if (!state.token) showForm();
    else if (!ui.log) showChat();
  }

  function close() {
    ui.panel.classList.add("hidden");
    ui.launch.classList.remove("hidden");
    state.open = false;
    save();
  }

  var invitationTimers = [];
  function watchInvitations() {
    (config.invitations || []).forEach(function (rule) {
      if (rule.path_prefix && location.pathname.indexOf(rule.path_prefix) !== 0) return;
      invitationTimers.push(setTimeout(function () { consider(rule); }, rule.seconds_on_page * 1000));
    });
  }
  function consider(rule) {
    if (state.token || sessionStorage.getItem(storeKey + ".invited")) return;
    if (rule.min_cart_value != null && !(cartValue >= rule.min_cart_value)) {
      invitationTimers.push(setTimeout(function () { consider(rule); }, 2000));
      return;
    }
    sessionStorage.setItem(storeKey + ".invited", "1");
    var accept = el("button", { class: "primary", type: "button", text: t("start") });
    var later = el("button", { type: "button", text: t("close") });
    ui.invite = el("div", { class: "invite", role: "dialog" }, [el("span", { text: rule.message }), accept, later]);
    accept.onclick = open;
    later.onclick = dismissInvitation;
    root.appendChild(ui.invite);
  }
  function dismissInvitation() {
    invitationTimers.forEach(clearTimeout);
    if (ui.invite) { ui.invite.remove(); ui.invite = null; }
  }

  window.OpenCX = {
    open: function () { if (config) open(); },
    close: function () { if (config) close(); },
    setCartValue: function (value) { cartValue = Number(value); }
  };

  fetch(base + "/chat/widgets/" + encodeURIComponent(key) + "?lang=" + encodeURIComponent(lang))
    .then(function (r) { if (!r.ok) throw new Error("OpenCX widget " + key + ": " + r.status); return r.json(); })
    .then(function (data) {
      config = data;
      build();
      if (state.token && state.open) open();
      else watchInvitations();
    })
    .catch(function (error) { if (window.console) console.warn(String(error)); });
})();
