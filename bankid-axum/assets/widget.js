/* bankid-axum widget: BankID login and signing for any page. No framework, no CDN.
 * <div data-bankid="auth" data-bankid-base="/bankid" data-lang="sv"></div>
 * <script src="/bankid/widget.js" defer></script>
 * Options (data-*): bankid = auth|sign|payment, bankid-base = where the router is mounted,
 * lang = en|sv, bankid-context-from = a CSS selector of an input whose value is sent as context,
 * bankid-label = the start button's text. On completion: if the RP's result has a "redirect",
 * the page goes there; a "bankid:complete" event carries the result either way. */
(function () {
  "use strict";
  var T = {
    en: { auth: "Log in with BankID", sign: "Sign with BankID", payment: "Approve with BankID",
      open: "Open BankID on this device", other: "Use BankID on another device", cancel: "Cancel",
      again: "Try again", restarted: "A new QR code was made.", done: "Done.", cancelled: "Cancelled." },
    sv: { auth: "Logga in med BankID", sign: "Skriv under med BankID", payment: "Godkänn med BankID",
      open: "Öppna BankID på den här enheten", other: "Använd BankID på en annan enhet", cancel: "Avbryt",
      again: "Försök igen", restarted: "En ny QR-kod skapades.", done: "Klart.", cancelled: "Avbrutet." }
  };
  var CSS = ".bankid{font:16px/1.4 system-ui,sans-serif;max-width:22rem}.bankid button,.bankid a.bankid-launch{" +
    "display:block;width:100%;box-sizing:border-box;margin:.4rem 0;padding:.6rem;border-radius:.4rem;border:1px solid #193e4f;" +
    "background:#193e4f;color:#fff;font:inherit;text-align:center;text-decoration:none;cursor:pointer}" +
    ".bankid button.bankid-secondary{background:#fff;color:#193e4f}.bankid-qr svg{width:14rem;height:14rem;display:block;margin:auto}" +
    ".bankid-message{min-height:2.8em}.bankid[hidden],.bankid [hidden]{display:none}";

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text) e.textContent = text;
    return e;
  }

  function Widget(root) {
    this.root = root;
    this.kind = root.getAttribute("data-bankid") || "auth";
    this.base = (root.getAttribute("data-bankid-base") || "/bankid").replace(/\/$/, "");
    this.lang = root.getAttribute("data-lang") === "sv" ? "sv" : "en";
    this.t = T[this.lang];
    this.timer = null;
    this.running = false;
    this.build();
    var m = /bankid-return=([0-9a-f]+)/.exec(location.hash);
    if (m) {
      history.replaceState(null, "", location.pathname + location.search);
      this.show(true);
      this.poll(m[1]);
    }
    var self = this;
    window.addEventListener("pagehide", function () {
      if (self.running) fetch(self.base + "/cancel", { method: "POST", keepalive: true, credentials: "same-origin" });
    });
  }

  Widget.prototype.build = function () {
    var t = this.t, self = this, root = this.root;
    root.classList.add("bankid");
    this.startButton = el("button", "bankid-start", root.getAttribute("data-bankid-label") || t[this.kind]);
    this.startButton.type = "button";
    this.startButton.onclick = function () { self.start(null); };
    this.panel = el("div", "bankid-panel");
    this.qr = el("div", "bankid-qr");
    this.message = el("p", "bankid-message");
    this.message.setAttribute("aria-live", "polite");
    this.launch = el("a", "bankid-launch", t.open);
    this.launch.onclick = function (ev) {
      // Desktop: set location so that the page stays (bankid:/// opens the app).
      if (/^bankid:/.test(self.launch.href)) { ev.preventDefault(); window.location.href = self.launch.href; }
    };
    this.other = el("button", "bankid-secondary bankid-other", t.other);
    this.other.type = "button";
    this.other.onclick = function () { self.start("qr"); };
    this.cancelButton = el("button", "bankid-secondary bankid-cancel", t.cancel);
    this.cancelButton.type = "button";
    this.cancelButton.onclick = function () { self.cancel(); };
    [this.message, this.qr, this.launch, this.other, this.cancelButton].forEach(function (c) { self.panel.appendChild(c); });
    root.appendChild(this.startButton);
    root.appendChild(this.panel);
    this.show(false);
  };

  Widget.prototype.show = function (running) {
    this.running = running;
    this.panel.hidden = !running;
    this.startButton.hidden = running;
  };

  Widget.prototype.call = function (path, body) {
    return fetch(this.base + path, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json" }, body: JSON.stringify(body || {})
    }).then(function (r) {
      return r.json().then(function (j) { j.httpStatus = r.status; return j; }, function () { return { error: "http_" + r.status }; });
    });
  };

  Widget.prototype.start = function (mode) {
    var body = { lang: this.lang, returnPath: location.pathname + location.search };
    if (mode) body.mode = mode;
    var from = this.root.getAttribute("data-bankid-context-from");
    if (from) { var input = document.querySelector(from); if (input) body.context = input.value; }
    clearTimeout(this.timer);
    this.show(true);
    this.qr.textContent = "";
    this.message.textContent = "";
    var self = this;
    this.call("/" + this.kind, body).then(function (s) { self.render(s); }, function () { self.fail(null); });
  };

  Widget.prototype.poll = function (nonce) {
    var self = this, body = { lang: this.lang };
    if (nonce) body.returnNonce = nonce;
    this.call("/status", body).then(function (s) { self.render(s); }, function () { self.fail(null); });
  };

  Widget.prototype.cancel = function () {
    clearTimeout(this.timer);
    var self = this;
    this.running = false;
    this.call("/cancel").then(function () { self.show(false); self.message.textContent = self.t.cancelled; }, function () { self.show(false); });
  };

  Widget.prototype.fail = function (s) {
    clearTimeout(this.timer);
    this.running = false;
    this.qr.textContent = "";
    this.launch.hidden = true;
    this.other.hidden = true;
    this.cancelButton.hidden = true;
    this.message.textContent = (s && (s.rfa && s.rfa.text || s.message && (s.message.text || s.message))) || "Error";
    this.startButton.textContent = this.t.again;
    this.startButton.hidden = false;
    this.root.setAttribute("data-bankid-status", (s && (s.status || s.error)) || "error");
  };

  Widget.prototype.render = function (s) {
    var self = this;
    if (!this.running && !s.error) { return; }
    if (s.error) { return this.fail(s); }
    this.root.setAttribute("data-bankid-status", s.status);
    if (s.orderRef) this.root.setAttribute("data-bankid-order", s.orderRef);
    if (s.status === "pending") {
      this.message.textContent = (s.restarted ? this.t.restarted + " " : "") + (s.message ? s.message.text : "");
      if (s.qr) { this.qr.innerHTML = s.qr.svg; this.qr.setAttribute("data-content", s.qr.content); }
      else { this.qr.textContent = ""; this.qr.removeAttribute("data-content"); }
      this.launch.hidden = !s.launchUrl;
      if (s.launchUrl) this.launch.href = s.launchUrl;
      this.other.hidden = s.mode !== "autoStart";
      this.cancelButton.hidden = false;
      this.timer = setTimeout(function () { self.poll(null); }, s.pollAfterMs || 1000);
      return;
    }
    this.running = false;
    if (s.status === "complete") {
      this.qr.textContent = "";
      this.launch.hidden = true; this.other.hidden = true; this.cancelButton.hidden = true;
      this.message.textContent = this.t.done;
      var result = s.result || {};
      this.root.dispatchEvent(new CustomEvent("bankid:complete", { bubbles: true, detail: result }));
      if (typeof result.redirect === "string" && /^\/(?![\/\\])/.test(result.redirect)) location.href = result.redirect;
      return;
    }
    this.fail(s);
  };

  function init() {
    if (!document.getElementById("bankid-style")) {
      var style = el("style");
      style.id = "bankid-style";
      style.textContent = CSS;
      document.head.appendChild(style);
    }
    var roots = document.querySelectorAll("[data-bankid]");
    for (var i = 0; i < roots.length; i++) if (!roots[i].bankid) roots[i].bankid = new Widget(roots[i]);
  }
  window.BankIdWidget = { init: init };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
})();
