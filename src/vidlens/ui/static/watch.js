// Watch page: refresh each camera's latest picture once a second (the live view), and play a camera's
// low-latency HLS restream (native HLS where the browser has it, else the hls.js served beside it).
(function () {
  "use strict";
  function playLive(video) {
    var src = video.dataset.src;
    if (video.canPlayType("application/vnd.apple.mpegurl")) {
      video.src = src;
      return;
    }
    var script = document.createElement("script");
    script.src = video.dataset.hls;
    script.onload = function () {
      if (!window.Hls || !window.Hls.isSupported()) { return; }
      var hls = new window.Hls({lowLatencyMode: true, liveSyncDurationCount: 2, enableWorker: false});
      hls.loadSource(src);
      hls.attachMedia(video);
      hls.on(window.Hls.Events.MANIFEST_PARSED, function () { video.play().catch(function () {}); });
    };
    document.head.appendChild(script);
  }
  function refresh() {
    document.querySelectorAll("img.live-picture").forEach(function (img) {
      img.src = img.dataset.src + "?t=" + Date.now();
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    if (document.querySelector("img.live-picture")) { setInterval(refresh, 1000); }
    var video = document.getElementById("live-video");
    if (video) { playLive(video); }
  });
})();
