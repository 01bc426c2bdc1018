// tests/integration/miniprogram_live.js - the mini-program's own client and
// page code (frontend/miniprogram) against a running gateway, driven the way
// a user would: page factories built with {api, wx}, where this wx performs
// real HTTP with node's http module. Run by test_miniprogram.py:
//
//   BASE=http://127.0.0.1:PORT node miniprogram_live.js PHOTO1.jpg PHOTO2.jpg
//
// The server must run with WECHAT_DEV_LOGIN=1 (the client signs in with
// POST /api/auth/dev). Prints TAP: one "ok N - step" / "not ok N - step"
// (with "# " detail lines) per step, then "1..N". A step that fails does not
// stop the run; later steps that need its result fail on their own.

'use strict';

const fs = require('fs');
const http = require('http');
const path = require('path');

const ROOT = path.resolve(__dirname, '..', '..');
const MP = path.join(ROOT, 'frontend', 'miniprogram');
const { createApi } = require(path.join(MP, 'utils', 'api.js'));
const { mountPage, tap } = require(path.join(MP, 'test', 'fake-wx.js'));
const createAlbumsPage = require(path.join(MP, 'pages', 'albums', 'albums.js'));
const createAlbumPage = require(path.join(MP, 'pages', 'album', 'album.js'));
const createPhotoPage = require(path.join(MP, 'pages', 'photo', 'photo.js'));
const createSearchPage = require(path.join(MP, 'pages', 'search', 'search.js'));
const createTrashPage = require(path.join(MP, 'pages', 'trash', 'trash.js'));
const createSharePage = require(path.join(MP, 'pages', 'share', 'share.js'));

const BASE = String(process.env.BASE || '').replace(/\/+$/, '');
const PHOTOS = process.argv.slice(2);
const READY_TIMEOUT_MS = Number(process.env.READY_TIMEOUT_MS || 30000);
const OPENID = 'mp-live-' + process.pid;

// ---- plain HTTP (node's http module) ----

// One HTTP request: resolves {status, headers, body (Buffer)}; rejects on a
// network error or after timeoutMs.
function httpRequest(method, url, headers, body, timeoutMs) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const h = Object.assign({}, headers || {});
    if (body !== undefined) h['Content-Length'] = String(body.length);
    const req = http.request({
      host: u.hostname, port: u.port, path: u.pathname + u.search, method, headers: h,
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs || 20000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

// ---- the wx shim ----

// What the app did that a user would see, and every request with its answer.
const shim = {
  storage: new Map(),
  requests: [],      // {method, path, status} (status 0: no answer)
  toasts: [],
  modals: [],
  modalAnswers: [],  // the next showModal answers (default: cancel)
  navigations: [],
  backs: 0,
  clipboard: null,
  chooseFiles: [],   // what the next chooseMedia picks
};

function headerValue(header, name) {
  const k = Object.keys(header || {}).find((x) => x.toLowerCase() === name.toLowerCase());
  return k ? header[k] : undefined;
}

// The request body as wx.request sends it: an ArrayBuffer raw, a string as
// is, an object as JSON (the client always sets Content-Type JSON then).
function wxBody(data, method, header) {
  if (data === undefined || data === null) return undefined;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (typeof data === 'string') return Buffer.from(data);
  if (method === 'GET') throw new Error('GET with a data object (would become a query)');
  const ct = headerValue(header, 'Content-Type') || '';
  if (!/json/i.test(ct)) throw new Error('object data without a JSON content type');
  return Buffer.from(JSON.stringify(data));
}

const wx = {
  // wx.request with the documented options (url, method, header, data,
  // dataType, responseType, timeout, success, fail, complete). The task has
  // abort() only: no onProgressUpdate, as documented.
  request(o) {
    const method = (o.method || 'GET').toUpperCase();
    const entry = { method, path: new URL(o.url).pathname, status: 0 };
    shim.requests.push(entry);
    let body;
    try {
      body = wxBody(o.data, method, o.header);
    } catch (e) {
      setImmediate(() => {
        if (o.fail) o.fail({ errMsg: 'request:fail ' + e.message });
        if (o.complete) o.complete({});
      });
      return { abort() {} };
    }
    httpRequest(method, o.url, o.header, body, o.timeout).then((r) => {
      entry.status = r.status;
      const text = r.body.toString('utf8');
      let data = text;
      if (o.dataType === undefined || o.dataType === 'json') {
        try {
          data = text === '' ? '' : JSON.parse(text);
        } catch (e) {
          data = text;
        }
      }
      entry.data = data;
      const res = { statusCode: r.status, data, header: r.headers, errMsg: 'request:ok' };
      if (o.success) o.success(res);
      if (o.complete) o.complete(res);
    }, (e) => {
      if (o.fail) o.fail({ errMsg: 'request:fail ' + e.message });
      if (o.complete) o.complete({});
    });
    return { abort() {} };
  },

  login(o) {
    setImmediate(() => o.success && o.success({ code: 'unused-dev-login', errMsg: 'login:ok' }));
  },

  getStorageSync: (k) => (shim.storage.has(k) ? shim.storage.get(k) : ''),
  setStorageSync: (k, v) => { shim.storage.set(k, v); },
  removeStorageSync: (k) => { shim.storage.delete(k); },

  showToast: (o) => { shim.toasts.push(o.title); },
  showModal(o) {
    shim.modals.push(o.content);
    const confirm = shim.modalAnswers.length ? shim.modalAnswers.shift() : false;
    setImmediate(() => o.success && o.success({ confirm, cancel: !confirm }));
  },
  showLoading() {},
  hideLoading() {},
  stopPullDownRefresh() {},
  setNavigationBarTitle() {},
  navigateTo: (o) => { shim.navigations.push(o.url); },
  navigateBack: () => { shim.backs++; },
  switchTab() {},
  previewImage() {},

  setClipboardData(o) {
    shim.clipboard = o.data;
    setImmediate(() => o.success && o.success({}));
  },

  chooseMedia(o) {
    const files = shim.chooseFiles.splice(0, o.count || 9);
    setImmediate(() => o.success && o.success({ tempFiles: files, type: 'image' }));
  },

  getFileSystemManager() {
    return {
      readFile(o) {
        fs.readFile(o.filePath, (err, b) => {
          if (err) {
            if (o.fail) o.fail({ errMsg: 'readFile:fail ' + err.message });
            return;
          }
          if (o.success) o.success({ data: b.buffer.slice(b.byteOffset, b.byteOffset + b.length) });
        });
      },
    };
  },
};

// ---- TAP ----

let n = 0;
let failed = 0;

function say(s) {
  process.stdout.write(s + '\n');
}

// A failed check inside a step.
class StepFailure extends Error {}

function check(cond, what, got) {
  if (!cond) {
    let g = '';
    try {
      g = got === undefined ? '' : ': ' + JSON.stringify(got);
    } catch (e) {
      g = ': ' + String(got);
    }
    throw new StepFailure(what + g);
  }
}

// Runs one step: "ok" when fn resolves, "not ok" with the reason otherwise.
async function step(name, fn) {
  n++;
  const mark = shim.requests.length;
  const toastMark = shim.toasts.length;
  try {
    await fn();
    say('ok ' + n + ' - ' + name);
  } catch (e) {
    failed++;
    say('not ok ' + n + ' - ' + name);
    const msg = e instanceof StepFailure ? e.message : (e && e.stack) || String(e);
    String(msg).split('\n').slice(0, 12).forEach((l) => say('# ' + l.slice(0, 400)));
    const reqs = shim.requests.slice(mark).map((r) => r.method + ' ' + r.path + ' ' + r.status);
    if (reqs.length) say('# requests: ' + reqs.slice(-12).join(', '));
    const toasts = shim.toasts.slice(toastMark);
    if (toasts.length) say('# toasts: ' + toasts.slice(-5).join(' | '));
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The requests made since index mark, as "METHOD /path STATUS".
function since(mark) {
  return shim.requests.slice(mark).map((r) => r.method + ' ' + r.path + ' ' + r.status);
}

// ---- the run ----

async function main() {
  check(/^http:\/\//.test(BASE), 'BASE is the gateway URL', BASE);
  check(PHOTOS.length === 2, 'two JPEG paths as arguments', PHOTOS);

  const api = createApi({ wx, baseUrl: BASE, devOpenid: OPENID });
  const albums = mountPage(createAlbumsPage({ api, wx }));
  const s = {}; // ids found along the way

  await step('dev login: the albums page signs in with POST /api/auth/dev and keeps the token', async () => {
    const mark = shim.requests.length;
    await albums.onShow();
    check(since(mark)[0] === 'POST /api/auth/dev 200', 'first request is the dev login', since(mark));
    const token = shim.storage.get('album_token');
    check(typeof token === 'string' && token.length >= 16, 'token stored', token);
    const user = shim.storage.get('album_user');
    check(user && typeof user === 'object', 'user stored', user);
    check(albums.data.loaded && albums.data.albums.length === 0, 'empty album list loaded', albums.data);
    const again = shim.requests.length;
    await albums.refresh();
    check(since(again).join() === 'GET /api/albums 200', 'the token is reused, no second login', since(again));
  });

  await step('albums page: create an album through the form (name trimmed)', async () => {
    albums.showCreate();
    albums.onFormName({ detail: { value: '  Summer trip  ' } });
    albums.onFormDescription({ detail: { value: 'by the sea' } });
    await albums.saveForm();
    check(albums.data.form === null, 'form closed', albums.data.form);
    const a = albums.data.albums[0];
    check(a && a.name === 'Summer trip' && a.description === 'by the sea' && a.id, 'new album first', albums.data.albums);
    check(shim.toasts[shim.toasts.length - 1] === 'Album created', 'toast', shim.toasts);
    s.albumId = a.id;
  });

  await step('albums page: the list from the server shows the album with 0 photos', async () => {
    await albums.refresh();
    const list = albums.data.albums;
    check(list.length === 1 && list[0].id === s.albumId && list[0].name === 'Summer trip' &&
      list[0].count === 0 && list[0].cover === '', 'one album', list);
  });

  await step('albums page: edit the album description', async () => {
    albums.showEdit(tap({ id: s.albumId }));
    check(albums.data.form && albums.data.form.mode === 'edit' && albums.data.form.name === 'Summer trip',
      'edit form filled', albums.data.form);
    albums.onFormDescription({ detail: { value: 'Sea, sand and 海边' } });
    await albums.saveForm();
    check(albums.data.form === null, 'form closed', albums.data.form);
    await albums.refresh();
    const a = albums.data.albums.find((x) => x.id === s.albumId);
    check(a && a.description === 'Sea, sand and 海边' && a.name === 'Summer trip', 'saved on the server', a);
  });

  const album = mountPage(createAlbumPage({ api, wx }));

  await step('album page: two JPEGs upload (create -> presigned PUT to /storage/ -> complete)', async () => {
    await album.onLoad({ id: s.albumId, name: encodeURIComponent('Summer trip') });
    check(album.data.loaded && album.data.photos.length === 0, 'empty album', album.data.photos);
    shim.chooseFiles = PHOTOS.map((p) => ({ tempFilePath: p, size: fs.statSync(p).size, fileType: 'image' }));
    const mark = shim.requests.length;
    await album.chooseUpload();
    const items = album.data.uploads;
    check(items.length === 2 && items.every((i) => i.status === 'done' && i.progress === 100),
      'both files done', items);
    check(album.data.uploadSummary === '2 of 2 uploaded', 'summary', album.data.uploadSummary);
    const reqs = since(mark);
    const photoPost = 'POST /api/albums/' + s.albumId + '/photos 201';
    check(reqs.filter((r) => r === photoPost).length === 2, 'two photos created', reqs);
    const puts = reqs.filter((r) => /^PUT \/storage\/\S+ 20\d$/.test(r));
    check(puts.length === 2, 'two PUTs to the gateway storage', reqs);
    check(reqs.filter((r) => /^POST \/api\/photos\/[^/]+\/complete 20\d$/.test(r)).length === 2,
      'two completes', reqs);
    // create, PUT, complete for one file before the next starts
    const order = reqs.filter((r) => /photos 201$|^PUT |complete 20\d$/.test(r)).map((r) => r.split(' ')[0] +
      (r.includes('complete') ? 'C' : ''));
    check(order.join() === 'POST,PUT,POSTC,POST,PUT,POSTC', 'one file at a time', reqs);
    check(shim.toasts[shim.toasts.length - 1] === 'Uploaded', 'toast', shim.toasts);
  });

  await step('thumbnail pipeline: both photos become ready with a thumbnail (album page refresh)', async () => {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      await album.refresh();
      const p = album.data.photos;
      if (p.length === 2 && p.every((x) => x.status === 'ready' && x.thumb)) break;
      check(!p.some((x) => x.status === 'failed'), 'no photo failed', p);
      check(Date.now() < deadline, 'ready within ' + READY_TIMEOUT_MS + ' ms', p);
      await sleep(150);
    }
    s.photoIds = album.data.photos.map((x) => x.id);
    const r = await httpRequest('GET', album.data.photos[0].thumb, {}, undefined, 10000);
    check(r.status === 200 && /image\/jpeg/.test(String(r.headers['content-type'])) &&
      r.body[0] === 0xff && r.body[1] === 0xd8, 'the thumbnail URL serves a JPEG',
    [r.status, r.headers['content-type'], r.body.length]);
  });

  await step('albums page: the album shows 2 photos and a cover', async () => {
    await albums.refresh();
    const a = albums.data.albums.find((x) => x.id === s.albumId);
    check(a && a.count === 2 && /^https?:\/\//.test(a.cover), 'count and cover', a);
  });

  const photo = mountPage(createPhotoPage({ api, wx }));

  await step('photo page: shows the photo (ready, JPEG, dimensions, album picker)', async () => {
    check(s.photoIds && s.photoIds.length === 2, 'photos known', s.photoIds);
    s.photoId = s.photoIds[0];
    s.otherPhotoId = s.photoIds[1];
    await photo.onLoad({ id: s.photoId });
    const p = photo.data.photo;
    check(p && p.id === s.photoId && p.albumId === s.albumId && p.status === 'ready', 'the photo', p);
    check(p.type === 'image/jpeg' && /^\d+ × \d+$/.test(p.dimensions) && /^https?:\/\//.test(p.image),
      'type, dimensions and image URL', p);
    check(photo.data.albumNames.join() === 'Summer trip' && photo.data.albumIndex === 0, 'album picker',
      [photo.data.albumNames, photo.data.albumIndex]);
  });

  await step('photo page: edit the description and tags (saved on the server)', async () => {
    photo.onDescription({ detail: { value: '在故宫看日落 sunset over the palace' } });
    photo.onTags({ detail: { value: 'sea， 海边, Sea' } });
    await photo.save();
    check(shim.toasts[shim.toasts.length - 1] === 'Saved', 'toast', shim.toasts);
    check(photo.data.tagsText === 'sea, 海边', 'tags shown', photo.data.tagsText);
    photo.setData({ description: '', tagsText: '' });
    await photo.load();
    check(photo.data.description === '在故宫看日落 sunset over the palace', 'description reloaded',
      photo.data.description);
    check(photo.data.photo.userTags.join() === 'sea,海边', 'tags reloaded', photo.data.photo.userTags);
  });

  const search = mountPage(createSearchPage({ api, wx }));

  await step('search page: the tag cloud lists the new tags', async () => {
    await search.onLoad();
    const tags = search.data.tags.map((t) => t.tag);
    check(tags.includes('sea') && tags.includes('海边'), 'sea and 海边 in the cloud', search.data.tags);
    const t = search.data.tags.find((x) => x.tag === '海边');
    check(t.count === 1, 'count 1', t);
  });

  await step('search page: tapping a tag finds the photo', async () => {
    await search.tapTag(tap({ tag: '海边' }));
    check(search.data.searched && search.data.results.map((r) => r.id).join() === s.photoId,
      'only the tagged photo', search.data.results);
    await search.tapTag(tap({ tag: '海边' }));
    check(search.data.tag === '' && search.data.results.length === 0, 'tapping it again clears', search.data);
  });

  await step('search page: text search finds the photo (English and Chinese)', async () => {
    search.onInput({ detail: { value: 'sunset' } });
    await search.onSearch();
    check(search.data.results.map((r) => r.id).join() === s.photoId, '"sunset"', search.data.results);
    search.onInput({ detail: { value: '故宫' } });
    await search.onSearch();
    check(search.data.results.map((r) => r.id).join() === s.photoId, '"故宫"', search.data.results);
    search.onInput({ detail: { value: 'zebracrossing' } });
    await search.onSearch();
    check(search.data.searched && search.data.results.length === 0, 'no match: empty', search.data.results);
  });

  await step('share page: a link for the album; its web page and JSON list both photos without a token', async () => {
    const share = mountPage(createSharePage({ api, wx }));
    await share.onLoad({ album_id: s.albumId, name: encodeURIComponent('Summer trip') });
    check(share.data.shares.length === 0, 'no links yet', share.data.shares);
    share.onExpiry({ detail: { value: '1' } });
    await share.create();
    const link = share.data.link;
    check(link.startsWith(BASE + '/s/') && link.length > (BASE + '/s/').length + 16,
      'full link to the web page', link);
    check(share.data.shares.length === 1 && share.data.shares[0].expires !== '' &&
      !share.data.shares[0].revoked, 'listed with an expiry', share.data.shares);
    await share.copyLink();
    check(shim.clipboard === link, 'copied', shim.clipboard);

    // the link as a browser opens it: HTML naming the album, every photo's thumbnail
    const page = await httpRequest('GET', link, { Accept: 'text/html' }, undefined, 10000);
    const html = page.body.toString('utf8');
    check(page.status === 200 && /^text\/html/.test(page.headers['content-type'] || ''),
      'the link is a web page', [page.status, page.headers['content-type'], html.slice(0, 300)]);
    check(html.includes('Summer trip'), 'the page names the album', html.slice(0, 600));
    const thumbs = [...html.matchAll(/<img src="([^"]+)"/g)].map((m) => m[1].replace(/&amp;/g, '&'));
    const shown = s.photoIds.filter((id) => thumbs.some((u) => u.includes('/photos/t/' + id + '.')));
    check(thumbs.length === s.photoIds.length && shown.length === s.photoIds.length,
      'the page shows both photos\' thumbnails', thumbs);
    if (thumbs.length) {
      const t = await httpRequest('GET', thumbs[0], {}, undefined, 10000);
      check(t.status === 200 && t.body[0] === 0xff && t.body[1] === 0xd8, 'a thumbnail on the page downloads', t.status);
    }

    // the JSON: the create answer's api_url
    const made = shim.requests.filter((r) => r.method === 'POST' && r.path === '/api/shares').pop();
    const apiUrl = made && made.data && made.data.api_url;
    check(typeof apiUrl === 'string' && apiUrl.startsWith('/api/public/shares/') &&
      link.endsWith('/s/' + apiUrl.slice('/api/public/shares/'.length)), 'api_url: the same token as JSON', made && made.data);
    const r = await httpRequest('GET', BASE + apiUrl, {}, undefined, 10000);
    check(r.status === 200, 'public GET 200', [r.status, r.body.toString().slice(0, 300)]);
    const pub = JSON.parse(r.body.toString('utf8'));
    const ids = (pub.photos || []).map((p) => p.id).sort();
    check(ids.join() === s.photoIds.slice().sort().join(), 'both photos listed', pub);
    const img = pub.photos[0].thumb_url || pub.photos[0].display_url;
    check(typeof img === 'string' && img !== '', 'photo URLs in the share', pub.photos[0]);
    const g = await httpRequest('GET', img, {}, undefined, 10000);
    check(g.status === 200 && g.body[0] === 0xff && g.body[1] === 0xd8, 'a shared image downloads', g.status);
  });

  await step('photo page: move the photo to another album', async () => {
    albums.showCreate();
    albums.onFormName({ detail: { value: 'Other' } });
    await albums.saveForm();
    const other = albums.data.albums.find((x) => x.name === 'Other');
    check(albums.data.form === null && other, 'second album created', albums.data);
    s.otherAlbumId = other.id;
    await photo.load();
    const idx = photo.data.albums.findIndex((a) => a.id === s.otherAlbumId);
    check(idx >= 0, 'picker lists it', photo.data.albums);
    await photo.onMove({ detail: { value: String(idx) } });
    check(photo.data.photo.albumId === s.otherAlbumId && photo.data.albumIndex === idx, 'moved', photo.data.photo);
    check(shim.toasts[shim.toasts.length - 1] === 'Moved', 'toast', shim.toasts);
    const inA = await api.get('/api/albums/' + s.albumId + '/photos');
    const inB = await api.get('/api/albums/' + s.otherAlbumId + '/photos');
    check(inA.items.map((p) => p.id).join() === s.otherPhotoId, 'first album keeps one', inA.items);
    check(inB.items.map((p) => p.id).join() === s.photoId, 'other album has it', inB.items);
  });

  const trash = mountPage(createTrashPage({ api, wx }));

  await step('photo page: delete asks first, then moves the photo to the trash', async () => {
    const backs = shim.backs;
    shim.modalAnswers.push(false);
    await photo.deletePhoto();
    const still = await api.get('/api/photos/' + s.photoId);
    check(still && !still.trashed_at && shim.backs === backs, 'cancel keeps it', still);
    shim.modalAnswers.push(true);
    await photo.deletePhoto();
    check(shim.backs === backs + 1 && shim.toasts[shim.toasts.length - 1] === 'Moved to trash',
      'navigated back with a toast', shim.toasts);
    await trash.onShow();
    check(trash.data.photos.map((p) => p.id).join() === s.photoId && trash.data.photos[0].trashed !== '',
      'the trash page lists it', trash.data.photos);
    const inB = await api.get('/api/albums/' + s.otherAlbumId + '/photos');
    check(inB.items.length === 0, 'gone from the album', inB.items);
  });

  await step('trash page: restore puts the photo back in its album', async () => {
    await trash.restore(tap({ id: s.photoId }));
    check(trash.data.photos.length === 0, 'dropped from the page', trash.data.photos);
    check(shim.toasts[shim.toasts.length - 1] === 'Restored', 'toast', shim.toasts);
    const t = await api.get('/api/photos/trash');
    check(t.items.length === 0, 'trash empty on the server', t.items);
    const inB = await api.get('/api/albums/' + s.otherAlbumId + '/photos');
    check(inB.items.map((p) => p.id).join() === s.photoId, 'back in the album', inB.items);
  });

  await step('trash page: purge (confirmed) deletes the photo for good', async () => {
    await photo.load();
    shim.modalAnswers.push(true);
    await photo.deletePhoto();
    await trash.onShow();
    check(trash.data.photos.map((p) => p.id).join() === s.photoId, 'in the trash again', trash.data.photos);
    shim.modalAnswers.push(false);
    await trash.purge(tap({ id: s.photoId }));
    check(trash.data.photos.length === 1, 'cancel keeps it', trash.data.photos);
    shim.modalAnswers.push(true);
    const mark = shim.requests.length;
    await trash.purge(tap({ id: s.photoId }));
    check(since(mark).join() === 'POST /api/photos/' + s.photoId + '/purge 204', 'purge request', since(mark));
    check(trash.data.photos.length === 0 && shim.toasts[shim.toasts.length - 1] === 'Deleted',
      'dropped with a toast', trash.data.photos);
    let status = 0;
    try {
      await api.get('/api/photos/' + s.photoId);
    } catch (e) {
      status = e.status;
    }
    check(status === 404, 'GET the photo: 404', status);
    await trash.onShow();
    check(trash.data.photos.length === 0, 'trash empty after reload', trash.data.photos);
  });

  await step('a refused token: 401 -> sign in again -> the request is retried once', async () => {
    shim.storage.set('album_token', 'not-a-valid-token-0123456789');
    const toasts = shim.toasts.length;
    const modals = shim.modals.length;
    const mark = shim.requests.length;
    await albums.onShow();
    check(since(mark).join() === 'GET /api/albums 401,POST /api/auth/dev 200,GET /api/albums 200',
      'requests', since(mark));
    const token = shim.storage.get('album_token');
    check(typeof token === 'string' && token !== 'not-a-valid-token-0123456789', 'a new token kept', token);
    check(albums.data.albums.length === 2, 'the list loaded', albums.data.albums);
    check(shim.toasts.length === toasts && shim.modals.length === modals, 'no error shown',
      shim.toasts.slice(toasts).concat(shim.modals.slice(modals)));
  });

  await step('albums page: a duplicate name shows the server\'s 409 message in the form', async () => {
    albums.showCreate();
    albums.onFormName({ detail: { value: 'Other' } });
    const mark = shim.requests.length;
    await albums.saveForm();
    check(since(mark).join() === 'POST /api/albums 409', 'request', since(mark));
    const f = albums.data.form;
    check(f && f.mode === 'create' && !f.saving && typeof f.error === 'string' && f.error.length > 0 &&
      !/^The server answered/.test(f.error), 'the form stays open with the message', f);
    check(albums.data.albums.length === 2, 'no album added', albums.data.albums);
    albums.cancelForm();
  });

  await step('albums page: delete an album (confirmed) with its photos', async () => {
    shim.modalAnswers.push(false);
    await albums.deleteAlbum(tap({ id: s.albumId }));
    check(albums.data.albums.length === 2, 'cancel keeps it', albums.data.albums);
    check(/Summer trip/.test(shim.modals[shim.modals.length - 1]) && /1 photo/.test(shim.modals[shim.modals.length - 1]),
      'the question names the album and its photo count', shim.modals[shim.modals.length - 1]);
    shim.modalAnswers.push(true);
    await albums.deleteAlbum(tap({ id: s.albumId }));
    check(albums.data.albums.map((a) => a.name).join() === 'Other', 'dropped from the page', albums.data.albums);
    await albums.refresh();
    check(albums.data.albums.map((a) => a.id).join() === s.otherAlbumId, 'gone on the server', albums.data.albums);
    let status = 0;
    try {
      await api.get('/api/photos/' + s.otherPhotoId);
    } catch (e) {
      status = e.status;
    }
    check(status === 404, 'its photo is gone too', status);
  });

  say('1..' + n);
}

main().then(() => {
  process.exitCode = failed ? 1 : 0;
}, (e) => {
  say('not ok ' + (n + 1) + ' - the run stopped');
  String((e && e.stack) || e).split('\n').slice(0, 12).forEach((l) => say('# ' + l));
  say('1..' + (n + 1));
  process.exitCode = 2;
});
