// Watch page: refresh each camera's latest picture once a second (the live view).
(function () {
  "use strict";
  function refresh() {
    document.querySelectorAll("img.live-picture").forEach(function (img) {
      img.src = img.dataset.src + "?t=" + Date.now();
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    if (document.querySelector("img.live-picture")) { setInterval(refresh, 1000); }
  });
})();
