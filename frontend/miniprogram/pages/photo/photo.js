// pages/photo/photo - one photo: the large image, description, tags, date
// and EXIF; edit the description and the user's tags, move it to another
// album, share it, delete it to the trash (confirmed).

const { pageDeps } = require('../../utils/page.js');
const { parseTags, formatDate, formatBytes } = require('../../utils/format.js');
const wxp = require('../../utils/wxp.js');

function photoView(p) {
  const exif = p.exif || {};
  const gps = exif.gps;
  const tags = p.tags || [];
  return {
    id: p.id,
    albumId: p.album_id,
    image: p.display_url || p.thumb_url || '',
    original: p.original_url || '',
    status: p.status,
    failure: p.failure_reason || '',
    description: p.description || '',
    caption: p.caption || '',
    userTags: tags.filter((t) => t.source === 'user').map((t) => t.tag),
    autoTags: tags.filter((t) => t.source !== 'user').map((t) => t.tag),
    taken: formatDate(p.taken_at),
    uploaded: formatDate(p.created_at),
    dimensions: p.width && p.height ? p.width + ' × ' + p.height : '',
    camera: exif.camera || '',
    gps: gps ? Number(gps.lat).toFixed(5) + ', ' + Number(gps.lon).toFixed(5) : '',
    bytes: formatBytes(p.size_bytes),
    type: p.content_type || '',
  };
}

function createPhotoPage(deps) {
  const { api, wx: w } = pageDeps(deps);

  return {
    data: {
      id: '',
      photo: null,
      description: '',
      tagsText: '',
      albums: [],      // [{id, name}]
      albumNames: [],
      albumIndex: 0,
      saving: false,
    },

    onLoad(options) {
      this.setData({ id: (options && options.id) || '' });
      return this.load();
    },

    onPullDownRefresh() {
      return this.load().then(() => w.stopPullDownRefresh());
    },

    async load() {
      try {
        const [p, list] = await Promise.all([
          api.get('/api/photos/' + encodeURIComponent(this.data.id)),
          api.get('/api/albums', { limit: 100 }),
        ]);
        this.showPhoto(p, list.items || []);
      } catch (e) {
        api.showError(e);
      }
    },

    showPhoto(p, albumItems) {
      const view = photoView(p);
      const albums = albumItems ? albumItems.map((a) => ({ id: a.id, name: a.name })) : this.data.albums;
      const idx = albums.findIndex((a) => a.id === view.albumId);
      this.setData({
        photo: view,
        description: view.description,
        tagsText: view.userTags.join(', '),
        albums,
        albumNames: albums.map((a) => a.name),
        albumIndex: idx < 0 ? 0 : idx,
      });
    },

    onDescription(e) {
      this.setData({ description: e.detail.value });
    },

    onTags(e) {
      this.setData({ tagsText: e.detail.value });
    },

    // Saves the description and the user's tags (auto tags stay).
    async save() {
      if (this.data.saving) return;
      const t = parseTags(this.data.tagsText);
      if (!t.ok) {
        api.showError(t);
        return;
      }
      this.setData({ saving: true });
      try {
        const p = await api.put('/api/photos/' + encodeURIComponent(this.data.id),
          { description: this.data.description, tags: t.tags });
        this.showPhoto(p, null);
        w.showToast({ title: 'Saved', icon: 'success' });
      } catch (e) {
        api.showError(e);
      } finally {
        this.setData({ saving: false });
      }
    },

    // The album picker: moves the photo there.
    async onMove(e) {
      const index = Number(e.detail.value);
      const target = this.data.albums[index];
      if (!target || !this.data.photo || target.id === this.data.photo.albumId) return;
      try {
        const p = await api.put('/api/photos/' + encodeURIComponent(this.data.id), { album_id: target.id });
        this.showPhoto(p, null);
        w.showToast({ title: 'Moved', icon: 'success' });
      } catch (err) {
        api.showError(err);
        this.setData({ albumIndex: this.data.albums.findIndex((a) => a.id === this.data.photo.albumId) });
      }
    },

    async deletePhoto() {
      const ok = await wxp.confirm(w, 'Move to trash?',
        'The photo goes to the trash. You can restore it from there.', 'Delete');
      if (!ok) return;
      try {
        await api.del('/api/photos/' + encodeURIComponent(this.data.id));
        w.showToast({ title: 'Moved to trash', icon: 'success' });
        w.navigateBack();
      } catch (e) {
        api.showError(e);
      }
    },

    preview() {
      const p = this.data.photo;
      if (!p || !p.image) return;
      w.previewImage({ urls: [p.original || p.image], current: p.original || p.image });
    },

    share() {
      w.navigateTo({ url: '/pages/share/share?photo_id=' + encodeURIComponent(this.data.id) });
    },
  };
}

module.exports = createPhotoPage;
// eslint-disable-next-line no-undef
if (typeof Page === 'function') Page(createPhotoPage());
