// pages/trash/trash - photos in the trash, most recently trashed first:
// restore one, or delete it for good (confirmed).

const { pageDeps, pagedList } = require('../../utils/page.js');
const { formatDate, thumbView } = require('../../utils/format.js');
const wxp = require('../../utils/wxp.js');

const PAGE_SIZE = 30;

function trashView(p) {
  return Object.assign(thumbView(p), { trashed: formatDate(p.trashed_at) });
}

function createTrashPage(deps) {
  const { api, wx: w } = pageDeps(deps);

  return {
    ...pagedList({ api, wx: w, key: 'photos', path: '/api/photos/trash', limit: PAGE_SIZE, view: trashView }),

    data: {
      photos: [],
      nextCursor: null,
      loading: false,
      loaded: false,
    },

    onShow() {
      return this.refresh();
    },

    // POST /api/photos/{id}/{action} (restore, purge); on success the photo
    // leaves the list and toast says so.
    async act(id, action, toast) {
      try {
        await api.post('/api/photos/' + encodeURIComponent(id) + '/' + action);
        this.setData({ photos: this.data.photos.filter((p) => p.id !== id) });
        w.showToast({ title: toast, icon: 'success' });
      } catch (err) {
        api.showError(err);
      }
    },

    restore(e) {
      return this.act(e.currentTarget.dataset.id, 'restore', 'Restored');
    },

    async purge(e) {
      const id = e.currentTarget.dataset.id;
      const ok = await wxp.confirm(w, 'Delete for good?',
        'The photo and its files are deleted. This cannot be undone.', 'Delete');
      if (!ok) return;
      await this.act(id, 'purge', 'Deleted');
    },
  };
}

module.exports = createTrashPage;
// eslint-disable-next-line no-undef
if (typeof Page === 'function') Page(createTrashPage());
