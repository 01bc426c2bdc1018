// The project as the WeChat developer tools load it: the config files, every
// page's four files, each page registering itself with Page() and handling
// every event its template binds, and the app signing in at launch.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const { createFakeWx, settle } = require('./fake-wx.js');

const ROOT = path.join(__dirname, '..');

function readJson(rel) {
  return JSON.parse(fs.readFileSync(path.join(ROOT, rel), 'utf8'));
}

// Requires file with fresh copies of the project's modules and the given
// globals (Page, App, wx), which are removed again afterwards.
function loadFresh(rel, globals) {
  Object.keys(require.cache).forEach((k) => {
    if (k.startsWith(ROOT + path.sep) && !k.includes(path.sep + 'test' + path.sep)) delete require.cache[k];
  });
  Object.assign(global, globals);
  try {
    return require(path.join(ROOT, rel));
  } finally {
    Object.keys(globals).forEach((k) => delete global[k]);
  }
}

const app = readJson('app.json');

test('project.config.json: a mini-program rooted here, with an AppID placeholder', () => {
  const p = readJson('project.config.json');
  assert.equal(p.compileType, 'miniprogram');
  assert.equal(p.miniprogramRoot, './');
  assert.equal(p.appid, 'touristappid');
  assert.equal(p.setting.urlCheck, false, 'the dev tools may call the local gateway');
  assert.ok(p.packOptions.ignore.some((i) => i.value === 'test'), 'tests are not packed');
  assert.ok(fs.existsSync(path.join(ROOT, app.sitemapLocation)));
  readJson(app.sitemapLocation);
});

test('app.json: every page has its .js, .json, .wxml and .wxss; tab bar pages exist', () => {
  assert.equal(app.pages[0], 'pages/albums/albums', 'the album list opens first');
  for (const page of app.pages) {
    for (const ext of ['.js', '.json', '.wxml', '.wxss']) {
      assert.ok(fs.existsSync(path.join(ROOT, page + ext)), page + ext);
    }
    readJson(page + '.json');
  }
  for (const item of app.tabBar.list) assert.ok(app.pages.includes(item.pagePath), item.pagePath);
  for (const f of ['app.js', 'app.wxss', 'config.js', 'utils/api.js']) assert.ok(fs.existsSync(path.join(ROOT, f)), f);
});

test('each page registers with Page() and handles every event its template binds', () => {
  const fx = createFakeWx();
  for (const page of app.pages) {
    let registered = null;
    loadFresh(page + '.js', { wx: fx.wx, Page: (def) => { registered = def; } });
    assert.ok(registered, page + ' calls Page()');
    assert.equal(typeof registered.data, 'object', page + ' has data');

    const wxml = fs.readFileSync(path.join(ROOT, page + '.wxml'), 'utf8');
    const handlers = [...wxml.matchAll(/\b(?:bind|catch):?[a-z]+="([^"]+)"/g)].map((m) => m[1]);
    for (const h of handlers) assert.equal(typeof registered[h], 'function', page + ' handles ' + h);
    assert.equal((wxml.match(/\{\{/g) || []).length, (wxml.match(/\}\}/g) || []).length, page + ' {{ }} balanced');
    for (const m of wxml.matchAll(/<[^>]*wx:for=[^>]*>/g)) assert.match(m[0], /wx:key=/, page + ': ' + m[0]);
  }
  assert.equal(fx.requests.length, 0, 'registering a page sends nothing');
});

test('app.js signs in at launch with wx.login and stores the token', async () => {
  const fx = createFakeWx();
  fx.loginCodes.push('launch-code');
  fx.respond('POST', '/api/auth/wechat', { status: 200, data: { token: 'launch-tok', user: { id: 1 } } });
  let appDef = null;
  loadFresh('app.js', { App: (def) => { appDef = def; } });
  assert.ok(appDef && typeof appDef.onLaunch === 'function');

  global.wx = fx.wx; // the app's client uses the global wx
  try {
    appDef.onLaunch();
    await settle();
  } finally {
    delete global.wx;
  }

  assert.deepEqual(fx.requestsTo('POST', '/api/auth/wechat').map((r) => r.data), [{ code: 'launch-code' }]);
  assert.equal(fx.storage.get('album_token'), 'launch-tok');
});
