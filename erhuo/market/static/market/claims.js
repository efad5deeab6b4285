/* Market: countdowns to the end of a reservation, and a live claims page.
 *
 * [data-countdown="<ISO time>"] shows mm:ss left, ticking each second; when it
 * reaches zero on a page that was open, the page reloads once (the server
 * settles the reservation on that read).
 * [data-live-claims] opens the member's WebSocket (/ws/me/) and reloads the
 * page when the next item in line is offered to her ({"event": "claim_offered"}).
 */
(function () {
  "use strict";

  function pad(n) { return n < 10 ? "0" + n : String(n); }

  function format(seconds) {
    var h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    return (h ? h + ":" + pad(m) : String(m)) + ":" + pad(s);
  }

  function startCountdowns() {
    var clocks = Array.prototype.slice.call(document.querySelectorAll("[data-countdown]"));
    if (!clocks.length) { return; }
    var reloaded = false;
    function tick() {
      var now = Date.now();
      clocks.forEach(function (el) {
        var until = Date.parse(el.getAttribute("data-countdown"));
        if (isNaN(until)) { return; }
        var left = Math.max(0, Math.round((until - now) / 1000));
        el.textContent = format(left);
        el.classList.toggle("is-urgent", left > 0 && left <= 300);
        if (left === 0 && !el.classList.contains("is-over")) {
          el.classList.add("is-over");
          if (el.hasAttribute("data-was-running") && !reloaded) {
            reloaded = true;
            window.setTimeout(function () { window.location.reload(); }, 1500);
          }
        }
        if (left > 0) { el.setAttribute("data-was-running", ""); }
      });
    }
    tick();
    window.setInterval(tick, 1000);
  }

  function listen(root) {
    if (!("WebSocket" in window)) { return; }
    var path = root.getAttribute("data-ws") || "/ws/me/";
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var delay = 1000;
    function connect() {
      var socket;
      try { socket = new WebSocket(scheme + window.location.host + path); } catch (e) { return; }
      socket.onopen = function () { delay = 1000; };
      socket.onmessage = function (message) {
        var data;
        try { data = JSON.parse(message.data); } catch (e) { return; }
        if (data && data.event === "claim_offered") { window.location.reload(); }
      };
      socket.onclose = function (event) {
        // 4401: not signed in; anything else: try again, slower each time.
        if (event.code === 4401) { return; }
        window.setTimeout(connect, delay);
        delay = Math.min(delay * 2, 30000);
      };
    }
    connect();
  }

  function start() {
    startCountdowns();
    var root = document.querySelector("[data-live-claims]");
    if (root) { listen(root); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
