() => {
  /* The Gradio chat (/): passed to mount_gradio_app(js=...), run once when the page loads.
   * When the reader asks, their question scrolls to the top of the conversation and the reply
   * grows below it, so the view shows the START of the reply (gr.Chatbot(autoscroll=False):
   * Gradio's own scroll would follow the bottom of a long reply on a phone and carry the
   * question and the answer's first lines out of view). The chat keeps the question there
   * while the reply grows, until it reaches the top or the reader scrolls, taps or types in
   * the conversation themselves. */
  "use strict";
  const MARGIN = 8; // px of the conversation shown above the question
  let asked = 0; // the reader's questions in the chat
  let follow = false; // the newest question is being carried to the top
  let queued = false;

  const pane = () =>
    document.querySelector("#supple-chat .bubble-wrap, #supple-chat .panel-wrap");

  function place() {
    queued = false;
    const wrap = pane();
    if (!wrap) return;
    if (!wrap.dataset.suppleWatched) watch(wrap);
    const rows = wrap.querySelectorAll(".message-row.user-row");
    if (rows.length > asked) follow = true; // a new question
    asked = rows.length; // fewer: a new conversation
    if (!follow || !rows.length) return;
    const top =
      rows[rows.length - 1].getBoundingClientRect().top -
      wrap.getBoundingClientRect().top +
      wrap.scrollTop -
      MARGIN;
    const bottom = wrap.scrollHeight - wrap.clientHeight;
    wrap.scrollTop = Math.max(0, Math.min(top, bottom));
    if (bottom >= top) follow = false; // at the top: the reply grows below, the view stays
  }

  function watch(wrap) {
    // The reader's own scroll, tap or key in the conversation: theirs from then on.
    wrap.dataset.suppleWatched = "1";
    const stop = () => {
      follow = false;
    };
    for (const name of ["wheel", "touchstart", "pointerdown", "keydown"]) {
      wrap.addEventListener(name, stop, { passive: true });
    }
  }

  new MutationObserver(() => {
    if (!queued) {
      queued = true;
      requestAnimationFrame(place);
    }
  }).observe(document.body, { childList: true, subtree: true, characterData: true });
}
