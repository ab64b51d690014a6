/* The snippet page's "Test this page": asks /embed/check whether a page's origin may show the
 * widget, and if not, which SUPPLE_ALLOWED_ORIGINS line would allow it. Text only. */
(function () {
  "use strict";
  var form = document.getElementById("supple-check");
  var input = document.getElementById("supple-page");
  var result = document.getElementById("supple-check-result");

  function say(text, ok) {
    result.textContent = text;
    result.className = ok ? "check-ok" : "check-no";
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    say("Checking…", true);
    try {
      var response = await fetch("/embed/check?page=" + encodeURIComponent(input.value.trim()));
      var body = await response.json();
      if (!response.ok) return say(body.error || "HTTP " + response.status, false);
      if (body.allowed) {
        say("Allowed: pages from " + body.origin + " show the chat.", true);
      } else {
        say(
          "Not allowed yet: pages from " + body.origin + " show no bubble. Set " +
            body.setting + " where the app runs, and restart it.",
          false
        );
      }
    } catch (e) {
      say("The check could not be made: " + e, false);
    }
  });
})();
