// pages/search/search - photo search: a text box and the tag cloud
// (GET /api/photos/tags); results (GET /api/photos/search) in a grid, more
// on scroll.

const { pageDeps, pagedList } = require('../../utils/page.js');

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

function resultView(p) {
  return { id: p.id, thumb: p.thumb_url || '', description: p.description || '' };
}

function createSearchPage(deps) {
  const { api, wx: w } = pageDeps(deps);

  return {
    // load(cursor): one page of results for the text and the tag.
    ...pagedList({
      api, wx: w, key: 'results', path: '/api/photos/search', limit: PAGE_SIZE, view: resultView,
      query: (page) => ({ q: page.data.q.trim(), tag: page.data.tag }),
      flag: 'searched',
    }),

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
      if (this.data.searched) jobs.push(this.load(null));
      return Promise.all(jobs).then(() => w.stopPullDownRefresh());
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
      return this.load(null);
    },

    // Picks a tag (tapping the chosen one again drops it) and searches.
    tapTag(e) {
      const tag = e.currentTarget.dataset.tag;
      this.setData({ tag: this.data.tag === tag ? '' : tag });
      if (this.data.tag === '' && this.data.q.trim() === '') {
        this.setData({ results: [], nextCursor: null, searched: false });
        return Promise.resolve();
      }
      return this.load(null);
    },

    openPhoto(e) {
      w.navigateTo({ url: '/pages/photo/photo?id=' + encodeURIComponent(e.currentTarget.dataset.id) });
    },
  };
}

module.exports = createSearchPage;
// eslint-disable-next-line no-undef
if (typeof Page === 'function') Page(createSearchPage());
