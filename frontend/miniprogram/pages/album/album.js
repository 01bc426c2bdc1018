// pages/album/album - one album: a photo grid (thumbnails, more on scroll
// with the API's cursor), uploads of several photos with per-file progress
// and retry, and the share link.

const { pageDeps, pagedList } = require('../../utils/page.js');
const { thumbView } = require('../../utils/format.js');
const { createUploadQueue } = require('../../utils/upload.js');
const wxp = require('../../utils/wxp.js');

const PAGE_SIZE = 30;
const PICK_MAX = 9;

function createAlbumPage(deps) {
  const { api, wx: w } = pageDeps(deps);

  return {
    ...pagedList({
      api, wx: w, key: 'photos', limit: PAGE_SIZE, view: thumbView,
      path: (page) => '/api/albums/' + encodeURIComponent(page.data.albumId) + '/photos',
    }),

    data: {
      albumId: '',
      name: '',
      photos: [],
      nextCursor: null,
      loading: false,
      loaded: false,
      uploads: [],
      uploadSummary: '',
      uploadBusy: false,
    },

    onLoad(options) {
      const o = options || {};
      const name = o.name ? decodeURIComponent(o.name) : '';
      this.setData({ albumId: o.id || '', name });
      if (name) w.setNavigationBarTitle({ title: name });
      this.queue = createUploadQueue({
        api,
        wx: w,
        albumId: o.id,
        onChange: (v) => this.setData({ uploads: v.items, uploadSummary: v.summary, uploadBusy: v.busy }),
      });
      return this.refresh();
    },

    // Back from the viewer (a photo may have moved or gone): reload.
    onShow() {
      if (!this.shownOnce) {
        this.shownOnce = true;
        return Promise.resolve();
      }
      return this.refresh();
    },

    openPhoto(e) {
      w.navigateTo({ url: '/pages/photo/photo?id=' + encodeURIComponent(e.currentTarget.dataset.id) });
    },

    // Picks photos and uploads them one after another; then reloads.
    async chooseUpload() {
      let files;
      try {
        files = await wxp.chooseImages(w, PICK_MAX);
      } catch (e) {
        api.showError(e);
        return;
      }
      if (!files.length) return;
      this.queue.add(files);
      await this.queue.run();
      await this.afterUploads();
    },

    async retryUpload(e) {
      await this.queue.retry(Number(e.currentTarget.dataset.index));
      await this.afterUploads();
    },

    clearUploads() {
      this.queue.clearDone();
    },

    async afterUploads() {
      const v = this.queue.view();
      if (v.failed) {
        w.showToast({ title: v.failed + ' upload(s) failed', icon: 'none' });
      } else if (v.total) {
        w.showToast({ title: 'Uploaded', icon: 'success' });
      }
      await this.refresh();
    },

    shareAlbum() {
      w.navigateTo({
        url: '/pages/share/share?album_id=' + encodeURIComponent(this.data.albumId) +
          '&name=' + encodeURIComponent(this.data.name),
      });
    },
  };
}

module.exports = createAlbumPage;
// eslint-disable-next-line no-undef
if (typeof Page === 'function') Page(createAlbumPage());
