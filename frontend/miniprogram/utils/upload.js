// utils/upload.js - uploading photos into an album, one file at a time.
//
// Per file: POST /api/albums/{id}/photos {content_type, size} gives a photo
// in state `uploading` and a presigned PUT ({url, method, headers}); the
// file's bytes (wx.getFileSystemManager().readFile) go straight to storage
// with wx.request method PUT (wx.uploadFile only sends multipart POSTs);
// then POST /api/photos/{id}/complete starts the thumbnail pipeline.
//
// Progress: wx.request's task does not document upload progress, so when
// the task offers onProgressUpdate it is used for the PUT, and otherwise
// progress moves by steps (created 5%, bytes sent 95%, done 100%). The page
// also shows "n of m uploaded".
//
// A failed file is marked failed with the reason and keeps what it had
// done: a retry skips the finished steps (a complete that failed for lack
// of bytes re-sends them; a refused or expired photo starts over).

const wxp = require('./wxp.js');

const PUT_TIMEOUT_MS = 120000;
// Start over when the presigned URL has less than this left.
const URL_MARGIN_MS = 30000;

const TYPES = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
};

// The image content type of a file path by its extension, or null.
function contentTypeOf(path) {
  const m = /\.([A-Za-z0-9]+)$/.exec(String(path || ''));
  return m ? TYPES[m[1].toLowerCase()] || null : null;
}

function fileName(path) {
  const s = String(path || '');
  return s.slice(s.lastIndexOf('/') + 1) || s;
}

// PUTs data to the presigned upload; onProgress(percent) when the task
// reports progress. Rejects with an Error carrying status (0: no answer).
function putObject(w, upload, data, onProgress) {
  return new Promise((resolve, reject) => {
    const task = w.request({
      url: upload.url,
      method: upload.method || 'PUT',
      header: Object.assign({}, upload.headers || {}),
      data,
      timeout: PUT_TIMEOUT_MS,
      responseType: 'text',
      success: (res) => {
        if (res.statusCode >= 200 && res.statusCode < 300) {
          resolve();
          return;
        }
        const err = new Error('Storage refused the upload (' + res.statusCode + ').');
        err.status = res.statusCode;
        reject(err);
      },
      fail: (e) => {
        const err = new Error('Network error while uploading' +
          (e && e.errMsg ? ' (' + e.errMsg + ')' : '') + '.');
        err.status = 0;
        reject(err);
      },
    });
    if (task && typeof task.onProgressUpdate === 'function') {
      task.onProgressUpdate((p) => {
        if (p && typeof p.progress === 'number') onProgress(p.progress);
      });
    }
  });
}

function urlExpired(upload, now) {
  if (!upload || !upload.expires_at) return false;
  const t = Date.parse(upload.expires_at);
  return !Number.isNaN(t) && t - now < URL_MARGIN_MS;
}

// A queue of files for one album. onChange(view) after every change.
function createUploadQueue(opts) {
  const api = opts.api;
  const w = opts.wx;
  const albumId = opts.albumId;
  const onChange = opts.onChange || (() => {});
  const now = opts.now || (() => Date.now());
  const items = [];
  let running = null;

  function view() {
    const list = items.map((it, index) => ({
      index,
      name: it.name,
      path: it.path,
      status: it.status,
      progress: it.progress,
      error: it.error,
      label: it.status === 'uploading' ? 'Uploading ' + it.progress + '%'
        : it.status === 'done' ? 'Done'
          : it.status === 'failed' ? 'Failed' : 'Waiting',
    }));
    const done = items.filter((it) => it.status === 'done').length;
    const failed = items.filter((it) => it.status === 'failed').length;
    return {
      items: list,
      done,
      failed,
      total: items.length,
      busy: !!running,
      summary: items.length ? done + ' of ' + items.length + ' uploaded' +
        (failed ? ', ' + failed + ' failed' : '') : '',
    };
  }

  function changed() {
    onChange(view());
  }

  function setProgress(it, p) {
    const v = Math.max(0, Math.min(100, Math.round(p)));
    if (v !== it.progress) {
      it.progress = v;
      changed();
    }
  }

  async function uploadOne(it) {
    it.status = 'uploading';
    it.error = '';
    it.progress = 0;
    changed();
    if (!it.contentType) {
      throw new Error('Only JPEG, PNG, WebP and GIF photos can be uploaded.');
    }
    if (!it.photoId || urlExpired(it.upload, now())) {
      const r = await api.post('/api/albums/' + encodeURIComponent(albumId) + '/photos',
        { content_type: it.contentType, size: it.size });
      it.photoId = r.photo.id;
      it.upload = r.upload;
      it.sent = false;
    }
    setProgress(it, 5);
    if (!it.sent) {
      const data = await wxp.readFile(w, it.path);
      try {
        await putObject(w, it.upload, data, (p) => setProgress(it, 5 + p * 0.9));
      } catch (e) {
        // A refused PUT (expired or bad signature) needs a new URL.
        if (e.status >= 400 && e.status < 500) it.photoId = null;
        throw e;
      }
      it.sent = true;
    }
    setProgress(it, 95);
    try {
      const r = await api.post('/api/photos/' + encodeURIComponent(it.photoId) + '/complete');
      it.photo = r && r.photo;
    } catch (e) {
      if (e.code === 'upload_missing') it.sent = false;
      else if (e.status >= 400 && e.status < 500) it.photoId = null; // rejected: start over
      throw e;
    }
    it.status = 'done';
    it.progress = 100;
    changed();
  }

  async function drain() {
    for (;;) {
      const it = items.find((x) => x.status === 'waiting');
      if (!it) break;
      try {
        await uploadOne(it);
      } catch (e) {
        it.status = 'failed';
        it.error = (e && e.message) || 'Upload failed.';
        changed();
      }
    }
  }

  // Uploads every waiting file; resolves when none is left.
  function run() {
    if (!running) {
      running = drain().then(() => {
        running = null;
        changed();
      });
      changed();
    }
    return running;
  }

  // Adds chooseMedia's tempFiles ({tempFilePath, size}) as waiting files.
  function add(files) {
    (files || []).forEach((f) => {
      items.push({
        path: f.tempFilePath,
        name: fileName(f.tempFilePath),
        size: f.size,
        contentType: contentTypeOf(f.tempFilePath),
        status: 'waiting',
        progress: 0,
        error: '',
        photoId: null,
        upload: null,
        sent: false,
      });
    });
    changed();
  }

  // Puts failed file index back in the queue and runs it.
  function retry(index) {
    const it = items[index];
    if (!it || it.status !== 'failed') return running || Promise.resolve();
    it.status = 'waiting';
    it.error = '';
    changed();
    return run();
  }

  // Forgets finished files (done ones; failed ones stay for a retry).
  function clearDone() {
    for (let i = items.length - 1; i >= 0; i--) {
      if (items[i].status === 'done') items.splice(i, 1);
    }
    changed();
  }

  return { add, run, retry, clearDone, view };
}

module.exports = { createUploadQueue, contentTypeOf, putObject };
