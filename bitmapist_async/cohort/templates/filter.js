(function () {
  "use strict";
  // Searchable selects without a network: each filter box hides the options of its select
  // that do not contain the typed text, and selects the first match if the choice got hidden.
  var boxes = document.querySelectorAll("input.bm-filter");
  Array.prototype.forEach.call(boxes, function (box) {
    var select = document.getElementById(box.getAttribute("data-for"));
    var counter = document.getElementById(box.getAttribute("data-for") + "-matches");
    if (!select) { return; }
    box.addEventListener("input", function () {
      var needle = box.value.trim().toLowerCase();
      var first = null;
      var shown = 0;
      Array.prototype.forEach.call(select.options, function (option) {
        var always = option.value === "";
        var hit = always || !needle || option.text.toLowerCase().indexOf(needle) !== -1;
        option.hidden = !hit;
        if (hit && !always) {
          shown += 1;
          if (first === null) { first = option; }
        }
      });
      var current = select.options[select.selectedIndex];
      if ((!current || current.hidden) && first !== null) { select.value = first.value; }
      if (counter) { counter.textContent = needle ? shown + " match" + (shown === 1 ? "" : "es") : ""; }
    });
  });
}());
