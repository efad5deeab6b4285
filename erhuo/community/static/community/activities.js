/* Community activities: live countdowns, and the fair draw re-computed in the browser (erhuo-draw-v1).
 * The verification page carries the published data in <script type="application/json" id="draw-data">;
 * this file hashes and draws again with the Web Crypto API and says, step by step, whether it agrees. */
(function () {
  "use strict";

  function pad(n) { return String(n).padStart(2, "0"); }

  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      var left = Math.max(0, Math.floor((Date.parse(el.getAttribute("data-countdown")) - now) / 1000));
      var days = Math.floor(left / 86400), hours = Math.floor((left % 86400) / 3600);
      var minutes = Math.floor((left % 3600) / 60), seconds = left % 60;
      el.textContent = (days ? days + "d " : "") + pad(hours) + ":" + pad(minutes) + ":" + pad(seconds);
      el.classList.toggle("is-urgent", left > 0 && left < 3600);
      el.classList.toggle("is-over", left === 0);
    });
  }

  function hex(buffer) {
    return Array.prototype.map.call(new Uint8Array(buffer), function (b) { return b.toString(16).padStart(2, "0"); }).join("");
  }
  function bytes(hexText) {
    var out = new Uint8Array(hexText.length / 2);
    for (var i = 0; i < out.length; i++) out[i] = parseInt(hexText.substr(i * 2, 2), 16);
    return out;
  }
  function sha256(data) { return crypto.subtle.digest("SHA-256", data).then(hex); }

  function mark(name, ok, text) {
    var el = document.querySelector('[data-check="' + name + '"]');
    if (!el) return;
    el.setAttribute("data-state", ok ? "ok" : "bad");
    if (text) el.querySelector(".ac-check-result").textContent = text;
  }

  function verify() {
    var holder = document.getElementById("draw-data");
    if (!holder) return;
    if (!(window.crypto && crypto.subtle)) {
      document.querySelectorAll("[data-check]").forEach(function (el) { el.setAttribute("data-state", "wait"); });
      return;
    }
    var data = JSON.parse(holder.textContent);
    var ids = data.entrants.map(function (e) { return e.user_id; }).sort(function (a, b) { return a - b; });
    var text = ids.join("\n");
    var encoder = new TextEncoder();
    sha256(encoder.encode(text)).then(function (digest) {
      mark("entrants", digest === data.entrants_hash, digest);
      if (!data.seed) return;
      return sha256(bytes(data.seed)).then(function (seedDigest) {
        mark("seed", seedDigest === data.seed_hash, seedDigest);
        return crypto.subtle.importKey("raw", bytes(data.seed), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
      }).then(function (key) {
        var remaining = ids.slice(), winners = [];
        var rounds = Math.min(data.winners_count, remaining.length);
        var chain = Promise.resolve();
        for (var rank = 1; rank <= rounds; rank++) {
          (function (r) {
            chain = chain.then(function () {
              return crypto.subtle.sign("HMAC", key, encoder.encode(digest + ":" + r)).then(function (mac) {
                var index = Number(BigInt("0x" + hex(mac)) % BigInt(remaining.length));
                winners.push(remaining.splice(index, 1)[0]);
              });
            });
          })(rank);
        }
        return chain.then(function () {
          var recorded = data.winners.map(function (w) { return w.user_id; });
          mark("winners", JSON.stringify(winners) === JSON.stringify(recorded), winners.join(", ") || "—");
        });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    tick();
    if (document.querySelector("[data-countdown]")) setInterval(tick, 1000);
    verify();
  });
})();
