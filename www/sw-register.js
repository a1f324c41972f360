// Registers www/sw.js (the offline cache of the page files) for index.html and embed.html.
// The <diffusion-lab> element itself never registers it: a course page decides for itself.

export function registerServiceWorker() {
  if (!('serviceWorker' in navigator) || !/^https?:$/.test(location.protocol)) return;
  const register = () => {
    navigator.serviceWorker.register(new URL('./sw.js', import.meta.url), { scope: './' }).catch((err) => {
      // No offline copy (blocked storage, an insecure origin, ...): the page works as before.
      console.info(`diffusion-lab: no offline copy of the page (${err?.message ?? err})`);
    });
  };
  if (document.readyState === 'complete') register();
  else addEventListener('load', register, { once: true });
}
