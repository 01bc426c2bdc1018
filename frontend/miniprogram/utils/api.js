// utils/api.js - the album API client.
//
// Every call but the login goes out with `Authorization: Bearer <token>`.
// The token comes from POST /api/auth/wechat {code} (code from wx.login)
// and is kept with wx.setStorageSync, so it survives restarts and is reused
// until the server refuses it. A 401 clears it, signs in again and retries
// the request once; a second 401 is an error like any other.
//
// Failures reject with an ApiError {status, code, message, field}: the
// server's error JSON ({"error":{code,message,field}}) when there is one,
// status 0 / code "network_error" when the request never got an answer.
// showError() puts the message in front of the user.
//
// createApi({wx, baseUrl, devOpenid}) makes a client (tests pass a fake wx);
// getApi() is the app's shared one, over the global wx and config.js.

const config = require('../config.js');

const TOKEN_KEY = 'album_token';
const USER_KEY = 'album_user';
const REQUEST_TIMEOUT_MS = 20000;
// Longer messages go in a modal: a toast shows about two lines.
const TOAST_MAX_CHARS = 36;

class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.field = field || null;
  }
}

// The ApiError for a non-2xx answer: the server's error JSON when present.
function errorFromResponse(res) {
  const body = res.data;
  const e = body && typeof body === 'object' ? body.error : null;
  if (e && typeof e.message === 'string' && e.message !== '') {
    return new ApiError(res.statusCode, e.code || 'error', e.message, e.field);
  }
  return new ApiError(res.statusCode, 'http_' + res.statusCode,
    'The server answered ' + res.statusCode + '. Please try again.');
}

function networkError(errMsg) {
  return new ApiError(0, 'network_error',
    'Network error: could not reach the server. Check your connection and try again.' +
    (errMsg ? ' (' + errMsg + ')' : ''));
}

// "?a=1&b=x" from the defined, non-empty values of query ("" when none).
function queryString(query) {
  if (!query) return '';
  const parts = [];
  Object.keys(query).forEach((k) => {
    const v = query[k];
    if (v === undefined || v === null || v === '') return;
    parts.push(encodeURIComponent(k) + '=' + encodeURIComponent(String(v)));
  });
  return parts.length ? '?' + parts.join('&') : '';
}

function createApi(options) {
  const opts = options || {};
  // eslint-disable-next-line no-undef
  const w = opts.wx || (typeof wx !== 'undefined' ? wx : null);
  if (!w) throw new Error('createApi: no wx object');
  const baseUrl = String(opts.baseUrl || config.baseUrl).replace(/\/+$/, '');
  const devOpenid = 'devOpenid' in opts ? opts.devOpenid : config.devOpenid;
  let loginInFlight = null;

  function url(path) {
    return baseUrl + path;
  }

  // One wx.request: resolves with {statusCode, data, header} whatever the
  // status; rejects with a network ApiError when there was no answer.
  function send(method, fullUrl, data, header) {
    return new Promise((resolve, reject) => {
      w.request({
        url: fullUrl,
        method,
        data,
        header,
        dataType: 'json',
        timeout: REQUEST_TIMEOUT_MS,
        success: (res) => resolve(res),
        fail: (err) => reject(networkError(err && err.errMsg)),
      });
    });
  }

  function getToken() {
    const t = w.getStorageSync(TOKEN_KEY);
    return typeof t === 'string' && t !== '' ? t : null;
  }

  function clearToken() {
    w.removeStorageSync(TOKEN_KEY);
  }

  function wxLoginCode() {
    return new Promise((resolve, reject) => {
      w.login({
        success: (r) => {
          if (r && r.code) resolve(r.code);
          else reject(new ApiError(0, 'login_failed', 'WeChat login gave no code. Please try again.'));
        },
        fail: (err) => reject(new ApiError(0, 'login_failed',
          'WeChat login failed' + (err && err.errMsg ? ': ' + err.errMsg : '') + '. Please try again.')),
      });
    });
  }

  async function doLogin() {
    let res;
    if (devOpenid) {
      res = await send('POST', url('/api/auth/dev'), { openid: String(devOpenid) },
        { 'Content-Type': 'application/json' });
    } else {
      const code = await wxLoginCode();
      res = await send('POST', url('/api/auth/wechat'), { code },
        { 'Content-Type': 'application/json' });
    }
    if (res.statusCode !== 200) throw errorFromResponse(res);
    const token = res.data && res.data.token;
    if (typeof token !== 'string' || token === '') {
      throw new ApiError(res.statusCode, 'login_failed', 'The server sent no token. Please try again.');
    }
    w.setStorageSync(TOKEN_KEY, token);
    if (res.data.user) w.setStorageSync(USER_KEY, res.data.user);
    return token;
  }

  // Signs in (one sign-in at a time: concurrent callers share it).
  function login() {
    if (!loginInFlight) {
      loginInFlight = doLogin().then(
        (t) => { loginInFlight = null; return t; },
        (e) => { loginInFlight = null; throw e; });
    }
    return loginInFlight;
  }

  // The stored token, or a new one from a sign-in.
  function ensureToken() {
    const t = getToken();
    return t ? Promise.resolve(t) : login();
  }

  // method path -> the answer's JSON (null for 204). opts: query (object),
  // data (JSON body), auth (default true).
  async function request(method, path, reqOpts) {
    const o = reqOpts || {};
    const auth = o.auth !== false;
    const fullUrl = url(path) + queryString(o.query);
    for (let attempt = 0; ; attempt++) {
      const header = {};
      let token = null;
      if (o.data !== undefined) header['Content-Type'] = 'application/json';
      if (auth) {
        token = await ensureToken();
        header.Authorization = 'Bearer ' + token;
      }
      const res = await send(method, fullUrl, o.data, header);
      if (res.statusCode === 401 && auth) {
        // Only drop the token this request used: a concurrent request may
        // already have stored a fresh one.
        if (getToken() === token) clearToken();
        if (attempt === 0) continue;
      }
      if (res.statusCode >= 200 && res.statusCode < 300) {
        return res.data === '' || res.data === undefined ? null : res.data;
      }
      throw errorFromResponse(res);
    }
  }

  // POST /api/auth/wechat/logout, then forget the token either way.
  async function logout() {
    const token = getToken();
    clearToken();
    w.removeStorageSync(USER_KEY);
    if (!token) return;
    try {
      await send('POST', url('/api/auth/wechat/logout'), undefined,
        { Authorization: 'Bearer ' + token });
    } catch (e) {
      // Offline: the session expires on its own.
    }
  }

  // Shows err's message to the user (toast, or a modal when long).
  function showError(err) {
    const message = (err && err.message) || 'Something went wrong. Please try again.';
    if (message.length <= TOAST_MAX_CHARS) {
      w.showToast({ title: message, icon: 'none', duration: 3000 });
    } else {
      w.showModal({ title: 'Error', content: message, showCancel: false });
    }
  }

  return {
    baseUrl,
    url,
    request,
    get: (path, query) => request('GET', path, { query }),
    post: (path, data) => request('POST', path, { data }),
    put: (path, data) => request('PUT', path, { data }),
    del: (path) => request('DELETE', path),
    login,
    logout,
    ensureToken,
    getToken,
    clearToken,
    showError,
  };
}

let shared = null;

// The app's client (global wx, config.js), made on first use.
function getApi() {
  if (!shared) shared = createApi();
  return shared;
}

module.exports = { createApi, getApi, ApiError, queryString, TOKEN_KEY };
