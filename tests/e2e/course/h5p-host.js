// A course page's side of H5P's iframe resizer protocol, written from its description (what the
// h5p-resizer.js of Moodle and ILIAS does): an iframe says "hello" and is answered "hello";
// "prepareResize" {scrollHeight, clientHeight} sets the iframe to clientHeight and is answered
// "resizePrepared"; "resize" {scrollHeight} sets it to scrollHeight. A window resize asks the
// iframe to measure again. Only messages from one of this page's iframes count.
window.h5pHostLog = [];
window.addEventListener('message', (event) => {
  const data = event.data;
  if (!data || data.context !== 'h5p') return;
  const iframe = [...document.getElementsByTagName('iframe')].find((f) => f.contentWindow === event.source);
  if (!iframe) return;
  window.h5pHostLog.push(data.action);
  const respond = (action) => event.source.postMessage({ context: 'h5p', action }, event.origin);
  if (data.action === 'hello') {
    iframe.style.width = '100%';
    window.addEventListener('resize', () => respond('resize'));
    respond('hello');
  } else if (data.action === 'prepareResize') {
    if (iframe.clientHeight !== data.scrollHeight || data.scrollHeight !== data.clientHeight) {
      iframe.style.height = `${data.clientHeight}px`;
      respond('resizePrepared');
    }
  } else if (data.action === 'resize') {
    iframe.style.height = `${data.scrollHeight}px`;
  }
});
for (const iframe of document.getElementsByTagName('iframe')) {
  iframe.contentWindow.postMessage({ context: 'h5p', action: 'ready' }, '*');
}
