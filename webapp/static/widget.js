/* Supple chat widget. On a blog page:
 *   <script src="https://HOST/widget.js" defer></script>
 * Options (data- attributes on that script tag):
 *   data-position="bottom-right" | "bottom-left"
 *   data-color="#2f6f5e"         any CSS colour, for the bubble and the chat's accents
 *   data-greeting="Hi! ..."      the first message in the chat
 *   data-open="true"             open the chat when the page loads (wide screens only)
 *   data-label="Ask the articles" the panel's title and the bubble's accessible name
 * The chat runs in an iframe (/embed) inside a shadow root: the page's CSS cannot reach it,
 * and it adds no global names and no styles to the page.
 * Before the bubble shows, one GET /api/health asks the app whether this page's origin may use
 * it: when not (SUPPLE_ALLOWED_ORIGINS), no bubble appears and the console says what to set.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.src) return;
  if (document.querySelector("supple-chat")) return; // included twice: one bubble is enough

  var appOrigin = new URL(script.src, window.location.href).origin;
  var data = script.dataset;
  var DEFAULT_COLOR = "#2f6f5e";

  function validColor(value) {
    return value && window.CSS && CSS.supports("color", value) ? value : null;
  }

  var options = {
    left: /left/.test(data.position || ""),
    color: validColor(data.color) || DEFAULT_COLOR,
    greeting: (data.greeting || "").slice(0, 300),
    open: data.open === "" || data.open === "true",
    label: (data.label || "Ask the articles").slice(0, 60),
  };

  var CSS_TEXT = [
    ":host { all: initial; }",
    "* { box-sizing: border-box; }",
    ".bubble { position: fixed; bottom: 20px; right: 20px; width: 60px; height: 60px;",
    "  margin: 0; padding: 0; border: 0; border-radius: 50%; cursor: pointer;",
    "  background: var(--accent); color: #fff; display: flex; align-items: center;",
    "  justify-content: center; box-shadow: 0 4px 14px rgba(0,0,0,.25); z-index: 2147483647; }",
    ".bubble:hover { filter: brightness(1.1); }",
    ".bubble:focus-visible, .close:focus-visible { outline: 3px solid #111; outline-offset: 3px; }",
    ".bubble svg { width: 28px; height: 28px; fill: currentColor; }",
    ".panel { position: fixed; bottom: 92px; right: 20px; width: 390px; height: 620px;",
    "  max-width: calc(100vw - 40px); max-height: calc(100vh - 112px); display: flex;",
    "  flex-direction: column; background: #fff; border-radius: 14px; overflow: hidden;",
    "  box-shadow: 0 10px 40px rgba(0,0,0,.3); z-index: 2147483647;",
    "  font: 15px/1.4 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; }",
    ".panel[hidden], .frame[hidden] { display: none; }",
    ".bar { display: flex; align-items: center; justify-content: space-between;",
    "  padding: 10px 12px 10px 16px; background: var(--accent); color: #fff; }",
    ".title { font-weight: 600; margin: 0; font-size: 16px; }",
    ".close { width: 36px; height: 36px; border: 0; border-radius: 8px; cursor: pointer;",
    "  background: transparent; color: #fff; font-size: 24px; line-height: 1; }",
    ".close:hover { background: rgba(255,255,255,.18); }",
    "iframe { display: block; flex: 1; width: 100%; min-height: 0; border: 0; background: #fff; }",
    ".left .bubble, .left .panel { right: auto; left: 20px; }",
    "@media (max-width: 520px) {",
    "  .panel, .left .panel { inset: 0; width: 100%; height: 100%; max-width: none;",
    "    max-height: none;",
    "    border-radius: 0; }",
    "  .open .bubble { display: none; }",
    "}",
  ].join("\n");

  function make(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      node.setAttribute(name, attrs[name]);
    });
    if (text) node.textContent = text;
    return node;
  }

  function chatIcon() {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var path = document.createElementNS(ns, "path");
    path.setAttribute(
      "d",
      "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm3 " +
        "6v2h2V9H7zm4 0v2h2V9h-2zm4 0v2h2V9h-2z"
    );
    svg.appendChild(path);
    return svg;
  }

  function applyStyles(root) {
    try {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS_TEXT);
      root.adoptedStyleSheets = [sheet];
    } catch (e) {
      root.appendChild(make("style", {}, CSS_TEXT));
    }
  }

  function mount() {
    var host = document.createElement("supple-chat");
    // The host element itself is in the page: pin what page CSS could otherwise change.
    ["display:block", "position:static", "visibility:visible", "opacity:1", "transform:none",
      "filter:none", "width:0", "height:0", "margin:0", "padding:0", "border:0"
    ].forEach(function (rule) {
      var parts = rule.split(":");
      host.style.setProperty(parts[0], parts[1], "important");
    });
    var root = host.attachShadow({ mode: "open" });
    applyStyles(root);

    var frame = make("div", { class: options.left ? "frame left" : "frame" });
    frame.style.setProperty("--accent", options.color);
    var bubble = make("button", {
      type: "button",
      class: "bubble",
      "aria-label": "Open the chat: " + options.label,
      "aria-expanded": "false",
      "aria-controls": "supple-panel",
      title: options.label,
    });
    bubble.appendChild(chatIcon());
    var panel = make("div", {
      id: "supple-panel",
      class: "panel",
      role: "dialog",
      "aria-label": options.label,
    });
    panel.hidden = true;
    var bar = make("div", { class: "bar" });
    bar.appendChild(make("p", { class: "title" }, options.label));
    var close = make("button", { type: "button", class: "close", "aria-label": "Close the chat" });
    close.textContent = "\u00d7";
    bar.appendChild(close);
    panel.appendChild(bar);
    frame.appendChild(panel);
    frame.appendChild(bubble);
    frame.hidden = true; // until the app says this page may use it
    root.appendChild(frame);
    document.body.appendChild(host);

    var iframe = null;

    function focusChat() {
      if (!iframe) return;
      iframe.focus();
      iframe.contentWindow.postMessage({ type: "supple:focus" }, appOrigin);
    }

    function open() {
      if (!iframe) {
        var query = new URLSearchParams({ color: options.color });
        if (options.greeting) query.set("greeting", options.greeting);
        iframe = make("iframe", {
          src: appOrigin + "/embed?" + query.toString(),
          title: options.label + ": chat",
        });
        iframe.addEventListener("load", focusChat);
        panel.appendChild(iframe);
      }
      panel.hidden = false;
      frame.classList.add("open");
      bubble.setAttribute("aria-expanded", "true");
      bubble.setAttribute("aria-label", "Close the chat: " + options.label);
      focusChat();
    }

    function shut() {
      if (panel.hidden) return;
      panel.hidden = true;
      frame.classList.remove("open");
      bubble.setAttribute("aria-expanded", "false");
      bubble.setAttribute("aria-label", "Open the chat: " + options.label);
      bubble.focus();
    }

    bubble.addEventListener("click", function () {
      if (panel.hidden) open();
      else shut();
    });
    close.addEventListener("click", shut);
    root.addEventListener("keydown", function (event) {
      if (event.key === "Escape") shut();
    });
    window.addEventListener("message", function (event) {
      if (event.origin !== appOrigin || !iframe || event.source !== iframe.contentWindow) return;
      if (event.data && event.data.type === "supple:close") shut();
    });

    allowedHere(function (ok) {
      host.setAttribute("data-state", ok ? "ready" : "off");
      if (!ok) return;
      frame.hidden = false;
      if (options.open && window.matchMedia("(min-width: 521px)").matches) open();
    });
  }

  // The app's gate answers a page from an origin it does not allow with 403 and a JSON error
  // (with CORS, so this page can read it). Then no bubble: a reader would only get an empty
  // frame; the site's owner reads the console.
  function allowedHere(done) {
    var setting = "SUPPLE_ALLOWED_ORIGINS=" + window.location.origin;
    fetch(appOrigin + "/api/health", { credentials: "omit" }).then(
      function (response) {
        if (response.ok) return done(true);
        return response.json().then(
          function (body) {
            return body && body.error ? String(body.error) : "HTTP " + response.status;
          },
          function () {
            return "HTTP " + response.status;
          }
        ).then(function (why) {
          console.error(
            "Supple chat widget is off on this page: " + why + " To turn it on, set " +
              setting + " (comma-separated, beside any origins allowed now) where the " +
              "Supple app at " + appOrigin + " runs, and restart it. " + appOrigin +
              "/embed/snippet shows the origins allowed now."
          );
          done(false);
        });
      },
      function () {
        console.error(
          "Supple chat widget is off on this page: the app at " + appOrigin + " cannot be " +
            "reached (is it running? does this page's Content-Security-Policy allow " +
            "connect-src " + appOrigin + "?). If it runs, check that " + setting +
            " is in its settings."
        );
        done(false);
      }
    );
  }

  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
