// What an H5P player gives a content type, and no more: H5P.EventDispatcher, H5P.getLibraryPath,
// the library's preloaded JS and CSS, `new H5P.DiffusionLab(params, contentId)` and attach() with
// a jQuery-like container. ?h5p=FOLDER names the unpacked .h5p (h5p.json, content/, the library).
window.H5P = {
  EventDispatcher: function EventDispatcher() {},
  resizes: 0,
  getLibraryPath: (name) => `${window.H5P.root}/${name}`,
};
window.H5P.EventDispatcher.prototype.trigger = function trigger(type) {
  if (type === 'resize') window.H5P.resizes++;
};
window.addEventListener('DOMContentLoaded', async () => {
  const root = new URLSearchParams(location.search).get('h5p');
  window.H5P.root = root;
  const h5p = await (await fetch(`${root}/h5p.json`)).json();
  const params = await (await fetch(`${root}/content/content.json`)).json();
  const dep = h5p.preloadedDependencies[0];
  const folder = `${root}/${dep.machineName}-${dep.majorVersion}.${dep.minorVersion}`;
  const library = await (await fetch(`${folder}/library.json`)).json();
  for (const css of library.preloadedCss) {
    const link = document.createElement('link');
    link.rel = 'stylesheet';
    link.href = `${folder}/${css.path}`;
    document.head.append(link);
  }
  for (const js of library.preloadedJs) {
    await new Promise((resolve, reject) => {
      const script = document.createElement('script');
      script.src = `${folder}/${js.path}`;
      script.onload = resolve;
      script.onerror = reject;
      document.head.append(script);
    });
  }
  const Type = window.H5P[h5p.mainLibrary.replace(/^H5P\./, '')];
  const container = document.getElementById('content');
  new Type(params, 1).attach({ get: () => container });
  window.h5pAttached = true;
});
