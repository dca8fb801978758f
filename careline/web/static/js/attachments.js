// Files in the web client: attach by button, drag and drop or paste; the upload tray
// (progress, cancel, the virus check, clear errors); and files inside messages (images
// inline with a viewer, the PDF preview, file cards, audio and video players).
//
// Files go up as the raw request body (one request per file, so progress and cancel are
// per file). Download links are short-lived and made for the signed-in person: they are
// fetched when needed and never stored.

import { h, svg, announce, focus } from './dom.js';
import { api } from './api.js';
import { on, state } from './store.js';
import { openDialog } from './views/common.js';
import { prepareImage } from './imageprep.js';
import { openViewer } from './views/viewer.js';

const PATHS = {
  clip: ['M21.4 11.1l-9.2 9.2a6 6 0 0 1-8.5-8.5l9.2-9.2a4 4 0 0 1 5.7 5.7l-9.2 9.2a2 2 0 0 1-2.8-2.8l8.5-8.5'],
  file: ['M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8z', 'M14 2v6h6'],
  pdf: ['M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8z', 'M14 2v6h6', 'M8 13h8', 'M8 17h5'],
  image: ['M3 5a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2v14a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2z', 'M8.5 10a1.5 1.5 0 1 0 0-3 1.5 1.5 0 0 0 0 3z', 'M21 15l-5-5L5 21'],
  audio: ['M9 18V5l12-2v13', 'M6 21a3 3 0 1 0 0-6 3 3 0 0 0 0 6z', 'M18 19a3 3 0 1 0 0-6 3 3 0 0 0 0 6z'],
  video: ['M23 7l-7 5 7 5z', 'M1 5h15v14H1z'],
  download: ['M21 15v4a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2v-4', 'M7 10l5 5 5-5', 'M12 15V3'],
  shield: ['M12 22s8-4 8-10V5l-8-3-8 3v7c0 6 8 10 8 10z'],
  alert: ['M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18z', 'M12 8v4', 'M12 16h.01'],
  x: ['M18 6 6 18', 'M6 6l12 12'],
};

function glyph(name, size = 20, label = null) {
  return svg(PATHS[name], { size, label });
}

const KIND_ICON = { image: 'image', pdf: 'pdf', document: 'file', text: 'file', audio: 'audio', video: 'video' };
const KIND_LABEL = { image: 'Image', pdf: 'PDF', document: 'Document', text: 'Text', audio: 'Audio', video: 'Video' };

export function formatSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(bytes < 10 * 1024 * 1024 ? 1 : 0)} MB`;
}

/** How a message with files but no text reads in a list ("📎 scan.pdf"). */
export function filesLabel(message) {
  const files = message.attachments || [];
  if (!files.length) return '';
  return `📎 ${files.length === 1 ? files[0].name : `${files.length} files`}`;
}

// policy and links ---------------------------------------------------------------------

let policyRequest = null;

export function policy() {
  if (!policyRequest) {
    policyRequest = api('GET', '/attachments/policy').catch((err) => {
      policyRequest = null;
      throw err;
    });
  }
  return policyRequest;
}

const linkCache = new Map(); // attachment id -> {links, until}

/** Fresh download links for one file, made for the signed-in person. */
export async function linksFor(id) {
  const hit = linkCache.get(id);
  if (hit && hit.until - Date.now() > 20_000) return hit.links;
  const found = await api('GET', `/attachments/${id}`);
  const until = found.links_expire_at ? Date.parse(found.links_expire_at) : 0;
  linkCache.set(id, { links: found.links, until });
  if (linkCache.size > 500) linkCache.delete(linkCache.keys().next().value);
  return found.links;
}

async function download(file) {
  try {
    const links = await linksFor(file.id);
    const a = h('a', { href: links.original, download: file.name, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
  } catch (err) {
    announce(`The file could not be downloaded: ${err.message}`, { tone: 'error' });
  }
}

// uploading ------------------------------------------------------------------------------

class UploadError extends Error {
  constructor(message, code) {
    super(message);
    this.code = code;
  }
}

/** One file going up: progress as it is sent, then the server's answer. */
function sendFile(conversationId, file, onProgress) {
  const xhr = new XMLHttpRequest();
  const done = new Promise((resolve, reject) => {
    xhr.open('POST', `/api/v1/conversations/${conversationId}/attachments`);
    xhr.setRequestHeader('X-File-Name', encodeURIComponent(file.name || 'file'));
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    if (state.me && state.me.csrf_token) xhr.setRequestHeader('X-CSRF-Token', state.me.csrf_token);
    xhr.upload.addEventListener('progress', (ev) => {
      if (ev.lengthComputable) onProgress(ev.loaded / ev.total);
    });
    xhr.addEventListener('load', () => {
      let body = {};
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        // not JSON: the status says enough
      }
      if (xhr.status === 201) resolve(body);
      else reject(new UploadError(body.detail || `the upload failed (${xhr.status})`, body.code || 'error'));
    });
    xhr.addEventListener('error', () => reject(new UploadError('careline could not be reached', 'network')));
    xhr.addEventListener('abort', () => reject(new UploadError('cancelled', 'cancelled')));
    xhr.send(file);
  });
  return { done, abort: () => xhr.abort() };
}

/** States of a file not yet settled: a message sent now waits for it (handOff). */
const BUSY = ['preparing', 'uploading', 'checking'];

const STATUS = {
  preparing: () => 'Preparing…',
  uploading: (u) => `Uploading… ${Math.round(u.progress * 100)}%`,
  checking: () => 'Checking for viruses…',
  ready: () => 'Ready to send',
  failed: (u) => `Not attached: ${u.error}`,
};

let uploadSeq = 0;

/**
 * The files waiting to go with the next message, shown above the composer's input.
 * `onChange` runs whenever what could be sent changes.
 */
export function uploadTray(conversationId, { onChange }) {
  const uploads = [];
  const list = h('ul', { class: 'att-tray', 'aria-label': 'Files to send', hidden: true });
  const changed = () => {
    list.hidden = uploads.length === 0;
    onChange();
  };

  function row(u) {
    const status = h('span', { class: 'att-status', role: u.state === 'failed' ? 'alert' : null }, STATUS[u.state](u));
    const bar = h('progress', {
      class: 'att-progress', max: '100', value: String(Math.round(u.progress * 100)),
      'aria-label': `Uploading ${u.file.name}`, hidden: u.state !== 'uploading',
    });
    const picture = u.localUrl && u.state !== 'failed'
      ? h('img', { class: 'att-tray-thumb', src: u.localUrl, alt: '' })
      : h('span', { class: 'att-tray-icon' }, glyph(u.state === 'failed' ? 'alert' : 'file'));
    const label = u.state === 'uploading' || u.state === 'checking' ? `Cancel ${u.file.name}` : `Remove ${u.file.name}`;
    // A photo made smaller in the browser can go in its original quality instead.
    const original = u.reduced && u.state !== 'failed'
      ? h('button', { type: 'button', class: 'att-original', onclick: () => sendOriginal(u) }, 'Send original quality')
      : null;
    return h(
      'li',
      { class: ['att-item', `att-${u.state}`], 'data-upload': String(u.seq) },
      picture,
      h('span', { class: 'att-info' },
        h('span', { class: 'att-name', dir: 'auto' }, u.file.name),
        status,
        bar,
        original),
      h('button', { type: 'button', class: 'icon-btn att-cancel', 'aria-label': label, title: label, onclick: () => remove(u) }, glyph('x', 18)),
    );
  }

  function redraw(u) {
    const fresh = row(u);
    if (u.element && u.element.isConnected) u.element.replaceWith(fresh);
    else list.append(fresh);
    u.element = fresh;
    changed();
  }

  // A message sent while its files were busy waits for them (handOff): each settles once,
  // clean (ready) or refused (failed, or removed).
  function settle(u) {
    if (u.onSettled) u.onSettled(u);
    u.onSettled = null;
  }

  function finish(u, attachment) {
    if (u.state !== 'checking') return;
    u.attachment = attachment;
    if (attachment.state === 'available') {
      u.state = 'ready';
    } else if (attachment.state === 'quarantined') {
      u.state = 'failed';
      u.error = attachment.reason || 'a virus scan found malware in this file';
    } else {
      return;
    }
    u.stopWatching();
    if (u.handedOff) {
      settle(u);
      if (u.localUrl) URL.revokeObjectURL(u.localUrl);
      return;
    }
    redraw(u);
    announce(u.state === 'ready' ? `${u.file.name} is ready to send` : `${u.file.name}: ${u.error}`, { tone: u.state === 'ready' ? 'info' : 'error' });
  }

  function watch(u) {
    // The socket says when the scan is done; asking now and then covers a lost frame.
    const off = on('attachment', (frame) => {
      if (frame.attachment_id === u.attachment.id) api('GET', `/attachments/${u.attachment.id}`).then((a) => finish(u, a)).catch(() => {});
    });
    const timer = setInterval(() => {
      api('GET', `/attachments/${u.attachment.id}`).then((a) => finish(u, a)).catch(() => {});
    }, 3000);
    u.stopWatching = () => {
      off();
      clearInterval(timer);
    };
  }

  async function start(u) {
    const sending = sendFile(conversationId, u.file, (fraction) => {
      u.progress = fraction;
      const bar = u.element && u.element.querySelector('progress');
      if (bar) bar.value = Math.round(fraction * 100);
      const status = u.element && u.element.querySelector('.att-status');
      if (status) status.textContent = STATUS.uploading(u);
    });
    u.abort = sending.abort;
    u.sending = sending;
    try {
      const attachment = await sending.done;
      if (u.sending !== sending) return; // replaced meanwhile (Send original quality)
      u.attachment = attachment;
      if (u.onUploaded) u.onUploaded(u.file.name, u.attachment.id);
      u.state = 'checking';
      u.progress = 1;
      if (!u.handedOff) redraw(u);
      watch(u);
    } catch (err) {
      if (err.code === 'cancelled' || u.sending !== sending) return;
      u.state = 'failed';
      u.error = err.message;
      if (u.handedOff) {
        settle(u);
        return;
      }
      redraw(u);
      announce(`${u.file.name} was not attached: ${err.message}`, { tone: 'error' });
    }
  }

  /** The photo as it was chosen instead of the copy prepared for it (the server still
   * takes its metadata out). */
  function sendOriginal(u) {
    if (u.abort) u.abort();
    if (u.stopWatching) u.stopWatching();
    if (u.attachment) api('DELETE', `/attachments/${u.attachment.id}`).catch(() => {});
    Object.assign(u, { file: u.source, reduced: false, attachment: null, state: 'uploading', progress: 0 });
    redraw(u);
    announce(`${u.file.name} will be sent in its original quality`);
    start(u);
  }

  function remove(u) {
    const i = uploads.indexOf(u);
    if (i < 0) return;
    uploads.splice(i, 1);
    if (u.state === 'uploading' && u.abort) u.abort();
    if (u.stopWatching) u.stopWatching();
    if (u.attachment && u.state !== 'failed') {
      // Uploaded but not sent: withdraw it, so its bytes do not linger.
      api('DELETE', `/attachments/${u.attachment.id}`).catch(() => {});
    }
    if (u.localUrl) URL.revokeObjectURL(u.localUrl);
    if (u.element) u.element.remove();
    announce(`${u.file.name} removed`);
    changed();
  }

  function refuse(u, error) {
    u.state = 'failed';
    u.error = error;
    if (u.handedOff) {
      settle(u);
      return;
    }
    redraw(u);
    announce(`${u.file.name} was not attached: ${error}`, { tone: 'error' });
  }

  async function add(fileList) {
    const files = [...fileList];
    if (!files.length) return;
    let limits = null;
    try {
      limits = await policy();
    } catch {
      // Unknown limits: the server still enforces them and says so.
    }
    for (const file of files) {
      uploadSeq += 1;
      const u = { seq: uploadSeq, file, source: file, state: 'preparing', progress: 0, error: null, attachment: null, element: null };
      if (file.type && file.type.startsWith('image/') && file.type !== 'image/svg+xml') u.localUrl = URL.createObjectURL(file);
      uploads.push(u);
      redraw(u);
      Object.assign(u, await prepareImage(file), { state: 'uploading' });
      // Removed while it was being prepared; one handed off to a message goes on outside the tray.
      if (!uploads.includes(u) && !u.handedOff) continue;
      if (limits && u.file.size > limits.max_bytes) {
        refuse(u, `files can be at most ${formatSize(limits.max_bytes)}; this one is ${formatSize(u.file.size)}`);
        continue;
      }
      if (limits && uploads.filter((x) => x.state !== 'failed').length > limits.max_attachments_per_message) {
        refuse(u, `a message carries at most ${limits.max_attachments_per_message} files`);
        continue;
      }
      if (!u.handedOff) redraw(u);
      start(u);
    }
  }

  return {
    element: list,
    add,
    /** Files scanned clean, to send with the next message. */
    ready: () => uploads.filter((u) => u.state === 'ready').map((u) => u.attachment),
    /** Files still going up or being checked. */
    busy: () => uploads.some((u) => BUSY.includes(u.state)),
    /**
     * Sending while files are still going up or being checked: they leave the tray and
     * go with the message. Null when none is busy; else `files` ({name, id once
     * uploaded}) and `settled`, a promise of {ready: [attachment], refused: [{name,
     * error}]} once every one has settled. `onUploaded(name, id)` runs as each arrives.
     */
    handOff(onUploaded) {
      const busy = uploads.filter((u) => BUSY.includes(u.state));
      if (!busy.length) return null;
      const settled = Promise.all(busy.map((u) => new Promise((resolve) => {
        u.handedOff = true;
        u.onSettled = resolve;
        u.onUploaded = onUploaded;
        uploads.splice(uploads.indexOf(u), 1);
        if (u.element) u.element.remove();
      }))).then((done) => ({
        ready: done.filter((u) => u.state === 'ready').map((u) => u.attachment),
        refused: done.filter((u) => u.state !== 'ready').map((u) => ({ name: u.file.name, error: u.error })),
      }));
      changed();
      return { files: busy.map((u) => ({ name: u.file.name, id: u.attachment ? u.attachment.id : null })), settled };
    },
    /** After a send: the sent files leave the tray (refused ones stay, to be read). */
    sent() {
      for (const u of uploads.filter((x) => x.state === 'ready')) {
        uploads.splice(uploads.indexOf(u), 1);
        if (u.localUrl) URL.revokeObjectURL(u.localUrl);
        if (u.element) u.element.remove();
      }
      changed();
    },
  };
}

/** The attach button and its (hidden) file picker. */
export function attachButton(onFiles) {
  const input = h('input', {
    type: 'file', multiple: true, class: 'att-input', tabindex: '-1', 'aria-hidden': 'true',
    onchange: () => {
      onFiles(input.files);
      input.value = '';
    },
  });
  const button = h('button', {
    type: 'button', class: 'icon-btn attach-btn', 'aria-label': 'Attach files', title: 'Attach files',
    onclick: () => input.click(),
  }, glyph('clip'));
  return h('span', { class: 'attach' }, button, input);
}

/** Files dropped anywhere on `target` go to `onFiles`; a hint shows while dragging. */
export function acceptDrops(target, onFiles) {
  let depth = 0;
  const hint = h('div', { class: 'drop-hint', hidden: true, 'aria-hidden': 'true' },
    h('div', { class: 'drop-card' }, glyph('clip', 28), h('span', {}, 'Drop files to attach them')));
  target.append(hint);
  const hasFiles = (ev) => ev.dataTransfer && [...ev.dataTransfer.types].includes('Files');
  target.addEventListener('dragenter', (ev) => {
    if (!hasFiles(ev)) return;
    ev.preventDefault();
    depth += 1;
    hint.hidden = false;
  });
  target.addEventListener('dragover', (ev) => {
    if (hasFiles(ev)) ev.preventDefault();
  });
  target.addEventListener('dragleave', () => {
    depth = Math.max(0, depth - 1);
    if (!depth) hint.hidden = true;
  });
  target.addEventListener('drop', (ev) => {
    depth = 0;
    hint.hidden = true;
    if (!ev.dataTransfer || !ev.dataTransfer.files.length) return;
    ev.preventDefault();
    onFiles(ev.dataTransfer.files);
  });
}

/** Files pasted into `input` (a screenshot, a copied file) go to `onFiles`. */
export function acceptPaste(input, onFiles) {
  input.addEventListener('paste', (ev) => {
    const files = ev.clipboardData ? [...ev.clipboardData.files] : [];
    if (!files.length) return;
    ev.preventDefault();
    onFiles(files);
  });
}

// files in messages ----------------------------------------------------------------------

function viewer(file) {
  const img = h('img', { class: 'viewer-img', alt: file.kind === 'pdf' ? `First page of ${file.name}` : file.name });
  const note = file.kind === 'pdf' ? h('p', { class: 'viewer-note' }, 'First page. Download the file to read all of it.') : null;
  const get = h('button', { type: 'button', class: 'btn btn-primary', onclick: () => download(file) }, glyph('download', 18), h('span', {}, 'Download'));
  openDialog({
    title: file.name,
    cls: 'dialog-viewer',
    content: h('div', { class: 'viewer' }, img, note, h('p', { class: 'viewer-meta' }, `${KIND_LABEL[file.kind]} · ${formatSize(file.size)}`)),
    actions: [get],
  });
  linksFor(file.id)
    .then((links) => { img.src = links.preview || links.original; })
    .catch((err) => announce(`The file could not be opened: ${err.message}`, { tone: 'error' }));
  focus(get);
}

function thumbnail(file, cls) {
  const img = h('img', { class: cls, alt: file.kind === 'image' ? file.name : '', loading: 'lazy', decoding: 'async' });
  linksFor(file.id).then((links) => { img.src = links.thumb; }).catch(() => img.classList.add('att-broken'));
  return img;
}

function mediaPlayer(file) {
  const player = h(file.kind === 'audio' ? 'audio' : 'video', { class: `att-${file.kind}`, controls: true, preload: 'metadata' });
  linksFor(file.id).then((links) => { player.src = links.original; }).catch(() => {});
  return player;
}

function card(file) {
  const hasPreview = file.previews && file.previews.includes('thumb');
  const open = hasPreview
    ? h('button', { type: 'button', class: 'att-card-preview', 'aria-label': `Preview ${file.name}`, onclick: () => viewer(file) }, thumbnail(file, 'att-card-thumb'))
    : h('span', { class: 'att-card-icon' }, glyph(KIND_ICON[file.kind] || 'file', 24));
  return h(
    'div',
    { class: ['att-card', `att-kind-${file.kind}`] },
    open,
    h('div', { class: 'att-card-info' },
      h('span', { class: 'att-card-name', dir: 'auto', title: file.name }, file.name),
      h('span', { class: 'att-card-meta' }, `${KIND_LABEL[file.kind] || 'File'} · ${formatSize(file.size)}`),
      file.kind === 'audio' || file.kind === 'video' ? mediaPlayer(file) : null),
    h('button', { type: 'button', class: 'icon-btn att-download', 'aria-label': `Download ${file.name}`, title: 'Download', onclick: () => download(file) }, glyph('download', 18)),
  );
}

const shownImages = new WeakMap(); // an image's button in a thread -> its file

/** The full-screen viewer on this image, among the images of its conversation loaded. */
function viewImage(button) {
  const around = button.closest('.thread') || document;
  const buttons = [...around.querySelectorAll('.att-image')].filter((b) => shownImages.has(b));
  const images = buttons.map((b) => shownImages.get(b));
  openViewer(images, Math.max(0, buttons.indexOf(button)), { linksFor, download });
}

/** The files of a message: images inline (open the viewer), everything else as cards. */
export function attachmentsView(message) {
  const files = message.attachments || [];
  if (!files.length) return null;
  return h(
    'div',
    { class: 'att-list' },
    files.map((file) => {
      if (!(file.kind === 'image' && file.previews.includes('thumb'))) return card(file);
      const button = h('button', { type: 'button', class: 'att-image', 'aria-label': `Open image ${file.name}`, onclick: () => viewImage(button) }, thumbnail(file, 'att-thumb'));
      shownImages.set(button, file);
      return button;
    }),
  );
}

/** A message still in the outbox: the names of the files going with it. */
export function pendingFiles(item) {
  const files = [...(item.attachments || []), ...(item.waiting || [])];
  if (!files.length) return null;
  return h('p', { class: 'att-pending' }, glyph('clip', 14), h('span', { dir: 'auto' }, files.map((f) => f.name).join(', ')));
}
