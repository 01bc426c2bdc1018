// pages/albums/albums - the user's albums: cover, photo count; create,
// edit (name, description), delete (confirmed), share; pull down to
// refresh, scroll for more. The page object comes from createAlbumsPage so
// tests can build one with a fake wx and API client.

const { pageDeps, pagedList } = require('../../utils/page.js');
const { validateAlbum, formatDate } = require('../../utils/format.js');
const wxp = require('../../utils/wxp.js');

const PAGE_SIZE = 20;

function albumView(a) {
  return {
    id: a.id,
    name: a.name,
    description: a.description || '',
    count: a.photo_count || 0,
    cover: (a.cover && a.cover.thumb_url) || '',
    updated: formatDate(a.updated_at),
  };
}

function createAlbumsPage(deps) {
  const { api, wx: w } = pageDeps(deps);

  return {
    ...pagedList({ api, wx: w, key: 'albums', path: '/api/albums', limit: PAGE_SIZE, view: albumView }),

    data: {
      albums: [],
      nextCursor: null,
      loading: false,
      loaded: false,
      form: null, // {mode: 'create'|'edit', id, name, description, error, field, saving}
    },

    onShow() {
      return this.refresh();
    },

    openAlbum(e) {
      const { id, name } = e.currentTarget.dataset;
      w.navigateTo({
        url: '/pages/album/album?id=' + encodeURIComponent(id) + '&name=' + encodeURIComponent(name || ''),
      });
    },

    showCreate() {
      this.setData({
        form: { mode: 'create', id: '', name: '', description: '', error: '', field: '', saving: false },
      });
    },

    showEdit(e) {
      const a = this.data.albums.find((x) => x.id === e.currentTarget.dataset.id);
      if (!a) return;
      this.setData({
        form: {
          mode: 'edit', id: a.id, name: a.name, description: a.description,
          error: '', field: '', saving: false,
        },
      });
    },

    onFormName(e) {
      this.setData({ 'form.name': e.detail.value });
    },

    onFormDescription(e) {
      this.setData({ 'form.description': e.detail.value });
    },

    cancelForm() {
      this.setData({ form: null });
    },

    // Creates or updates the album in the form; errors stay in the form.
    async saveForm() {
      const f = this.data.form;
      if (!f || f.saving) return;
      const v = validateAlbum(f);
      if (!v.ok) {
        this.setData({ 'form.error': v.message, 'form.field': v.field });
        return;
      }
      this.setData({ 'form.saving': true, 'form.error': '', 'form.field': '' });
      try {
        if (f.mode === 'create') {
          const a = await api.post('/api/albums', v.value);
          this.setData({ albums: [albumView(a)].concat(this.data.albums), form: null });
          w.showToast({ title: 'Album created', icon: 'success' });
        } else {
          const a = await api.put('/api/albums/' + encodeURIComponent(f.id), v.value);
          this.setData({
            albums: this.data.albums.map((x) => (x.id === a.id ? albumView(a) : x)),
            form: null,
          });
          w.showToast({ title: 'Saved', icon: 'success' });
        }
      } catch (e) {
        this.setData({ 'form.saving': false, 'form.error': e.message, 'form.field': e.field || '' });
      }
    },

    async deleteAlbum(e) {
      const a = this.data.albums.find((x) => x.id === e.currentTarget.dataset.id);
      if (!a) return;
      const ok = await wxp.confirm(w, 'Delete album?',
        '"' + a.name + '" and its ' + a.count + ' photo(s) will be deleted for good.', 'Delete');
      if (!ok) return;
      try {
        await api.del('/api/albums/' + encodeURIComponent(a.id));
        this.setData({ albums: this.data.albums.filter((x) => x.id !== a.id) });
        w.showToast({ title: 'Deleted', icon: 'success' });
      } catch (err) {
        api.showError(err);
      }
    },

    shareAlbum(e) {
      const { id, name } = e.currentTarget.dataset;
      w.navigateTo({
        url: '/pages/share/share?album_id=' + encodeURIComponent(id) + '&name=' + encodeURIComponent(name || ''),
      });
    },
  };
}

module.exports = createAlbumsPage;
// eslint-disable-next-line no-undef
if (typeof Page === 'function') Page(createAlbumsPage());
