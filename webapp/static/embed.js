/* The chat page the widget frames (/embed). It calls /api/ask/stream on this app and shows
 * every reader or article text with textContent: nothing it receives is run as HTML.
 * Each answer with an `id` (the question log is on) gets a thumbs up/down pair that posts to
 * /api/feedback once. */
(function () {
  "use strict";
  var log = document.getElementById("supple-log");
  var form = document.getElementById("supple-form");
  var input = document.getElementById("supple-input");
  var send = document.getElementById("supple-send");
  var disclaimer = document.getElementById("supple-disclaimer").content.textContent.trim();
  var params = new URLSearchParams(window.location.search);
  var history = [];
  var MAX_TURNS = 8;
  var KINDS = { answer: true, not_covered: true, urgent: true };
  var HELP = document.getElementById("supple-help").content.textContent.trim();
  // From the indexed articles' titles and prompts/ (webapp.chat.widget_copy).
  var GREETING = document.getElementById("supple-greeting").content.textContent.trim();

  var color = params.get("color");
  if (color && window.CSS && CSS.supports("color", color)) {
    document.documentElement.style.setProperty("--accent", color);
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function webUrl(value) {
    try {
      var url = new URL(String(value), window.location.href);
      return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  // Links leave the chat for a new tab: the reader keeps the conversation.
  function newTabLink(text, href, className) {
    var link = el("a", className, text);
    link.href = href;
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    return link;
  }

  // The distinct articles of the retrieved passages, best first (2-3 under "not covered").
  // An article without a url of its own is this app's /articles/<slug> page, as in
  // assistant/catalog.py's article_href.
  function closestArticles(passages) {
    var seen = {};
    var out = [];
    (Array.isArray(passages) ? passages : []).forEach(function (p) {
      if (!p || !p.article || seen[p.article] || out.length >= 3) return;
      seen[p.article] = true;
      var href = webUrl(p.url) || webUrl("/articles/" + encodeURIComponent(p.article));
      out.push({ title: p.title || p.article, href: href });
    });
    return out;
  }

  function addMessage(role, text) {
    var box = el("div", "msg " + role);
    if (text) box.appendChild(el("p", "text", text));
    log.appendChild(box);
    log.scrollTop = log.scrollHeight;
    return box;
  }

  function showError(box, message) {
    box.textContent = "";
    box.classList.add("error");
    box.setAttribute("role", "alert");
    box.appendChild(el("p", "text", message));
  }

  function renderAnswer(box, answer) {
    box.textContent = "";
    if (KINDS[answer.kind]) box.classList.add("kind-" + answer.kind);
    box.appendChild(el("p", "text", answer.text));
    if (answer.note) box.appendChild(el("p", "note", answer.note));
    var citations = Array.isArray(answer.citations) ? answer.citations : [];
    if (citations.length) {
      box.appendChild(el("p", "sources-title", "Sources"));
      var list = el("ol", "sources");
      citations.forEach(function (c) {
        var item = el("li");
        // Compact: the title links to the quoted words; the section is its innermost heading.
        var label = "[" + c.n + "] " + c.title;
        var section = String(c.section || "").split(" > ").pop();
        var href = webUrl(c.url);
        if (c.url && href) {
          item.appendChild(newTabLink(label, href, "source-link"));
        } else {
          item.appendChild(el("span", "source-name", label));
        }
        if (section) item.appendChild(el("span", "section", section));
        item.appendChild(el("blockquote", "quote", "“" + c.text + "”"));
        list.appendChild(item);
      });
      box.appendChild(list);
    }
    if (answer.kind === "not_covered") {
      var closest = closestArticles(answer.passages);
      if (closest.length) {
        box.appendChild(el("p", "sources-title", HELP));
        var articles = el("ul", "closest");
        closest.forEach(function (a) {
          var item = el("li");
          item.appendChild(newTabLink(a.title, a.href, "article-link"));
          articles.appendChild(item);
        });
        box.appendChild(articles);
      }
    }
    box.appendChild(el("p", "disclaimer", answer.disclaimer || disclaimer));
    if (typeof answer.id === "string" && answer.id) box.appendChild(feedbackBar(answer.id));
  }

  var VOTES = [
    { liked: true, className: "vote up", label: "Helpful: thumbs up" },
    { liked: false, className: "vote down", label: "Not helpful: thumbs down" },
  ];

  // A thumb drawn inline (the down one is the same, turned by CSS): an emoji would need an
  // emoji font, which many Linux desktops and headless browsers lack.
  var THUMB = "M7 10v11M15 5.9 14 10h5.8a2 2 0 0 1 1.9 2.6l-2.3 7A2 2 0 0 1 17.5 21H4a1 1 0 0 1"
    + "-1-1v-9a1 1 0 0 1 1-1h2.8a2 2 0 0 0 1.8-1.1L12 3a3 3 0 0 1 3 2.9z";

  function thumbIcon() {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "16");
    svg.setAttribute("height", "16");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var path = document.createElementNS(ns, "path");
    path.setAttribute("d", THUMB);
    path.setAttribute("fill", "none");
    path.setAttribute("stroke", "currentColor");
    path.setAttribute("stroke-width", "2");
    path.setAttribute("stroke-linecap", "round");
    path.setAttribute("stroke-linejoin", "round");
    svg.appendChild(path);
    return svg;
  }

  function feedbackBar(answerId) {
    var bar = el("div", "feedback");
    bar.setAttribute("role", "group");
    bar.setAttribute("aria-label", "Was this answer helpful?");
    var status = el("span", "feedback-status");
    status.setAttribute("role", "status");
    var buttons = VOTES.map(function (vote) {
      var button = el("button", vote.className);
      button.appendChild(thumbIcon());
      button.type = "button";
      button.setAttribute("aria-label", vote.label);
      button.setAttribute("aria-pressed", "false");
      button.addEventListener("click", function () {
        sendVote(answerId, vote.liked, button, buttons, status);
      });
      bar.appendChild(button);
      return button;
    });
    bar.appendChild(status);
    return bar;
  }

  // aria-disabled rather than disabled: the pressed button keeps keyboard focus.
  function lockVotes(buttons, locked) {
    buttons.forEach(function (b) {
      if (locked) b.setAttribute("aria-disabled", "true");
      else b.removeAttribute("aria-disabled");
    });
  }

  async function sendVote(answerId, liked, button, buttons, status) {
    if (button.getAttribute("aria-disabled") === "true") return;
    lockVotes(buttons, true);
    button.setAttribute("aria-pressed", "true");
    status.classList.remove("failed");
    status.textContent = "";
    var failure = null;
    try {
      var response = await fetch("/api/feedback", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ answer_id: answerId, liked: liked }),
      });
      if (!response.ok) failure = await errorLine(response);
    } catch (e) {
      failure = "Your vote could not be sent. Please try again.";
    }
    if (failure) {
      button.setAttribute("aria-pressed", "false");
      lockVotes(buttons, false);
      status.classList.add("failed");
      status.textContent = failure;
      return;
    }
    status.textContent = "Thanks";
  }

  async function errorLine(response) {
    var message = "Something went wrong (" + response.status + "). Please try again.";
    try {
      var body = await response.json();
      if (body && body.error) message = String(body.error);
    } catch (e) {
      /* not JSON: keep the generic line */
    }
    return message;
  }

  function parseEvent(block) {
    var event = "message";
    var data = [];
    block.split("\n").forEach(function (line) {
      var colon = line.indexOf(":");
      var field = colon < 0 ? line : line.slice(0, colon);
      var value = colon < 0 ? "" : line.slice(colon + 1);
      if (value.charAt(0) === " ") value = value.slice(1);
      if (field === "event") event = value;
      else if (field === "data") data.push(value);
    });
    return { event: event, data: data.join("\n") };
  }

  async function ask(question) {
    addMessage("user", question);
    var box = addMessage("bot");
    box.setAttribute("aria-busy", "true");
    var textNode = box.appendChild(el("p", "text typing", "…"));
    var body = JSON.stringify({ question: question, history: history.slice(-MAX_TURNS) });
    var response;
    try {
      response = await fetch("/api/ask/stream", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
        body: body,
      });
    } catch (e) {
      showError(box, "The assistant cannot be reached. Please check your connection.");
      return;
    }
    if (!response.ok) {
      showError(box, await errorLine(response));
      return;
    }
    var reader = response.body.getReader();
    var decoder = new TextDecoder();
    var buffer = "";
    var text = "";
    var answer = null;
    for (;;) {
      var chunk = await reader.read();
      if (chunk.done) break;
      buffer += decoder.decode(chunk.value, { stream: true });
      var end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        var event = parseEvent(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
        if (event.event === "token") {
          text += event.data;
          textNode.textContent = text;
          textNode.classList.remove("typing");
          log.scrollTop = log.scrollHeight;
        } else if (event.event === "answer") {
          answer = JSON.parse(event.data);
        } else if (event.event === "error") {
          showError(box, JSON.parse(event.data).error);
          return;
        }
      }
    }
    if (!answer) {
      showError(box, "The answer was cut off. Please try again.");
      return;
    }
    renderAnswer(box, answer);
    box.removeAttribute("aria-busy");
    // The answer first: a reply taller than the chat shows from its start, not its sources.
    log.scrollTop = box.offsetHeight > log.clientHeight ? box.offsetTop - 8 : log.scrollHeight;
    history.push({ role: "user", content: question }, { role: "assistant", content: answer.text });
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    var question = input.value.trim();
    if (!question) {
      addMessage("bot error", "Please type a question.").setAttribute("role", "alert");
      return;
    }
    input.value = "";
    send.disabled = true;
    try {
      await ask(question);
    } finally {
      send.disabled = false;
      input.focus();
    }
  });

  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      if (!send.disabled) form.requestSubmit();
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && window.parent !== window) {
      window.parent.postMessage({ type: "supple:close" }, "*");
    }
  });

  window.addEventListener("message", function (event) {
    if (event.source === window.parent && event.data && event.data.type === "supple:focus") {
      input.focus();
    }
  });

  // A greeting from the URL only when framed (by an allowed site: CSP frame-ancestors), so a
  // link to this page cannot put someone else's words on it.
  var framed = window.parent !== window;
  var greeting = framed ? (params.get("greeting") || "").trim().slice(0, 300) : "";
  addMessage("bot greeting", greeting || GREETING);
  log.lastChild.appendChild(el("p", "disclaimer", disclaimer));
})();
