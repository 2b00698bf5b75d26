/* report.html: timestamps and the timeline seek the player; the segment being played is marked. */
(function () {
  "use strict";
  var audio = document.getElementById("player");
  var segs = Array.prototype.slice.call(document.querySelectorAll(".seg[data-t]"));
  var starts = segs.map(function (el) { return parseFloat(el.getAttribute("data-t")); });
  var current = null;

  function seek(t) {
    if (!audio || !isFinite(t)) { return false; }
    audio.currentTime = t;
    var p = audio.play();
    if (p && p.catch) { p.catch(function () {}); }
    return true;
  }

  document.addEventListener("click", function (e) {
    var el = e.target.closest ? e.target.closest(".ts[data-t]") : null;
    if (el && seek(parseFloat(el.getAttribute("data-t")))) { e.preventDefault(); }
  });

  var tl = document.getElementById("timeline");
  if (tl) {
    tl.addEventListener("click", function (e) {
      var box = tl.getBoundingClientRect();
      var x0 = parseFloat(tl.getAttribute("data-x0")), x1 = parseFloat(tl.getAttribute("data-x1"));
      var vb = tl.viewBox.baseVal, scale = box.width / vb.width;
      var x = (e.clientX - box.left) / scale;
      var t = (x - x0) / (x1 - x0) * parseFloat(tl.getAttribute("data-duration"));
      if (t >= 0 && seek(t)) { mark(t); }
    });
  }

  function indexAt(t) {  // last segment starting at or before t (binary search)
    var lo = 0, hi = starts.length - 1, ans = -1;
    while (lo <= hi) {
      var mid = (lo + hi) >> 1;
      if (starts[mid] <= t) { ans = mid; lo = mid + 1; } else { hi = mid - 1; }
    }
    return ans;
  }

  function mark(t) {
    var i = indexAt(t), el = i >= 0 ? segs[i] : null;
    if (el === current) { return; }
    if (current) { current.classList.remove("now"); }
    if (el) { el.classList.add("now"); }
    current = el;
    var cur = document.getElementById("tl-cursor");
    if (cur && tl) {
      var x0 = parseFloat(tl.getAttribute("data-x0")), x1 = parseFloat(tl.getAttribute("data-x1"));
      var x = x0 + (x1 - x0) * t / parseFloat(tl.getAttribute("data-duration"));
      cur.setAttribute("x1", x); cur.setAttribute("x2", x);
    }
  }

  if (audio) {
    if (audio.error) { document.getElementById("audio-missing").hidden = false; }
    audio.addEventListener("timeupdate", function () { mark(audio.currentTime); });
    audio.addEventListener("error", function () {
      var n = document.getElementById("audio-missing");
      if (n) { n.hidden = false; }
    });
  }
})();
