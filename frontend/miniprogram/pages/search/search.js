// pages/search/search - photo search: a text box and the tag cloud
// (GET /api/photos/tags); results (GET /api/photos/search) in a grid, more
// on scroll.

const { getApi } = require('../../utils/api.js');

const PAGE_SIZE = 30;
const TAG_LIMIT = 60;

// The cloud's tags with a size step 1..4 from their count.
function cloudView(items) {
  const max = items.reduce((m, t) => Math.max(m, t.count || 0), 1);
  return items.map((t) => ({
    tag: t.tag,
    count: t.count,
    size: 1 + Math.round(((t.count || 0) / max) * 3),
  }));
}

function createSearchPage(deps) {
  const d = deps || {};
  const api = d.api || getApi();
  // eslint-disable-next-line no-undef
  const w = d.wx || wx;

  return {
    data: {
      q: '',
      tag: '',
      tags: [],
      results: [],
      nextCursor: null,
      loading: false,
      searched: false,
    },

    onLoad() {
      return this.loadTags();
    },

    onPullDownRefresh() {
      const jobs = [this.loadTags()];
      if (this.data.searched) jobs.push(this.search(null));
      return Promise.all(jobs).then(() => w.stopPullDownRefresh());
    },

    onReachBottom() {
      if (!this.data.nextCursor || this.data.loading) return Promise.resolve();
      return this.search(this.data.nextCursor);
    },

    async loadTags() {
      try {
        const r = await api.get('/api/photos/tags', { limit: TAG_LIMIT });
        this.setData({ tags: cloudView(r.items || []) });
      } catch (e) {
        api.showError(e);
      }
    },

    onInput(e) {
      this.setData({ q: e.detail.value });
    },

    onSearch() {
      if (this.data.q.trim() === '' && this.data.tag === '') {
        w.showToast({ title: 'Type something or pick a tag', icon: 'none' });
        return Promise.resolve();
      }
      return this.search(null);
    },

    // Picks a tag (tapping the chosen one again drops it) and searches.
    tapTag(e) {
      const tag = e.currentTarget.dataset.tag;
      this.setData({ tag: this.data.tag === tag ? '' : tag });
      if (this.data.tag === '' && this.data.q.trim() === '') {
        this.setData({ results: [], nextCursor: null, searched: false });
        return Promise.resolve();
      }
      return this.search(null);
    },

    async search(cursor) {
      this.setData({ loading: true });
      try {
        const r = await api.get('/api/photos/search', {
          q: this.data.q.trim(), tag: this.data.tag, limit: PAGE_SIZE, cursor,
        });
        const items = (r.items || []).map((p) => ({
          id: p.id, thumb: p.thumb_url || '', description: p.description || '',
        }));
        this.setData({
          results: cursor ? this.data.results.concat(items) : items,
          nextCursor: r.next_cursor || null,
          searched: true,
        });
      } catch (e) {
        api.showError(e);
      } finally {
        this.setData({ loading: false });
      }
    },

    openPhoto(e) {
      w.navigateTo({ url: '/pages/photo/photo?id=' + encodeURIComponent(e.currentTarget.dataset.id) });
    },
  };
}

module.exports = createSearchPage;
// eslint-disable-next-line no-undef
if (typeof Page === 'function') Page(createSearchPage());
