// pages/trash/trash - photos in the trash, most recently trashed first:
// restore one, or delete it for good (confirmed).

const { getApi } = require('../../utils/api.js');
const { formatDate } = require('../../utils/format.js');
const wxp = require('../../utils/wxp.js');

const PAGE_SIZE = 30;

function createTrashPage(deps) {
  const d = deps || {};
  const api = d.api || getApi();
  // eslint-disable-next-line no-undef
  const w = d.wx || wx;

  return {
    data: {
      photos: [],
      nextCursor: null,
      loading: false,
      loaded: false,
    },

    onShow() {
      return this.load(null);
    },

    onPullDownRefresh() {
      return this.load(null).then(() => w.stopPullDownRefresh());
    },

    onReachBottom() {
      if (!this.data.nextCursor || this.data.loading) return Promise.resolve();
      return this.load(this.data.nextCursor);
    },

    async load(cursor) {
      this.setData({ loading: true });
      try {
        const r = await api.get('/api/photos/trash', { limit: PAGE_SIZE, cursor });
        const items = (r.items || []).map((p) => ({
          id: p.id,
          thumb: p.thumb_url || '',
          status: p.status,
          description: p.description || '',
          trashed: formatDate(p.trashed_at),
        }));
        this.setData({
          photos: cursor ? this.data.photos.concat(items) : items,
          nextCursor: r.next_cursor || null,
          loaded: true,
        });
      } catch (e) {
        api.showError(e);
      } finally {
        this.setData({ loading: false });
      }
    },

    drop(id) {
      this.setData({ photos: this.data.photos.filter((p) => p.id !== id) });
    },

    async restore(e) {
      const id = e.currentTarget.dataset.id;
      try {
        await api.post('/api/photos/' + encodeURIComponent(id) + '/restore');
        this.drop(id);
        w.showToast({ title: 'Restored', icon: 'success' });
      } catch (err) {
        api.showError(err);
      }
    },

    async purge(e) {
      const id = e.currentTarget.dataset.id;
      const ok = await wxp.confirm(w, 'Delete for good?',
        'The photo and its files are deleted. This cannot be undone.', 'Delete');
      if (!ok) return;
      try {
        await api.post('/api/photos/' + encodeURIComponent(id) + '/purge');
        this.drop(id);
        w.showToast({ title: 'Deleted', icon: 'success' });
      } catch (err) {
        api.showError(err);
      }
    },
  };
}

module.exports = createTrashPage;
// eslint-disable-next-line no-undef
if (typeof Page === 'function') Page(createTrashPage());
