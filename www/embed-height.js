// embed.html in an iframe: tells the page around it how tall the widget is, whenever that
// changes, so that the iframe grows and shrinks with it. Two ways, both harmless without a listener:
//   - the protocol of H5P's h5p-resizer.js, which Moodle and ILIAS pages already load:
//     hello → (hello) → prepareResize → (resizePrepared) → resize; the host answers "resize" when
//     its own window changes size;
//   - a plain message {type: "diffusion-lab:height", height} for embed-resize.js or a host's own script.
// Only messages from the parent window are read; what is sent is a height, nothing else.

export const HEIGHT_MESSAGE = 'diffusion-lab:height';
const HELLO_RETRIES_MS = [0, 500, 2000, 5000]; // the host's script may load after this frame

export function reportHeight() {
  if (window.parent === window) return null;
  const parent = window.parent;
  const body = document.body;
  const send = (data) => parent.postMessage(data, '*');
  let h5pHost = false;
  let last = -1;

  const prepareResize = () => send({ context: 'h5p', action: 'prepareResize', scrollHeight: body.scrollHeight, clientHeight: body.clientHeight });
  const measure = () => {
    const height = Math.ceil(body.getBoundingClientRect().height);
    if (height === last) return;
    last = height;
    send({ type: HEIGHT_MESSAGE, height });
    if (h5pHost) prepareResize();
  };

  window.addEventListener('message', (event) => {
    const data = event.data;
    if (event.source !== parent || !data || typeof data !== 'object' || data.context !== 'h5p') return;
    if (data.action === 'ready') send({ context: 'h5p', action: 'hello' });
    else if (data.action === 'hello') {
      h5pHost = true;
      prepareResize();
    } else if (data.action === 'resizePrepared') send({ context: 'h5p', action: 'resize', scrollHeight: body.scrollHeight });
    else if (data.action === 'resize') prepareResize();
  });
  for (const ms of HELLO_RETRIES_MS) {
    setTimeout(() => { if (!h5pHost) send({ context: 'h5p', action: 'hello' }); }, ms);
  }
  const observer = new ResizeObserver(measure);
  observer.observe(body);
  return observer;
}
