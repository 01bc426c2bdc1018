// The API client (utils/api.js) against a fake wx: sign-in, the stored
// token, 401 -> sign in again -> retry once, errors shown to the user,
// network failures, and the base URL coming from config.js.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const { createFakeWx } = require('./fake-wx.js');
const { createApi, ApiError, TOKEN_KEY } = require('../utils/api.js');
const config = require('../config.js');

const ROOT = path.join(__dirname, '..');

function loginOk(token) {
  return { status: 200, data: { token, expires_at: '2030-01-01T00:00:00Z', user: { id: 7, nickname: '' } } };
}

const ALBUMS = { status: 200, data: { items: [], next_cursor: null } };

test('login: wx.login code is posted to /api/auth/wechat, the token stored and sent as a bearer token', async () => {
  const fx = createFakeWx();
  fx.loginCodes.push('the-code');
  fx.respond('POST', '/api/auth/wechat', loginOk('tok-1'));
  fx.respond('GET', '/api/albums', ALBUMS);
  const api = createApi({ wx: fx.wx });

  const r = await api.get('/api/albums');

  assert.deepEqual(r, { items: [], next_cursor: null });
  const [login] = fx.requestsTo('POST', '/api/auth/wechat');
  assert.deepEqual(login.data, { code: 'the-code' });
  assert.equal(login.header.Authorization, undefined, 'the login itself carries no token');
  assert.equal(fx.storage.get(TOKEN_KEY), 'tok-1');
  const [get] = fx.requestsTo('GET', '/api/albums');
  assert.equal(get.header.Authorization, 'Bearer tok-1');
  assert.deepEqual(fx.unmatched, []);
});

test('token reuse: a stored token is sent without calling wx.login again', async () => {
  const fx = createFakeWx({ storage: { [TOKEN_KEY]: 'stored-tok' } });
  fx.respond('GET', '/api/albums', ALBUMS);
  const api = createApi({ wx: fx.wx });

  await api.get('/api/albums');
  await api.get('/api/albums');

  assert.equal(fx.callsOf('login').length, 0);
  assert.equal(fx.requestsTo('POST', '/api/auth/wechat').length, 0);
  const gets = fx.requestsTo('GET', '/api/albums');
  assert.equal(gets.length, 2);
  gets.forEach((g) => assert.equal(g.header.Authorization, 'Bearer stored-tok'));
});

test('token reuse: a token from one sign-in serves later requests (one wx.login)', async () => {
  const fx = createFakeWx();
  fx.respond('POST', '/api/auth/wechat', loginOk('tok-a'));
  fx.respond('GET', '/api/albums', ALBUMS);
  const api = createApi({ wx: fx.wx });

  await api.get('/api/albums');
  await api.get('/api/albums');
  // A new client (the app restarted) finds the token in storage.
  await createApi({ wx: fx.wx }).get('/api/albums');

  assert.equal(fx.callsOf('login').length, 1);
  assert.equal(fx.requestsTo('GET', '/api/albums').length, 3);
});

test('concurrent requests share one sign-in', async () => {
  const fx = createFakeWx();
  fx.respond('POST', '/api/auth/wechat', loginOk('tok-c'));
  fx.respond('GET', '/api/albums', ALBUMS);
  fx.respond('GET', '/api/photos/tags', { status: 200, data: { items: [] } });
  const api = createApi({ wx: fx.wx });

  await Promise.all([api.get('/api/albums'), api.get('/api/photos/tags'), api.get('/api/albums')]);

  assert.equal(fx.callsOf('login').length, 1);
  fx.requests.filter((r) => r.path !== '/api/auth/wechat')
    .forEach((r) => assert.equal(r.header.Authorization, 'Bearer tok-c'));
});

test('401: the token is dropped, the user signs in again and the request is retried once', async () => {
  const fx = createFakeWx({ storage: { [TOKEN_KEY]: 'expired-tok' } });
  fx.loginCodes.push('fresh-code');
  fx.respond('POST', '/api/auth/wechat', loginOk('new-tok'));
  fx.respond('POST', '/api/albums',
    { status: 401, data: { error: { code: 'unauthorized', message: 'invalid or expired session' } } },
    { status: 201, data: { id: 'a1', name: 'Trip' } });
  const api = createApi({ wx: fx.wx });

  const r = await api.post('/api/albums', { name: 'Trip' });

  assert.deepEqual(r, { id: 'a1', name: 'Trip' });
  const posts = fx.requestsTo('POST', '/api/albums');
  assert.equal(posts.length, 2);
  assert.equal(posts[0].header.Authorization, 'Bearer expired-tok');
  assert.equal(posts[1].header.Authorization, 'Bearer new-tok');
  assert.deepEqual(posts[1].data, { name: 'Trip' }, 'the retry sends the same body');
  assert.deepEqual(fx.requestsTo('POST', '/api/auth/wechat')[0].data, { code: 'fresh-code' });
  assert.ok(fx.callsOf('removeStorageSync').includes(TOKEN_KEY), 'the refused token was removed');
  assert.equal(fx.storage.get(TOKEN_KEY), 'new-tok');
});

test('401 twice: the second 401 is an error, with no further sign-in or retry', async () => {
  const fx = createFakeWx({ storage: { [TOKEN_KEY]: 'old' } });
  fx.respond('POST', '/api/auth/wechat', loginOk('also-refused'));
  fx.respond('GET', '/api/albums',
    { status: 401, data: { error: { code: 'unauthorized', message: 'invalid or expired session' } } });
  const api = createApi({ wx: fx.wx });

  await assert.rejects(api.get('/api/albums'), (e) => {
    assert.ok(e instanceof ApiError);
    assert.equal(e.status, 401);
    assert.equal(e.message, 'invalid or expired session');
    return true;
  });
  assert.equal(fx.requestsTo('GET', '/api/albums').length, 2);
  assert.equal(fx.callsOf('login').length, 1);
});

test('a refused sign-in surfaces the server message and is not retried', async () => {
  const fx = createFakeWx();
  fx.respond('POST', '/api/auth/wechat', {
    status: 401,
    data: { error: { code: 'wechat_login_failed', message: 'WeChat refused the code: invalid code (40029)' } },
  });
  const api = createApi({ wx: fx.wx });

  await assert.rejects(api.get('/api/albums'), (e) => {
    assert.equal(e.code, 'wechat_login_failed');
    assert.equal(e.message, 'WeChat refused the code: invalid code (40029)');
    return true;
  });
  assert.equal(fx.requestsTo('POST', '/api/auth/wechat').length, 1);
  assert.equal(fx.requestsTo('GET', '/api/albums').length, 0, 'nothing is sent without a token');
});

test('a wx.login failure is an error the user can read', async () => {
  const fx = createFakeWx();
  fx.loginCodes.push({ fail: 'login:fail timeout' });
  const api = createApi({ wx: fx.wx });

  await assert.rejects(api.ensureToken(), (e) => {
    assert.equal(e.code, 'login_failed');
    assert.match(e.message, /login:fail timeout/);
    return true;
  });
  assert.equal(fx.requests.length, 0);
});

test("API errors carry the server's code, message and field; showError shows the message", async () => {
  const fx = createFakeWx({ storage: { [TOKEN_KEY]: 't' } });
  fx.respond('POST', '/api/albums', {
    status: 409,
    data: { error: { code: 'conflict', message: 'you already have an album with this name', field: 'name' } },
  });
  const api = createApi({ wx: fx.wx });

  let err;
  await api.post('/api/albums', { name: 'x' }).catch((e) => { err = e; });
  assert.ok(err instanceof ApiError);
  assert.equal(err.status, 409);
  assert.equal(err.code, 'conflict');
  assert.equal(err.field, 'name');

  api.showError(err);
  const shown = fx.callsOf('showToast').map((t) => t.title)
    .concat(fx.callsOf('showModal').map((m) => m.content));
  assert.deepEqual(shown, ['you already have an album with this name']);
});

test('showError: short messages in a toast, long ones in a modal', () => {
  const fx = createFakeWx();
  const api = createApi({ wx: fx.wx });

  api.showError(new ApiError(404, 'not_found', 'no such album'));
  const long = 'WeChat is busy, try again shortly: system error, please retry (-1)';
  api.showError(new ApiError(503, 'wechat_busy', long));

  assert.deepEqual(fx.callsOf('showToast').map((t) => [t.title, t.icon]), [['no such album', 'none']]);
  assert.deepEqual(fx.callsOf('showModal').map((m) => m.content), [long]);
});

test('an error answer without error JSON still gives a readable message', async () => {
  const fx = createFakeWx({ storage: { [TOKEN_KEY]: 't' } });
  fx.respond('GET', '/api/albums', { status: 502, data: '<html>Bad Gateway</html>' });
  const api = createApi({ wx: fx.wx });

  await assert.rejects(api.get('/api/albums'), (e) => {
    assert.equal(e.status, 502);
    assert.match(e.message, /502/);
    return true;
  });
});

test('network failure: rejects with network_error, which showError puts in front of the user', async () => {
  const fx = createFakeWx({ storage: { [TOKEN_KEY]: 't' } });
  fx.respond('GET', '/api/albums', { fail: 'request:fail timeout' });
  const api = createApi({ wx: fx.wx });

  let err;
  await api.get('/api/albums').catch((e) => { err = e; });
  assert.ok(err, 'the request rejected');
  assert.equal(err.status, 0);
  assert.equal(err.code, 'network_error');
  assert.match(err.message, /Network error/);
  assert.equal(fx.storage.get(TOKEN_KEY), 't', 'a network failure keeps the token');

  api.showError(err);
  const shown = fx.callsOf('showToast').map((t) => t.title).concat(fx.callsOf('showModal').map((m) => m.content));
  assert.equal(shown.length, 1);
  assert.match(shown[0], /Network error/);
});

test('query parameters are encoded and empty ones left out; 204 resolves to null', async () => {
  const fx = createFakeWx({ storage: { [TOKEN_KEY]: 't' } });
  fx.respond('GET', '/api/photos/search', { status: 200, data: { items: [], next_cursor: null } });
  fx.respond('DELETE', '/api/albums/a1', { status: 204 });
  const api = createApi({ wx: fx.wx });

  await api.get('/api/photos/search', { q: '海边 & sun', tag: '', cursor: null, limit: 30 });
  assert.equal(await api.del('/api/albums/a1'), null);

  const [s] = fx.requestsTo('GET', '/api/photos/search');
  assert.deepEqual(s.query, { q: '海边 & sun', limit: '30' });
  assert.match(s.url, /\?q=%E6%B5%B7%E8%BE%B9%20%26%20sun&limit=30$/);
});

test('the base URL comes from config.js', async () => {
  const fx = createFakeWx();
  fx.respond('POST', '/api/auth/wechat', loginOk('t'));
  fx.respond('GET', '/api/albums', ALBUMS);
  const api = createApi({ wx: fx.wx });

  await api.get('/api/albums');

  assert.equal(api.baseUrl, config.baseUrl.replace(/\/+$/, ''));
  assert.ok(fx.requests.length >= 2);
  fx.requests.forEach((r) => assert.ok(r.url.startsWith(api.baseUrl + '/api/'), r.url));
  assert.equal(api.url('/api/public/shares/x'), api.baseUrl + '/api/public/shares/x');
});

test('config.js is the only file that names a server address', () => {
  const offenders = [];
  (function walk(dir) {
    fs.readdirSync(dir, { withFileTypes: true }).forEach((e) => {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'test' && e.name !== 'node_modules') walk(p);
      } else if (/\.(js|wxml|json)$/.test(e.name) && path.relative(ROOT, p) !== 'config.js') {
        if (/https?:\/\/|127\.0\.0\.1|localhost/.test(fs.readFileSync(p, 'utf8'))) offenders.push(path.relative(ROOT, p));
      }
    });
  })(ROOT);
  assert.deepEqual(offenders, []);
  assert.match(config.baseUrl, /^https?:\/\/[^/]+/);
});

test('devOpenid in the config signs in with POST /api/auth/dev instead of wx.login', async () => {
  const fx = createFakeWx();
  fx.respond('POST', '/api/auth/dev', loginOk('dev-tok'));
  fx.respond('GET', '/api/albums', ALBUMS);
  const api = createApi({ wx: fx.wx, devOpenid: 'dev-user-1' });

  await api.get('/api/albums');

  assert.equal(fx.callsOf('login').length, 0);
  assert.deepEqual(fx.requestsTo('POST', '/api/auth/dev')[0].data, { openid: 'dev-user-1' });
  assert.equal(fx.requestsTo('GET', '/api/albums')[0].header.Authorization, 'Bearer dev-tok');
});

test('logout revokes the session on the server and forgets the token', async () => {
  const fx = createFakeWx({ storage: { [TOKEN_KEY]: 'bye' } });
  fx.respond('POST', '/api/auth/wechat/logout', { status: 204 });
  const api = createApi({ wx: fx.wx });

  await api.logout();

  const [r] = fx.requestsTo('POST', '/api/auth/wechat/logout');
  assert.equal(r.header.Authorization, 'Bearer bye');
  assert.equal(fx.storage.has(TOKEN_KEY), false);
});
