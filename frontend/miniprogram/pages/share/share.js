// pages/share/share - share links for an album (?album_id=) or a photo
// (?photo_id=): create one (optional expiry and password), show and copy
// it, and revoke the ones made before. The server shows a link's token
// only once, when it is made.

const { pageDeps } = require('../../utils/page.js');
const { formatDate } = require('../../utils/format.js');
const wxp = require('../../utils/wxp.js');

const EXPIRY = [
  { label: 'Never expires', seconds: 0 },
  { label: '1 day', seconds: 86400 },
  { label: '7 days', seconds: 7 * 86400 },
  { label: '30 days', seconds: 30 * 86400 },
];
const PASSWORD_MIN = 4;
const PASSWORD_MAX = 128;

function shareView(s) {
  return {
    id: s.id,
    created: formatDate(s.created_at),
    expires: s.expires_at ? formatDate(s.expires_at) : '',
    hasPassword: !!s.has_password,
    revoked: !!s.revoked_at,
  };
}

function createSharePage(deps) {
  const { api, wx: w } = pageDeps(deps);

  return {
    data: {
      albumId: '',
      photoId: '',
      name: '',
      expiryLabels: EXPIRY.map((x) => x.label),
      expiryIndex: 0,
      password: '',
      link: '',
      creating: false,
      shares: [],
    },

    onLoad(options) {
      const o = options || {};
      this.setData({
        albumId: o.album_id || '',
        photoId: o.photo_id || '',
        name: o.name ? decodeURIComponent(o.name) : '',
      });
      return this.loadShares();
    },

    // The links of this album or photo (GET /api/shares lists them all).
    async loadShares() {
      try {
        const r = await api.get('/api/shares', { limit: 100 });
        const mine = (r.shares || []).filter((s) => (this.data.albumId
          ? s.album_id === this.data.albumId : s.photo_id === this.data.photoId));
        this.setData({ shares: mine.map(shareView) });
      } catch (e) {
        api.showError(e);
      }
    },

    onExpiry(e) {
      this.setData({ expiryIndex: Number(e.detail.value) });
    },

    onPassword(e) {
      this.setData({ password: e.detail.value });
    },

    async create() {
      if (this.data.creating) return;
      const password = this.data.password;
      if (password !== '' && (password.length < PASSWORD_MIN || password.length > PASSWORD_MAX)) {
        api.showError({ message: 'The password needs ' + PASSWORD_MIN + ' to ' + PASSWORD_MAX + ' characters.' });
        return;
      }
      const body = this.data.albumId ? { album_id: this.data.albumId } : { photo_id: this.data.photoId };
      const seconds = EXPIRY[this.data.expiryIndex].seconds;
      if (seconds) body.expires_in_s = seconds;
      if (password) body.password = password;
      this.setData({ creating: true });
      try {
        const r = await api.post('/api/shares', body);
        // The API answers with its path; the link needs the full URL.
        this.setData({ link: /^https?:/.test(r.url) ? r.url : api.url(r.url), password: '' });
        await this.loadShares();
      } catch (e) {
        api.showError(e);
      } finally {
        this.setData({ creating: false });
      }
    },

    async copyLink() {
      if (!this.data.link) return;
      try {
        await wxp.copy(w, this.data.link);
      } catch (e) {
        api.showError(e);
      }
    },

    async revoke(e) {
      const id = e.currentTarget.dataset.id;
      const ok = await wxp.confirm(w, 'Revoke link?', 'People with this link will no longer see it.', 'Revoke');
      if (!ok) return;
      try {
        await api.del('/api/shares/' + encodeURIComponent(id));
        await this.loadShares();
        w.showToast({ title: 'Revoked', icon: 'success' });
      } catch (err) {
        api.showError(err);
      }
    },
  };
}

module.exports = createSharePage;
// eslint-disable-next-line no-undef
if (typeof Page === 'function') Page(createSharePage());
