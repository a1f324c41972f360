// What the element's plots share: SVG elements made from attribute objects, and the axes of a
// 0..1 plot over x labels (the noise schedule over t, the detail curves over the steps).

const NS = 'http://www.w3.org/2000/svg';

export function svgElement(name, attrs = {}, parent = null) {
  const el = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  parent?.append(el);
  return el;
}

/** The axes of a plot of values 0..1: `x(value)`/`y(value)` map to the view box, `ticks` are [x, label] below it. */
export function drawAxes(svg, { x0, x1, y, ticks, bottom }) {
  const axes = svgElement('g', { class: 'sched-axes' }, svg);
  svgElement('line', { x1: x0, y1: y(0), x2: x1, y2: y(0) }, axes);
  svgElement('line', { x1: x0, y1: y(0), x2: x0, y2: y(1) }, axes);
  for (const v of [0, 1]) svgElement('text', { x: x0 - 6, y: y(v) + 4, 'text-anchor': 'end' }, axes).textContent = String(v);
  for (const [x, label] of ticks) svgElement('text', { x, y: bottom, 'text-anchor': 'middle' }, axes).textContent = label;
  return axes;
}
