// Photos made ready in the browser before they go up, as messaging apps do: at most
// MAX_SIDE pixels on the long side, turned the way their EXIF orientation says, and
// encoded again (JPEG, or PNG / WebP where the picture has transparency), which leaves
// the camera's metadata (GPS position included) behind on the device. A picture that is
// small enough, upright and without metadata goes as it is; GIFs (animations) always do.
// "Send original quality" skips all this: the server still takes the metadata out.

export const MAX_SIDE = 2560;
export const QUALITY = 0.85;

const PREPARED = new Set(['image/jpeg', 'image/png', 'image/webp']);
const EXTENSION = { 'image/jpeg': 'jpg', 'image/png': 'png', 'image/webp': 'webp' };
const HEAD_BYTES = 256 * 1024; // enough to find the metadata of any ordinary photo

function u16(b, i) { return (b[i] << 8) | b[i + 1]; }
function u32(b, i) { return ((b[i] << 24) >>> 0) + (b[i + 1] << 16) + (b[i + 2] << 8) + b[i + 3]; }
function tag(b, i) { return String.fromCharCode(b[i], b[i + 1], b[i + 2], b[i + 3]); }

/** What the first bytes say: {metadata, alpha}. metadata: EXIF, XMP, text or comments
 * (so the file is worth encoding again); alpha: the picture may be transparent. */
function inspect(b, type) {
  if (type === 'image/jpeg') {
    let i = 2;
    while (i + 4 <= b.length && b[i] === 0xff) {
      const marker = b[i + 1];
      if (marker === 0xda || marker === 0xd9) break;
      if ((marker >= 0xe1 && marker <= 0xef) || marker === 0xfe) return { metadata: true, alpha: false };
      i += 2 + u16(b, i + 2);
    }
    return { metadata: false, alpha: false };
  }
  if (type === 'image/png') {
    const colour = b[25];
    let alpha = colour === 4 || colour === 6;
    let i = 8;
    while (i + 8 <= b.length) {
      const kind = tag(b, i + 4);
      if (kind === 'IDAT') break;
      if (kind === 'tRNS') alpha = true;
      if (['tEXt', 'zTXt', 'iTXt', 'eXIf', 'tIME'].includes(kind)) return { metadata: true, alpha };
      i += 12 + u32(b, i);
    }
    return { metadata: false, alpha };
  }
  // WebP: the VP8X header's flags say alpha, EXIF and XMP.
  const extended = tag(b, 12) === 'VP8X';
  const flags = extended ? b[20] : 0;
  return { metadata: Boolean(flags & 0x0c), alpha: Boolean(flags & 0x10) || tag(b, 12) === 'VP8L' };
}

async function encode(bitmap, width, height, type) {
  if (typeof OffscreenCanvas === 'function') {
    const canvas = new OffscreenCanvas(width, height);
    canvas.getContext('2d').drawImage(bitmap, 0, 0, width, height);
    return canvas.convertToBlob({ type, quality: QUALITY });
  }
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  canvas.getContext('2d').drawImage(bitmap, 0, 0, width, height);
  return new Promise((resolve) => canvas.toBlob(resolve, type, QUALITY));
}

function renamed(name, type) {
  const base = (name || 'image').replace(/\.[A-Za-z0-9]{1,5}$/, '');
  return `${base}.${EXTENSION[type]}`;
}

/**
 * The file to upload for `file`: itself when it is not a photo this can improve (or the
 * browser cannot decode it), else a new File, smaller, upright and without metadata.
 * Returns {file, reduced}: reduced says a prepared copy replaced the original.
 */
export async function prepareImage(file) {
  if (!PREPARED.has(file.type) || typeof createImageBitmap !== 'function') return { file, reduced: false };
  let bitmap;
  try {
    const head = new Uint8Array(await file.slice(0, HEAD_BYTES).arrayBuffer());
    const seen = inspect(head, file.type);
    bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' });
    const long = Math.max(bitmap.width, bitmap.height);
    if (long <= MAX_SIDE && !seen.metadata) return { file, reduced: false };
    const scale = Math.min(1, MAX_SIDE / long);
    const width = Math.max(1, Math.round(bitmap.width * scale));
    const height = Math.max(1, Math.round(bitmap.height * scale));
    const type = !seen.alpha ? 'image/jpeg' : file.type === 'image/webp' ? 'image/webp' : 'image/png';
    const blob = await encode(bitmap, width, height, type);
    if (!blob || !blob.size) return { file, reduced: false };
    const prepared = new File([blob], renamed(file.name, type), { type, lastModified: file.lastModified });
    return { file: prepared, reduced: true, width, height };
  } catch {
    return { file, reduced: false }; // not decodable here: the server checks it as it is
  } finally {
    if (bitmap) bitmap.close();
  }
}
