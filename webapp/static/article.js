/* Marks the words a citation quotes (#:~:text=start,end) on an article page with <mark>,
 * so they stay highlighted in every browser; browsers that do not follow text fragments
 * themselves are also scrolled to them. Browsers hide the directive from location.hash (some
 * even when they do not follow it), so it is read from the navigation entry's URL too.
 * Only text is read and wrapped: nothing is parsed as HTML. */
(function () {
  "use strict";
  var native = "fragmentDirective" in document; // the browser scrolls to the words itself
  var entry = window.performance && performance.getEntriesByType
    ? performance.getEntriesByType("navigation")[0]
    : null;
  var hash = window.location.hash.indexOf(":~:text=") >= 0
    ? window.location.hash
    : (entry && entry.name) || "";
  var at = hash.indexOf(":~:text=");
  if (at < 0) return;
  // textStart[,textEnd], without the optional prefix- and -suffix terms.
  var terms = hash.slice(at + 8).split("&")[0].split(",").filter(function (term) {
    return term && term.slice(-1) !== "-" && term.charAt(0) !== "-";
  });
  var words;
  try {
    words = terms.map(decodeURIComponent);
  } catch (e) {
    return;
  }
  if (!words.length) return;
  var paragraphs = Array.prototype.slice.call(document.querySelectorAll(".passage p"));

  function wrap(p, from, to) {
    var node = p.firstChild;
    if (!node || node.nodeType !== 3 || to <= from) return null;
    var range = document.createRange();
    range.setStart(node, from);
    range.setEnd(node, to);
    var mark = document.createElement("mark");
    range.surroundContents(mark);
    return mark;
  }

  for (var i = 0; i < paragraphs.length; i++) {
    var text = paragraphs[i].textContent;
    var start = text.indexOf(words[0]);
    if (start < 0) continue;
    var marks = [];
    if (words.length === 1) {
      marks.push(wrap(paragraphs[i], start, start + words[0].length));
    } else {
      for (var j = i; j < Math.min(paragraphs.length, i + 20); j++) {
        var from = j === i ? start : 0;
        var endAt = paragraphs[j].textContent.indexOf(words[1], from);
        if (endAt >= 0) {
          marks.push(wrap(paragraphs[j], from, endAt + words[1].length));
          break;
        }
        marks.push(wrap(paragraphs[j], from, paragraphs[j].textContent.length));
      }
    }
    if (marks[0]) marks[0].id = "supple-quote";
    if (marks[0] && !native) marks[0].scrollIntoView({ block: "center" });
    return;
  }
})();
