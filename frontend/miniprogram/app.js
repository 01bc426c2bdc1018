// app.js - the mini-program: signs in at launch (the stored token is
// reused; utils/api.js signs in again whenever the server asks), so the
// first page's requests do not each wait for a login.

const { getApi } = require('./utils/api.js');

App({
  onLaunch() {
    const api = getApi();
    api.ensureToken().catch((e) => api.showError(e));
  },
});
