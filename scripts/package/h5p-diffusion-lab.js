// The H5P content type H5P.DiffusionLab: shows the <diffusion-lab> element with the settings the
// teacher chose in the H5P editor (semantics.json). The widget's files travel in the library's
// widget/ folder; the element is an ES module, loaded with import(), and tells H5P when its
// height changes so that H5P's iframe follows.
var H5P = window.H5P = window.H5P || {};

H5P.DiffusionLab = (function () {
  'use strict';
  var ATTRIBUTES = ['lang', 'mode', 'model', 'prompt', 'steps', 'seed', 'examples', 'lock'];

  function DiffusionLab(params, contentId) {
    if (H5P.EventDispatcher) H5P.EventDispatcher.call(this);
    this.params = params || {};
    this.contentId = contentId;
  }
  if (H5P.EventDispatcher) DiffusionLab.prototype = Object.create(H5P.EventDispatcher.prototype);
  DiffusionLab.prototype.constructor = DiffusionLab;

  DiffusionLab.prototype.attach = function ($container) {
    var self = this;
    var container = $container && $container.get ? $container.get(0) : $container[0] || $container;
    container.classList.add('h5p-diffusion-lab');
    var base = H5P.getLibraryPath('H5P.DiffusionLab-1.0') + '/widget/';
    var moduleUrl = new URL(base + 'diffusion-lab.js', document.baseURI).href;
    var lab = document.createElement('diffusion-lab');
    ATTRIBUTES.forEach(function (name) {
      var value = self.params[name];
      if (value !== undefined && value !== null && String(value).trim() !== '') lab.setAttribute(name, String(value));
    });
    if (!lab.hasAttribute('lang') && H5P.contentLanguage) lab.setAttribute('lang', H5P.contentLanguage);
    container.appendChild(lab);
    import(moduleUrl).then(function () {
      if (typeof ResizeObserver === 'function') {
        new ResizeObserver(function () { if (self.trigger) self.trigger('resize'); }).observe(lab);
      }
    }, function (err) {
      container.textContent = 'Diffusion Lab could not be loaded: ' + (err && err.message ? err.message : err);
    });
  };

  return DiffusionLab;
})();
