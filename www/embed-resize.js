/*! diffusion-lab embed-resize.js | MIT License | makes each <iframe> of diffusion-lab's
 * embed.html on this page as tall as the widget inside it. Load it once on the course page:
 *   <script src="https://lab.example.org/embed-resize.js" defer></script>
 * Pages that load H5P's h5p-resizer.js (Moodle, ILIAS) need neither: embed.html speaks its protocol too. */
(function () {
  'use strict';
  if (window.diffusionLabResize) return;
  window.diffusionLabResize = true;
  var MIN_PX = 120;
  var MAX_PX = 20000;

  window.addEventListener('message', function (event) {
    var data = event.data;
    if (!data || typeof data !== 'object' || data.type !== 'diffusion-lab:height') return;
    var height = data.height;
    if (typeof height !== 'number' || !isFinite(height)) return;
    var frames = document.getElementsByTagName('iframe');
    for (var i = 0; i < frames.length; i++) {
      var frame = frames[i];
      if (frame.contentWindow !== event.source) continue;
      var origin;
      try {
        origin = new URL(frame.src, location.href).origin;
      } catch (e) {
        return;
      }
      // only the page the iframe was given may size it (not one it navigated to)
      if (origin !== event.origin) return;
      frame.style.height = Math.round(Math.min(MAX_PX, Math.max(MIN_PX, height))) + 'px';
      return;
    }
  });
})();
