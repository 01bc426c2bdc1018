// Uploads (utils/upload.js and the album page): create the photo, PUT the
// bytes to the presigned URL, complete; per-file progress and status; a
// failed file marked failed, then retried successfully.

const test = require('node:test');
const assert = require('node:assert/strict');

const { createFakeWx, mountPage, tap } = require('./fake-wx.js');
const { createApi, TOKEN_KEY } = require('../utils/api.js');
const { createUploadQueue, contentTypeOf } = require('../utils/upload.js');
const createAlbumPage = require('../pages/album/album.js');

const STORAGE = /^\/storage\/photos\/o\//;

// Scripts the create answers: photo p1, p2, ... with a PUT URL each.
function scriptCreate(fx, albumId) {
  let n = 0;
  fx.respond('POST', '/api/albums/' + albumId + '/photos', (req) => {
    n++;
    return {
      status: 201,
      data: {
        photo: { id: 'p' + n, album_id: albumId, status: 'uploading', content_type: req.data.content_type },
        upload: {
          url: 'http://127.0.0.1:8080/storage/photos/o/p' + n + '.jpg?expires=9999999999&sig=abc',
          method: 'PUT',
          headers: { 'Content-Type': req.data.content_type },
          expires_at: '2099-01-01T00:00:00Z',
        },
      },
    };
  });
  fx.respond('POST', /^\/api\/photos\/p\d+\/complete$/, (req) => ({
    status: 202, data: { photo: { id: req.path.split('/')[3], status: 'processing' } },
  }));
}

function setup(options) {
  const fx = createFakeWx(Object.assign({ storage: { [TOKEN_KEY]: 'tok' } }, options || {}));
  const api = createApi({ wx: fx.wx });
  const views = [];
  const queue = createUploadQueue({ api, wx: fx.wx, albumId: 'A1', onChange: (v) => views.push(v) });
  return { fx, api, queue, views };
}

test('content types come from the file extension', () => {
  assert.equal(contentTypeOf('wxfile://tmp/a.JPG'), 'image/jpeg');
  assert.equal(contentTypeOf('http://tmp/b.jpeg'), 'image/jpeg');
  assert.equal(contentTypeOf('wxfile://c.png'), 'image/png');
  assert.equal(contentTypeOf('wxfile://d.webp'), 'image/webp');
  assert.equal(contentTypeOf('wxfile://e.heic'), null);
});

test('upload: create -> PUT the file bytes to the presigned URL -> complete', async () => {
  const { fx, queue, views } = setup();
  scriptCreate(fx, 'A1');
  const bytes = new Uint8Array([0xff, 0xd8, 0xff, 0xe0]).buffer;
  fx.files['wxfile://tmp/one.jpg'] = bytes;
  fx.respond('PUT', STORAGE, { status: 200 });

  queue.add([{ tempFilePath: 'wxfile://tmp/one.jpg', size: 4 }]);
  await queue.run();

  const [create] = fx.requestsTo('POST', '/api/albums/A1/photos');
  assert.deepEqual(create.data, { content_type: 'image/jpeg', size: 4 });
  assert.equal(create.header.Authorization, 'Bearer tok');
  const [put] = fx.requestsTo('PUT', STORAGE);
  assert.equal(put.url, 'http://127.0.0.1:8080/storage/photos/o/p1.jpg?expires=9999999999&sig=abc');
  assert.equal(put.data, bytes, 'the bytes read from the file are sent');
  assert.equal(put.header['Content-Type'], 'image/jpeg');
  assert.equal(put.header.Authorization, undefined, 'storage gets no bearer token');
  assert.equal(fx.requestsTo('POST', '/api/photos/p1/complete').length, 1);
  const order = fx.requests.map((r) => r.method + ' ' + r.path);
  assert.deepEqual(order, ['POST /api/albums/A1/photos', 'PUT /storage/photos/o/p1.jpg', 'POST /api/photos/p1/complete']);
  const last = views[views.length - 1];
  assert.equal(last.items[0].status, 'done');
  assert.equal(last.items[0].progress, 100);
  assert.equal(last.summary, '1 of 1 uploaded');
});

test('upload progress: the PUT task progress is reported per file', async () => {
  const { fx, queue, views } = setup();
  scriptCreate(fx, 'A1');
  fx.files['wxfile://tmp/a.jpg'] = new ArrayBuffer(10);
  fx.respond('PUT', STORAGE, { status: 200, progress: [0, 50, 100] });

  queue.add([{ tempFilePath: 'wxfile://tmp/a.jpg', size: 10 }]);
  await queue.run();

  const seen = views.map((v) => v.items[0].label);
  // 5% once created, then 5 + 0.9 x task progress, 95% before complete.
  for (const label of ['Waiting', 'Uploading 0%', 'Uploading 5%', 'Uploading 50%', 'Uploading 95%', 'Done']) {
    assert.ok(seen.includes(label), label + ' in ' + JSON.stringify(seen));
  }
  const percents = views.filter((v) => v.items[0].status === 'uploading').map((v) => v.items[0].progress);
  assert.deepEqual(percents, percents.slice().sort((x, y) => x - y), 'progress never goes back');
});

test('upload progress without task progress: steps per file and a count of files', async () => {
  const { fx, queue, views } = setup({ taskProgress: false });
  scriptCreate(fx, 'A1');
  fx.files['wxfile://a.jpg'] = new ArrayBuffer(1);
  fx.files['wxfile://b.png'] = new ArrayBuffer(1);
  fx.respond('PUT', STORAGE, { status: 200 });

  queue.add([{ tempFilePath: 'wxfile://a.jpg', size: 1 }, { tempFilePath: 'wxfile://b.png', size: 1 }]);
  await queue.run();

  const first = views.map((v) => v.items[0].label);
  assert.ok(first.includes('Uploading 5%') && first.includes('Uploading 95%'), JSON.stringify(first));
  const summaries = views.map((v) => v.summary);
  assert.ok(summaries.includes('1 of 2 uploaded'));
  assert.equal(summaries[summaries.length - 1], '2 of 2 uploaded');
  assert.deepEqual(fx.requestsTo('POST', '/api/albums/A1/photos').map((r) => r.data.content_type), ['image/jpeg', 'image/png']);
});

test('a failed upload is marked failed, the others go on, and a retry succeeds without a new photo', async () => {
  const { fx, queue, views } = setup();
  scriptCreate(fx, 'A1');
  fx.files['wxfile://bad.jpg'] = new ArrayBuffer(2);
  fx.files['wxfile://good.jpg'] = new ArrayBuffer(2);
  fx.respond('PUT', /^\/storage\/photos\/o\/p2\.jpg$/, { status: 200 });
  fx.respond('PUT', /^\/storage\/photos\/o\/p1\.jpg$/, { fail: 'request:fail socket timeout' }, { status: 200 });

  queue.add([{ tempFilePath: 'wxfile://bad.jpg', size: 2 }, { tempFilePath: 'wxfile://good.jpg', size: 2 }]);
  await queue.run();

  let v = queue.view();
  assert.equal(v.items[0].status, 'failed');
  assert.equal(v.items[0].label, 'Failed');
  assert.match(v.items[0].error, /Network error/);
  assert.equal(v.items[1].status, 'done', 'the next file still uploads');
  assert.equal(v.summary, '1 of 2 uploaded, 1 failed');
  assert.equal(fx.requestsTo('POST', '/api/photos/p1/complete').length, 0, 'no complete without the bytes');

  await queue.retry(0);

  v = queue.view();
  assert.equal(v.items[0].status, 'done');
  assert.equal(v.summary, '2 of 2 uploaded');
  assert.equal(fx.requestsTo('POST', '/api/albums/A1/photos').length, 2, 'the retry reuses photo p1');
  assert.equal(fx.requestsTo('PUT', /p1\.jpg$/).length, 2);
  assert.equal(fx.requestsTo('POST', '/api/photos/p1/complete').length, 1);
  assert.ok(views.some((x) => x.items[0].label === 'Uploading 5%' && x.items[1].status === 'done'),
    'the retried file shows progress again');
});

test("a failed complete is retried alone, keeping the server's message meanwhile", async () => {
  const { fx, queue } = setup();
  scriptCreate(fx, 'A1');
  fx.files['wxfile://x.jpg'] = new ArrayBuffer(2);
  fx.respond('PUT', STORAGE, { status: 200 });
  fx.respond('POST', '/api/photos/p1/complete',
    { status: 503, data: { error: { code: 'pipeline_unavailable', message: 'the photo could not be queued for processing; retry' } } },
    { status: 202, data: { photo: { id: 'p1', status: 'processing' } } });

  queue.add([{ tempFilePath: 'wxfile://x.jpg', size: 2 }]);
  await queue.run();
  assert.equal(queue.view().items[0].status, 'failed');
  assert.equal(queue.view().items[0].error, 'the photo could not be queued for processing; retry');

  await queue.retry(0);
  assert.equal(queue.view().items[0].status, 'done');
  assert.equal(fx.requestsTo('PUT', STORAGE).length, 1, 'the bytes were not sent twice');
  assert.equal(fx.requestsTo('POST', '/api/photos/p1/complete').length, 2);
});

test('an unsupported file type fails at once, without a request', async () => {
  const { fx, queue } = setup();
  queue.add([{ tempFilePath: 'wxfile://clip.heic', size: 5 }]);
  await queue.run();
  assert.equal(queue.view().items[0].status, 'failed');
  assert.match(queue.view().items[0].error, /JPEG, PNG, WebP and GIF/);
  assert.equal(fx.requests.length, 0);
});

test('album page: chooseMedia -> uploads with per-file status -> retry button -> list reloaded', async () => {
  const fx = createFakeWx({ storage: { [TOKEN_KEY]: 'tok' } });
  const api = createApi({ wx: fx.wx });
  scriptCreate(fx, 'A1');
  fx.respond('GET', '/api/albums/A1/photos', { status: 200, data: { items: [], next_cursor: null } });
  fx.files['wxfile://1.jpg'] = new ArrayBuffer(1);
  fx.files['wxfile://2.jpg'] = new ArrayBuffer(1);
  fx.respond('PUT', /p1\.jpg$/, { status: 200, progress: [40] });
  fx.respond('PUT', /p2\.jpg$/, { status: 403, data: 'signature expired' });
  fx.respond('PUT', /p3\.jpg$/, { status: 200 });
  fx.chooseResult = { tempFiles: [{ tempFilePath: 'wxfile://1.jpg', size: 1 }, { tempFilePath: 'wxfile://2.jpg', size: 1 }] };
  const page = mountPage(createAlbumPage({ api, wx: fx.wx }));
  await page.onLoad({ id: 'A1', name: 'Trip' });

  await page.chooseUpload();

  assert.equal(fx.callsOf('chooseMedia')[0].count, 9);
  assert.deepEqual(fx.callsOf('chooseMedia')[0].mediaType, ['image']);
  assert.deepEqual(page.data.uploads.map((u) => u.status), ['done', 'failed']);
  assert.match(page.data.uploads[1].error, /403/);
  assert.ok(page.history.some((d) => d.uploads.length === 2 && d.uploads[0].label === 'Uploading 41%' && d.uploads[1].label === 'Waiting'),
    'progress of the first while the second waits');
  assert.ok(fx.callsOf('showToast').some((t) => /1 upload\(s\) failed/.test(t.title)));

  await page.retryUpload(tap({ index: 1 }));

  assert.deepEqual(page.data.uploads.map((u) => u.status), ['done', 'done']);
  // A refused PUT (expired URL) gets a fresh photo and URL on retry.
  assert.equal(fx.requestsTo('POST', '/api/albums/A1/photos').length, 3);
  assert.equal(fx.requestsTo('POST', '/api/photos/p3/complete').length, 1);
  assert.equal(page.data.uploadSummary, '2 of 2 uploaded');
  assert.equal(fx.requestsTo('GET', '/api/albums/A1/photos').length, 3, 'loaded, then reloaded after each run');
  assert.deepEqual(fx.unmatched, []);
});

test('album page: cancelling the picker uploads nothing', async () => {
  const fx = createFakeWx({ storage: { [TOKEN_KEY]: 'tok' } });
  fx.respond('GET', '/api/albums/A1/photos', { status: 200, data: { items: [], next_cursor: null } });
  fx.chooseResult = { fail: 'chooseMedia:fail cancel' };
  const page = mountPage(createAlbumPage({ api: createApi({ wx: fx.wx }), wx: fx.wx }));
  await page.onLoad({ id: 'A1' });

  await page.chooseUpload();

  assert.deepEqual(page.data.uploads, []);
  assert.equal(fx.requests.filter((r) => r.method !== 'GET').length, 0);
  assert.equal(fx.callsOf('showToast').length + fx.callsOf('showModal').length, 0);
});
