// One <iframe> per ?embed=URL, as a course page would write by hand. ?resize=plain loads the
// widget's embed-resize.js from the first iframe's origin; ?resize=h5p loads h5p-host.js, a host
// that speaks H5P's resizer protocol as Moodle's and ILIAS's h5p-resizer.js do.
const params = new URLSearchParams(location.search);
const frames = document.getElementById('frames');
const sources = params.getAll('embed');
for (const [i, src] of sources.entries()) {
  const iframe = document.createElement('iframe');
  iframe.src = src;
  iframe.title = `Diffusion Lab ${i + 1}`;
  iframe.loading = 'eager';
  frames.append(iframe);
}
const resize = params.get('resize');
if (resize === 'plain' || resize === 'h5p') {
  const script = document.createElement('script');
  script.src = resize === 'plain' ? new URL('embed-resize.js', sources[0]).href : 'h5p-host.js';
  document.head.append(script);
}
