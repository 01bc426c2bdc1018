// utils/page.js - what the page factories share.
//
// pageDeps(deps) -> {api, wx}: the ones a test injects, else the app's
// client (getApi()) and the global wx.
//
// pagedList({api, wx, key, path, query, limit, view, flag}) -> the methods
// of a page showing one cursor-paged list (GET path ?limit=&cursor=,
// answered with {items, next_cursor}) in data[key]:
//   load(cursor)        one page: the first (cursor null) replaces the list,
//                       a later one is appended. Sets data.loading while it
//                       runs, then data.nextCursor (null at the end) and
//                       data[flag] = true (flag: 'loaded' by default). A
//                       failure goes to api.showError; the list stays.
//   refresh()           load(null).
//   onReachBottom()     the next page, unless there is none or one is loading.
//   onPullDownRefresh() refresh(), then stops the pull-down spinner.
// path is a string or page => string; query (optional) page => the extra
// query parameters (sent before limit and cursor); view maps one item.

const { getApi } = require('./api.js');

function pageDeps(deps) {
  const d = deps || {};
  // eslint-disable-next-line no-undef
  return { api: d.api || getApi(), wx: d.wx || wx };
}

function pagedList(o) {
  const { api, wx: w, key, limit, view } = o;
  const flag = o.flag || 'loaded';

  return {
    onPullDownRefresh() {
      return this.refresh().then(() => w.stopPullDownRefresh());
    },

    onReachBottom() {
      if (!this.data.nextCursor || this.data.loading) return Promise.resolve();
      return this.load(this.data.nextCursor);
    },

    refresh() {
      return this.load(null);
    },

    async load(cursor) {
      this.setData({ loading: true });
      try {
        const path = typeof o.path === 'function' ? o.path(this) : o.path;
        const query = Object.assign({}, o.query ? o.query(this) : {}, { limit, cursor });
        const r = await api.get(path, query);
        const items = (r.items || []).map(view);
        this.setData({
          [key]: cursor ? this.data[key].concat(items) : items,
          nextCursor: r.next_cursor || null,
          [flag]: true,
        });
      } catch (e) {
        api.showError(e);
      } finally {
        this.setData({ loading: false });
      }
    },
  };
}

module.exports = { pageDeps, pagedList };
