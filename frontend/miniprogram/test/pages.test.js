// Page logic against a fake wx: the album list (create with validation,
// edit, delete with confirmation, refresh), paging in an album, the photo
// viewer, search with the tag cloud, the trash and share links.

const test = require('node:test');
const assert = require('node:assert/strict');

const { createFakeWx, mountPage, tap } = require('./fake-wx.js');
const { createApi, TOKEN_KEY } = require('../utils/api.js');
const createAlbumsPage = require('../pages/albums/albums.js');
const createAlbumPage = require('../pages/album/album.js');
const createPhotoPage = require('../pages/photo/photo.js');
const createSearchPage = require('../pages/search/search.js');
const createTrashPage = require('../pages/trash/trash.js');
const createSharePage = require('../pages/share/share.js');

function signedIn() {
  const fx = createFakeWx({ storage: { [TOKEN_KEY]: 'tok' } });
  return { fx, api: createApi({ wx: fx.wx }) };
}

function album(id, name, extra) {
  return Object.assign({
    id, name, description: '', sort_order: 0, photo_count: 2,
    created_at: '2024-05-01T08:00:00Z', updated_at: '2024-05-01T08:00:00Z',
    cover: { photo_id: 'c' + id, thumb_url: 'https://cdn.example/t/' + id },
  }, extra || {});
}

// What the user was shown: toast titles and modal contents.
function shown(fx) {
  return fx.callsOf('showToast').map((t) => t.title).concat(fx.callsOf('showModal').map((m) => m.content));
}

async function albumsPage(fx, api, items) {
  fx.respond('GET', '/api/albums', { status: 200, data: { items, next_cursor: null } });
  const page = mountPage(createAlbumsPage({ api, wx: fx.wx }));
  await page.onShow();
  return page;
}

// ---- albums ----

test('albums: the list shows names, covers and photo counts', async () => {
  const { fx, api } = signedIn();
  const page = await albumsPage(fx, api, [album('A1', 'Trip', { photo_count: 12 }), album('A2', 'Home', { cover: null, photo_count: 0 })]);

  assert.deepEqual(page.data.albums.map((a) => [a.id, a.name, a.count, a.cover]),
    [['A1', 'Trip', 12, 'https://cdn.example/t/A1'], ['A2', 'Home', 0, '']]);
  assert.equal(page.data.loading, false);
  assert.equal(fx.requestsTo('GET', '/api/albums')[0].query.limit, '20');
});

test('albums: a failed load shows the API error message', async () => {
  const { fx, api } = signedIn();
  fx.respond('GET', '/api/albums', { status: 503, data: { error: { code: 'db_unavailable', message: 'database unavailable' } } });
  const page = mountPage(createAlbumsPage({ api, wx: fx.wx }));

  await page.onShow();

  assert.deepEqual(shown(fx), ['database unavailable']);
  assert.equal(page.data.loading, false);
});

test('albums: pull-down refresh reloads the first page and stops the spinner', async () => {
  const { fx, api } = signedIn();
  const page = await albumsPage(fx, api, [album('A1', 'Trip')]);
  fx.respond('GET', '/api/albums', { status: 200, data: { items: [album('A9', 'New')], next_cursor: null } });

  await page.onPullDownRefresh();

  assert.deepEqual(page.data.albums.map((a) => a.id), ['A9']);
  assert.equal(fx.callsOf('stopPullDownRefresh').length, 1);
  assert.equal(fx.requestsTo('GET', '/api/albums')[1].query.cursor, undefined);
});

test('albums: create validation - an empty or too long name sends nothing and explains why', async () => {
  const { fx, api } = signedIn();
  const page = await albumsPage(fx, api, []);

  page.showCreate();
  page.onFormName({ detail: { value: '   ' } });
  await page.saveForm();
  assert.equal(page.data.form.field, 'name');
  assert.match(page.data.form.error, /name/i);

  page.onFormName({ detail: { value: 'x'.repeat(101) } });
  await page.saveForm();
  assert.match(page.data.form.error, /100/);

  page.onFormName({ detail: { value: 'ok' } });
  page.onFormDescription({ detail: { value: 'd'.repeat(2001) } });
  await page.saveForm();
  assert.equal(page.data.form.field, 'description');

  assert.equal(fx.requestsTo('POST', '/api/albums').length, 0);
});

test('albums: create posts the trimmed name and description and adds the album', async () => {
  const { fx, api } = signedIn();
  const page = await albumsPage(fx, api, [album('A1', 'Old')]);
  fx.respond('POST', '/api/albums', (req) => ({ status: 201, data: album('A2', req.data.name, { photo_count: 0, cover: null }) }));

  page.showCreate();
  page.onFormName({ detail: { value: '  Beach 2024 ' } });
  page.onFormDescription({ detail: { value: 'Summer' } });
  await page.saveForm();

  assert.deepEqual(fx.requestsTo('POST', '/api/albums')[0].data, { name: 'Beach 2024', description: 'Summer' });
  assert.equal(page.data.form, null);
  assert.deepEqual(page.data.albums.map((a) => a.name), ['Beach 2024', 'Old']);
});

test('albums: a refused create keeps the form open with the API message', async () => {
  const { fx, api } = signedIn();
  const page = await albumsPage(fx, api, []);
  fx.respond('POST', '/api/albums', { status: 409, data: { error: { code: 'conflict', message: 'you already have an album with this name', field: 'name' } } });

  page.showCreate();
  page.onFormName({ detail: { value: 'Trip' } });
  await page.saveForm();

  assert.equal(page.data.form.error, 'you already have an album with this name');
  assert.equal(page.data.form.field, 'name');
  assert.equal(page.data.form.saving, false);
});

test('albums: edit sends PUT with the new name and description and updates the list', async () => {
  const { fx, api } = signedIn();
  const page = await albumsPage(fx, api, [album('A1', 'Trip'), album('A2', 'Home')]);
  fx.respond('PUT', '/api/albums/A2', (req) => ({ status: 200, data: album('A2', req.data.name, { description: req.data.description }) }));

  page.showEdit(tap({ id: 'A2' }));
  assert.equal(page.data.form.name, 'Home');
  page.onFormName({ detail: { value: 'House' } });
  page.onFormDescription({ detail: { value: 'Our place' } });
  await page.saveForm();

  assert.deepEqual(fx.requestsTo('PUT', '/api/albums/A2')[0].data, { name: 'House', description: 'Our place' });
  assert.deepEqual(page.data.albums.map((a) => a.name), ['Trip', 'House']);
});

test('albums: delete asks first - cancel sends no DELETE', async () => {
  const { fx, api } = signedIn();
  const page = await albumsPage(fx, api, [album('A1', 'Trip')]);
  fx.modalAnswers.push(false);

  await page.deleteAlbum(tap({ id: 'A1' }));

  assert.equal(fx.callsOf('showModal').length, 1);
  assert.match(fx.callsOf('showModal')[0].content, /Trip/);
  assert.equal(fx.requests.filter((r) => r.method === 'DELETE').length, 0);
  assert.deepEqual(page.data.albums.map((a) => a.id), ['A1']);
});

test('albums: delete asks first - confirm sends DELETE and drops the album', async () => {
  const { fx, api } = signedIn();
  const page = await albumsPage(fx, api, [album('A1', 'Trip'), album('A2', 'Home')]);
  fx.respond('DELETE', '/api/albums/A1', { status: 204 });
  fx.modalAnswers.push(true);

  await page.deleteAlbum(tap({ id: 'A1' }));

  assert.equal(fx.requestsTo('DELETE', '/api/albums/A1').length, 1);
  assert.deepEqual(page.data.albums.map((a) => a.id), ['A2']);
});

test('albums: opening an album and sharing one navigate with its id', async () => {
  const { fx, api } = signedIn();
  const page = await albumsPage(fx, api, [album('A1', 'Trip & co')]);

  page.openAlbum(tap({ id: 'A1', name: 'Trip & co' }));
  page.shareAlbum(tap({ id: 'A1', name: 'Trip & co' }));

  assert.deepEqual(fx.callsOf('navigateTo').map((n) => n.url), [
    '/pages/album/album?id=A1&name=Trip%20%26%20co',
    '/pages/share/share?album_id=A1&name=Trip%20%26%20co',
  ]);
});

// ---- album: paging ----

function photo(id, extra) {
  return Object.assign({ id, album_id: 'A1', status: 'ready', description: '', tags: [], thumb_url: 'https://cdn.example/t/' + id, display_url: 'https://cdn.example/d/' + id }, extra || {});
}

test('album: load more follows next_cursor and stops when there is none', async () => {
  const { fx, api } = signedIn();
  fx.respond('GET', '/api/albums/A1/photos', (req) => {
    const pages = {
      undefined: { items: [photo('p1'), photo('p2')], next_cursor: 'c1' },
      c1: { items: [photo('p3'), photo('p4')], next_cursor: 'c2' },
      c2: { items: [photo('p5')], next_cursor: null },
    };
    return { status: 200, data: pages[req.query.cursor] };
  });
  const page = mountPage(createAlbumPage({ api, wx: fx.wx }));

  await page.onLoad({ id: 'A1', name: 'Trip' });
  await page.onReachBottom();
  await page.onReachBottom();
  await page.onReachBottom();
  await page.onReachBottom();

  assert.deepEqual(page.data.photos.map((p) => p.id), ['p1', 'p2', 'p3', 'p4', 'p5']);
  assert.deepEqual(fx.requestsTo('GET', '/api/albums/A1/photos').map((r) => r.query.cursor), [undefined, 'c1', 'c2']);
  assert.equal(page.data.nextCursor, null);
  assert.equal(page.data.photos[0].thumb, 'https://cdn.example/t/p1');
  assert.deepEqual(fx.callsOf('setNavigationBarTitle').map((t) => t.title), ['Trip']);
});

test('album: a scroll while a page is loading asks for nothing more', async () => {
  const { fx, api } = signedIn();
  fx.respond('GET', '/api/albums/A1/photos', { status: 200, data: { items: [photo('p1')], next_cursor: 'c1' } });
  const page = mountPage(createAlbumPage({ api, wx: fx.wx }));
  await page.onLoad({ id: 'A1' });

  const first = page.onReachBottom();
  const second = page.onReachBottom();
  await Promise.all([first, second]);

  assert.equal(fx.requestsTo('GET', '/api/albums/A1/photos').length, 2);
});

// ---- photo viewer ----

function fullPhoto(extra) {
  return photo('p1', Object.assign({
    description: 'At the beach',
    tags: [{ tag: 'sea', source: 'user' }, { tag: 'beach', source: 'auto' }],
    taken_at: '2024-05-01T08:30:00Z', created_at: '2024-05-02T10:00:00Z',
    width: 4000, height: 3000, size_bytes: 2097152, content_type: 'image/jpeg',
    exif: { camera: 'Canon EOS', gps: { lat: 39.9, lon: 116.4 }, orientation: 1 },
  }, extra || {}));
}

async function photoPage(fx, api) {
  fx.respond('GET', '/api/photos/p1', { status: 200, data: fullPhoto() });
  fx.respond('GET', '/api/albums', { status: 200, data: { items: [album('A1', 'Trip'), album('A2', 'Home')], next_cursor: null } });
  const page = mountPage(createPhotoPage({ api, wx: fx.wx }));
  await page.onLoad({ id: 'p1' });
  return page;
}

test('photo: shows the large image, description, tags, date and EXIF', async () => {
  const { fx, api } = signedIn();
  const page = await photoPage(fx, api);

  const p = page.data.photo;
  assert.equal(p.image, 'https://cdn.example/d/p1');
  assert.equal(page.data.description, 'At the beach');
  assert.equal(page.data.tagsText, 'sea');
  assert.deepEqual(p.autoTags, ['beach']);
  assert.match(p.taken, /^2024-05-0[12] \d\d:\d\d$/);
  assert.equal(p.camera, 'Canon EOS');
  assert.equal(p.dimensions, '4000 × 3000');
  assert.equal(p.bytes, '2.0 MB');
  assert.equal(p.gps, '39.90000, 116.40000');
  assert.deepEqual(page.data.albumNames, ['Trip', 'Home']);
  assert.equal(page.data.albumIndex, 0);
});

test('photo: save sends the description and the parsed user tags', async () => {
  const { fx, api } = signedIn();
  const page = await photoPage(fx, api);
  fx.respond('PUT', '/api/photos/p1', (req) => ({
    status: 200,
    data: fullPhoto({ description: req.data.description, tags: req.data.tags.map((t) => ({ tag: t, source: 'user' })) }),
  }));

  page.onDescription({ detail: { value: 'Sunset' } });
  page.onTags({ detail: { value: 'sea, 海边，Sea ,  family' } });
  await page.save();

  assert.deepEqual(fx.requestsTo('PUT', '/api/photos/p1')[0].data, { description: 'Sunset', tags: ['sea', '海边', 'family'] });
  assert.equal(page.data.tagsText, 'sea, 海边, family');
});

test('photo: move to another album with the picker', async () => {
  const { fx, api } = signedIn();
  const page = await photoPage(fx, api);
  fx.respond('PUT', '/api/photos/p1', { status: 200, data: fullPhoto({ album_id: 'A2' }) });

  await page.onMove({ detail: { value: '0' } }); // the album it is in: nothing to do
  assert.equal(fx.requestsTo('PUT', '/api/photos/p1').length, 0);
  await page.onMove({ detail: { value: '1' } });

  assert.deepEqual(fx.requestsTo('PUT', '/api/photos/p1')[0].data, { album_id: 'A2' });
  assert.equal(page.data.albumIndex, 1);
});

test('photo: delete to trash - cancel sends nothing, confirm sends DELETE and goes back', async () => {
  const { fx, api } = signedIn();
  const page = await photoPage(fx, api);
  fx.respond('DELETE', '/api/photos/p1', { status: 204 });

  fx.modalAnswers.push(false);
  await page.deletePhoto();
  assert.equal(fx.requestsTo('DELETE', '/api/photos/p1').length, 0);
  assert.equal(fx.callsOf('navigateBack').length, 0);

  fx.modalAnswers.push(true);
  await page.deletePhoto();
  assert.equal(fx.requestsTo('DELETE', '/api/photos/p1').length, 1);
  assert.equal(fx.callsOf('navigateBack').length, 1);
  assert.equal(fx.callsOf('showModal').length, 2);
});

// ---- search ----

test('search: the tag cloud loads; a tag or text searches; an empty search sends nothing', async () => {
  const { fx, api } = signedIn();
  fx.respond('GET', '/api/photos/tags', { status: 200, data: { items: [{ tag: 'sea', count: 8 }, { tag: 'cat', count: 1 }] } });
  fx.respond('GET', '/api/photos/search', (req) => ({
    status: 200,
    data: { items: [photo(req.query.tag ? 'tagged' : 'texted')], next_cursor: null },
  }));
  const page = mountPage(createSearchPage({ api, wx: fx.wx }));
  await page.onLoad();

  assert.deepEqual(page.data.tags.map((t) => [t.tag, t.size]), [['sea', 4], ['cat', 1]]);

  await page.onSearch();
  assert.equal(fx.requestsTo('GET', '/api/photos/search').length, 0);
  assert.equal(fx.callsOf('showToast').length, 1);

  await page.tapTag(tap({ tag: 'sea' }));
  assert.deepEqual(fx.requestsTo('GET', '/api/photos/search')[0].query, { tag: 'sea', limit: '30' });
  assert.deepEqual(page.data.results.map((r) => r.id), ['tagged']);

  await page.tapTag(tap({ tag: 'sea' })); // again: unchosen
  page.onInput({ detail: { value: ' 故宫 ' } });
  await page.onSearch();
  assert.deepEqual(fx.requestsTo('GET', '/api/photos/search')[1].query, { q: '故宫', limit: '30' });
  assert.deepEqual(page.data.results.map((r) => r.id), ['texted']);
});

test('search: a refused query shows the API message', async () => {
  const { fx, api } = signedIn();
  fx.respond('GET', '/api/photos/tags', { status: 200, data: { items: [] } });
  fx.respond('GET', '/api/photos/search', { status: 400, data: { error: { code: 'invalid_parameter', message: 'q has no word to search for', field: 'q' } } });
  const page = mountPage(createSearchPage({ api, wx: fx.wx }));
  await page.onLoad();

  page.onInput({ detail: { value: '!!!' } });
  await page.onSearch();

  assert.deepEqual(shown(fx), ['q has no word to search for']);
});

// ---- trash ----

test('trash: restore takes a photo out; purge asks first', async () => {
  const { fx, api } = signedIn();
  fx.respond('GET', '/api/photos/trash', { status: 200, data: { items: [photo('t1', { trashed_at: '2024-06-01T00:00:00Z' }), photo('t2')], next_cursor: null } });
  fx.respond('POST', '/api/photos/t1/restore', { status: 204 });
  fx.respond('POST', '/api/photos/t2/purge', { status: 204 });
  const page = mountPage(createTrashPage({ api, wx: fx.wx }));
  await page.onShow();
  assert.deepEqual(page.data.photos.map((p) => p.id), ['t1', 't2']);

  await page.restore(tap({ id: 't1' }));
  assert.equal(fx.requestsTo('POST', '/api/photos/t1/restore').length, 1);
  assert.deepEqual(page.data.photos.map((p) => p.id), ['t2']);

  fx.modalAnswers.push(false);
  await page.purge(tap({ id: 't2' }));
  assert.equal(fx.requestsTo('POST', '/api/photos/t2/purge').length, 0);

  fx.modalAnswers.push(true);
  await page.purge(tap({ id: 't2' }));
  assert.equal(fx.requestsTo('POST', '/api/photos/t2/purge').length, 1);
  assert.deepEqual(page.data.photos, []);
});

// ---- share ----

test('share: creates a link with expiry and password, shows the full URL and copies it', async () => {
  const { fx, api } = signedIn();
  fx.respond('GET', '/api/shares', { status: 200, data: { shares: [
    { id: 's0', album_id: 'A1', photo_id: null, created_at: '2024-01-01T00:00:00Z', expires_at: null, revoked_at: null, has_password: false },
    { id: 'sx', album_id: 'OTHER', photo_id: null, created_at: '2024-01-01T00:00:00Z', expires_at: null, revoked_at: null, has_password: false },
  ], next_cursor: null } });
  fx.respond('POST', '/api/shares', { status: 201, data: { id: 's1', token: 'TOK', url: '/s/TOK', api_url: '/api/public/shares/TOK', album_id: 'A1', photo_id: null, has_password: true } });
  const page = mountPage(createSharePage({ api, wx: fx.wx }));
  await page.onLoad({ album_id: 'A1', name: 'Trip' });
  assert.deepEqual(page.data.shares.map((s) => s.id), ['s0'], "only this album's links");

  page.onExpiry({ detail: { value: '2' } });
  page.onPassword({ detail: { value: 'secret' } });
  await page.create();

  assert.deepEqual(fx.requestsTo('POST', '/api/shares')[0].data, { album_id: 'A1', expires_in_s: 604800, password: 'secret' });
  assert.equal(page.data.link, api.baseUrl + '/s/TOK', 'the link is the web page, not the JSON');

  await page.copyLink();
  assert.equal(fx.clipboard, api.baseUrl + '/s/TOK');
});

test('share: a too short password is refused before any request; a photo share sends photo_id', async () => {
  const { fx, api } = signedIn();
  fx.respond('GET', '/api/shares', { status: 200, data: { shares: [], next_cursor: null } });
  fx.respond('POST', '/api/shares', { status: 201, data: { id: 's1', token: 'T', url: '/s/T', api_url: '/api/public/shares/T' } });
  const page = mountPage(createSharePage({ api, wx: fx.wx }));
  await page.onLoad({ photo_id: 'p1' });

  page.onPassword({ detail: { value: 'abc' } });
  await page.create();
  assert.equal(fx.requestsTo('POST', '/api/shares').length, 0);
  assert.match(shown(fx)[0], /4 to 128/);

  page.onPassword({ detail: { value: '' } });
  await page.create();
  assert.deepEqual(fx.requestsTo('POST', '/api/shares')[0].data, { photo_id: 'p1' });
});

test('share: revoke asks, then DELETEs the link', async () => {
  const { fx, api } = signedIn();
  fx.respond('GET', '/api/shares', { status: 200, data: { shares: [{ id: 's0', album_id: 'A1', created_at: '2024-01-01T00:00:00Z' }], next_cursor: null } });
  fx.respond('DELETE', '/api/shares/s0', { status: 204 });
  const page = mountPage(createSharePage({ api, wx: fx.wx }));
  await page.onLoad({ album_id: 'A1' });

  fx.modalAnswers.push(false);
  await page.revoke(tap({ id: 's0' }));
  assert.equal(fx.requestsTo('DELETE', '/api/shares/s0').length, 0);
  fx.modalAnswers.push(true);
  await page.revoke(tap({ id: 's0' }));
  assert.equal(fx.requestsTo('DELETE', '/api/shares/s0').length, 1);
});
