/* Marks the words a citation quotes (#:~:text=start,end) on an article page, for browsers
 * that do not follow text fragments themselves. Browsers that do (Chrome, Edge, Safari,
 * Firefox 131+) hide the fragment from location.hash and highlight the words on their own,
 * so this does nothing there. Only text is read and wrapped: nothing is parsed as HTML. */
(function () {
  "use strict";
  if ("fragmentDirective" in document) return;
  var hash = window.location.hash;
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
    if (marks[0]) marks[0].scrollIntoView({ block: "center" });
    return;
  }
})();
