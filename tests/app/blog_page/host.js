// The blog's own script: the widget must leave it working.
document.getElementById("host-button").addEventListener("click", function () {
  var count = document.getElementById("host-count");
  count.textContent = String(Number(count.textContent) + 1);
});
