// utils/page.js on its own: the cursor-paged list methods (first page
// replaces, later pages append, the loading/nextCursor/flag bookkeeping,
// errors, the scroll and pull-down guards) and pageDeps' defaults.

const test = require('node:test');
const assert = require('node:assert/strict');

const { createFakeWx, mountPage } = require('./fake-wx.js');
const { pageDeps, pagedList } = require('../utils/page.js');
const { getApi } = require('../utils/api.js');

// An API stand-in: get() answers from pages[cursor] (or fails with an
// error when the answer is an Error), recording each call and the page's
// loading flag at that moment.
function fakeApi(pages, host) {
  const api = {
    gets: [],
    errors: [],
    async get(path, query) {
      api.gets.push({ path, query, loading: host.page && host.page.data.loading });
      const a = pages[query.cursor === null ? 'first' : query.cursor];
      if (a instanceof Error) throw a;
      return a;
    },
    showError(e) {
      api.errors.push(e.message);
    },
  };
  return api;
}

function listPage(pages, options) {
  const fx = createFakeWx();
  const host = {};
  const api = fakeApi(pages, host);
  const page = mountPage(Object.assign({
    data: { items: [], nextCursor: null, loading: false, loaded: false, box: 'B7' },
  }, pagedList(Object.assign({
    api, wx: fx.wx, key: 'items', path: '/api/things', limit: 5, view: (x) => ({ id: x.id, up: x.id.toUpperCase() }),
  }, options || {}))));
  host.page = page;
  return { fx, api, page };
}

const THREE_PAGES = {
  first: { items: [{ id: 'a' }, { id: 'b' }], next_cursor: 'c1' },
  c1: { items: [{ id: 'c' }], next_cursor: 'c2' },
  c2: { items: [{ id: 'd' }], next_cursor: null },
};

test('paged: the first page replaces the list, later ones append, mapped by view', async () => {
  const { api, page } = listPage(THREE_PAGES);

  await page.refresh();
  assert.deepEqual(page.data.items, [{ id: 'a', up: 'A' }, { id: 'b', up: 'B' }]);
  assert.equal(page.data.nextCursor, 'c1');
  assert.equal(page.data.loaded, true);

  await page.onReachBottom();
  await page.onReachBottom();
  assert.deepEqual(page.data.items.map((x) => x.id), ['a', 'b', 'c', 'd']);
  assert.equal(page.data.nextCursor, null);

  await page.onReachBottom(); // no next page: nothing asked
  assert.deepEqual(api.gets.map((g) => [g.path, g.query.limit, g.query.cursor]),
    [['/api/things', 5, null], ['/api/things', 5, 'c1'], ['/api/things', 5, 'c2']]);

  await page.refresh(); // back to the first page alone
  assert.deepEqual(page.data.items.map((x) => x.id), ['a', 'b']);
});

test('paged: loading is set while a page loads and cleared after; a scroll meanwhile asks nothing', async () => {
  const { api, page } = listPage(THREE_PAGES);
  await page.refresh();

  const first = page.onReachBottom();
  assert.equal(page.data.loading, true);
  await page.onReachBottom();
  await first;

  assert.equal(api.gets.length, 2);
  assert.equal(api.gets[1].loading, true);
  assert.equal(page.data.loading, false);
});

test('paged: a failure goes to showError and leaves the list, cursor and flag as they were', async () => {
  const { api, page } = listPage({ first: THREE_PAGES.first, c1: new Error('database unavailable') });
  await page.refresh();

  await page.onReachBottom();

  assert.deepEqual(api.errors, ['database unavailable']);
  assert.deepEqual(page.data.items.map((x) => x.id), ['a', 'b']);
  assert.equal(page.data.nextCursor, 'c1');
  assert.equal(page.data.loading, false);

  const fresh = listPage({ first: new Error('nope') });
  await fresh.page.refresh();
  assert.equal(fresh.page.data.loaded, false);
  assert.deepEqual(fresh.api.errors, ['nope']);
});

test('paged: path and query may come from the page; the flag key is configurable', async () => {
  const { api, page } = listPage({ first: { items: [], next_cursor: null } }, {
    path: (p) => '/api/boxes/' + p.data.box + '/things',
    query: (p) => ({ q: 'sea', tag: p.data.box }),
    flag: 'searched',
  });

  await page.load(null);

  assert.equal(api.gets[0].path, '/api/boxes/B7/things');
  assert.deepEqual(Object.entries(api.gets[0].query), [['q', 'sea'], ['tag', 'B7'], ['limit', 5], ['cursor', null]]);
  assert.equal(page.data.searched, true);
  assert.equal(page.data.loaded, false);
});

test('paged: pull-down refresh reloads the first page, then stops the spinner', async () => {
  const { fx, api, page } = listPage(THREE_PAGES);
  await page.refresh();
  await page.onReachBottom();

  const done = page.onPullDownRefresh();
  assert.equal(fx.callsOf('stopPullDownRefresh').length, 0, 'not before the page came');
  await done;

  assert.equal(fx.callsOf('stopPullDownRefresh').length, 1);
  assert.equal(api.gets[2].query.cursor, null);
  assert.deepEqual(page.data.items.map((x) => x.id), ['a', 'b']);
});

test('pageDeps: injected api and wx win; otherwise the app client and the global wx', () => {
  const fx = createFakeWx();
  const api = {};
  assert.deepEqual(pageDeps({ api, wx: fx.wx }), { api, wx: fx.wx });

  global.wx = fx.wx;
  try {
    const d = pageDeps();
    assert.equal(d.wx, fx.wx);
    assert.equal(d.api, getApi());
  } finally {
    delete global.wx;
  }
});
