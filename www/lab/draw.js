// Canvas helpers of the <diffusion-lab> element: drawing RGBA arrays, reading a picture as
// 32×32 RGBA, and the PNG exports (a nearest-neighbour upscale, a strip of all steps).

/** `pixels` (Uint8ClampedArray, Uint8Array, ArrayBuffer or array) as a Uint8ClampedArray. */
export function toClamped(pixels) {
  if (pixels instanceof Uint8ClampedArray) return pixels;
  if (ArrayBuffer.isView(pixels)) return new Uint8ClampedArray(pixels.buffer, pixels.byteOffset, pixels.byteLength);
  if (pixels instanceof ArrayBuffer) return new Uint8ClampedArray(pixels);
  return Uint8ClampedArray.from(pixels ?? []);
}

/** Draws an RGBA picture onto `canvas` (resized to width×height). False when it does not fit. */
export function drawRgba(canvas, pixels, width = 32, height = 32) {
  if (!pixels || !width || !height) return false;
  const data = toClamped(pixels);
  if (data.length !== width * height * 4) return false;
  if (canvas.width !== width) canvas.width = width;
  if (canvas.height !== height) canvas.height = height;
  canvas.getContext('2d').putImageData(new ImageData(data, width, height), 0, 0);
  return true;
}

export function clearCanvas(canvas) {
  canvas.getContext('2d').clearRect(0, 0, canvas.width, canvas.height);
}

/**
 * A decoded picture (an <img> or an ImageBitmap) as size×size RGBA, drawn with smoothing onto
 * white, like the training data (composited on white, then shrunk by averaging); a picture that
 * is not square gives its centre square, undistorted.
 */
export function rgbaFromImage(image, size = 32) {
  const w = image.naturalWidth || image.width;
  const h = image.naturalHeight || image.height;
  const side = Math.min(w, h);
  const canvas = document.createElement('canvas');
  canvas.width = size;
  canvas.height = size;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, size, size);
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  if (side > 0) ctx.drawImage(image, (w - side) / 2, (h - side) / 2, side, side, 0, 0, size, size);
  else ctx.drawImage(image, 0, 0, size, size); // no intrinsic size (an SVG without one)
  return ctx.getImageData(0, 0, size, size).data;
}

function canvasToPng(canvas) {
  return new Promise((resolve, reject) => {
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('the browser could not encode the PNG'))), 'image/png');
  });
}

function rgbaCanvas(pixels, width, height) {
  const c = document.createElement('canvas');
  drawRgba(c, pixels, width, height);
  return c;
}

/** The picture upscaled with nearest-neighbour (crisp pixels) to `size`×`size`, as a PNG blob. */
export function upscaledPng(pixels, width, height, size = 256) {
  const canvas = document.createElement('canvas');
  canvas.width = size;
  canvas.height = size;
  const ctx = canvas.getContext('2d');
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(rgbaCanvas(pixels, width, height), 0, 0, size, size);
  return canvasToPng(canvas);
}

/** Size of one tile of the step strip, in PNG pixels. */
export const STRIP_TILE = 64;

/**
 * A PNG with one row per entry of `rows` (each an array of RGBA pictures or null for "none"),
 * every picture upscaled to STRIP_TILE px: width = columns × STRIP_TILE, height = rows × STRIP_TILE.
 */
export function stripPng(rows, width, height) {
  const columns = Math.max(...rows.map((r) => r.length));
  const canvas = document.createElement('canvas');
  canvas.width = columns * STRIP_TILE;
  canvas.height = rows.length * STRIP_TILE;
  const ctx = canvas.getContext('2d');
  ctx.imageSmoothingEnabled = false;
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  rows.forEach((row, r) => {
    row.forEach((pixels, c) => {
      if (!pixels) {
        // "nothing here yet": a light grey tile
        ctx.fillStyle = '#e6e6e6';
        ctx.fillRect(c * STRIP_TILE, r * STRIP_TILE, STRIP_TILE, STRIP_TILE);
        return;
      }
      ctx.drawImage(rgbaCanvas(pixels, width, height), c * STRIP_TILE, r * STRIP_TILE, STRIP_TILE, STRIP_TILE);
    });
  });
  return canvasToPng(canvas);
}

/** Offers `blob` as a download named `filename` (a temporary link inside `container`). */
export function downloadBlob(blob, filename, container) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.hidden = true;
  container.append(a);
  a.click();
  a.remove();
  // Give the browser time to start the download before the URL is revoked.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** "Roter Apfel!" → "roter-apfel": for file names. */
export function slug(text, max = 40) {
  const s = String(text ?? '')
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/ß/g, 'ss')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, max)
    .replace(/-+$/, '');
  return s || 'bild';
}
