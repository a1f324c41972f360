// One <iframe> per ?embed=URL, as a course page would write by hand.
const frames = document.getElementById('frames');
for (const [i, src] of new URLSearchParams(location.search).getAll('embed').entries()) {
  const iframe = document.createElement('iframe');
  iframe.src = src;
  iframe.title = `Diffusion Lab ${i + 1}`;
  iframe.loading = 'eager';
  frames.append(iframe);
}
