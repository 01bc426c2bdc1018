// test/fake-wx.js - a scripted stand-in for the mini-program's `wx` object,
// and a tiny Page host, for node --test.
//
//   const fx = createFakeWx();
//   fx.respond('GET', '/api/albums', { status: 200, data: {...} });   // then repeats
//   fx.respond('POST', '/api/albums', { status: 401 }, { status: 201, data: {...} }); // in order
//   fx.respond('PUT', /^\/storage\//, { fail: 'request:fail timeout' });   // network failure
//   fx.loginCodes.push('code-1');          // what wx.login hands out next
//   fx.modalAnswers.push(true);            // the next showModal's answer (default: cancel)
//   fx.files['wxfile://a.jpg'] = new ArrayBuffer(3);
//   fx.chooseResult = { tempFiles: [...] };
//
// Every call is recorded in fx.calls ({api, args}); requests also in
// fx.requests ({method, url, path, query, data, header}). A request nobody
// scripted gets a 500 and is listed in fx.unmatched. Answers arrive
// asynchronously, as in WeChat.

function later(fn) {
  setImmediate(fn);
}

function createFakeWx(options) {
  const opts = options || {};
  const fx = {
    calls: [],
    requests: [],
    unmatched: [],
    storage: new Map(Object.entries(opts.storage || {})),
    loginCodes: [],
    modalAnswers: [],
    files: {},
    chooseResult: { tempFiles: [] },
    // false: request tasks have no onProgressUpdate (the documented API).
    taskProgress: opts.taskProgress !== false,
    routes: [],
  };

  function record(api, args) {
    fx.calls.push({ api, args });
  }

  fx.callsOf = (api) => fx.calls.filter((c) => c.api === api).map((c) => c.args);
  fx.requestsTo = (method, path) => fx.requests.filter((r) => r.method === method &&
    (path instanceof RegExp ? path.test(r.path) : r.path === path));

  // Scripts answers for method + path (a string or RegExp on the pathname):
  // used in order, the last one repeating. An answer is {status, data,
  // header, progress: [percent...]}, {fail: errMsg}, or a function (request)
  // returning one.
  fx.respond = (method, path, ...answers) => {
    fx.routes.unshift({ method, path, answers, used: 0 });
  };

  function answerFor(req) {
    const route = fx.routes.find((r) => r.method === req.method &&
      (r.path instanceof RegExp ? r.path.test(req.path) : r.path === req.path));
    if (!route) return null;
    const i = Math.min(route.used, route.answers.length - 1);
    route.used++;
    const a = route.answers[i];
    return typeof a === 'function' ? a(req) : a;
  }

  const wx = {
    request(o) {
      record('request', o);
      const u = new URL(o.url);
      const req = {
        method: o.method || 'GET',
        url: o.url,
        path: u.pathname,
        query: Object.fromEntries(u.searchParams),
        data: o.data,
        header: o.header || {},
      };
      fx.requests.push(req);
      let answer = answerFor(req);
      if (!answer) {
        fx.unmatched.push(req.method + ' ' + req.path);
        answer = { status: 500, data: { error: { code: 'unscripted', message: 'unscripted ' + req.method + ' ' + req.path } } };
      }
      const listeners = [];
      later(() => {
        (answer.progress || []).forEach((p) => listeners.forEach((fn) => fn({
          progress: p, totalBytesSent: p, totalBytesExpectedToSend: 100,
        })));
        if (answer.fail) {
          if (o.fail) o.fail({ errMsg: answer.fail });
        } else if (o.success) {
          o.success({
            statusCode: answer.status,
            data: answer.data === undefined ? '' : answer.data,
            header: answer.header || {},
          });
        }
        if (o.complete) o.complete({});
      });
      const task = { abort() {} };
      if (fx.taskProgress) task.onProgressUpdate = (fn) => listeners.push(fn);
      return task;
    },

    login(o) {
      record('login', o);
      const next = fx.loginCodes.length ? fx.loginCodes.shift() : 'code-' + fx.callsOf('login').length;
      later(() => {
        if (next && typeof next === 'object' && next.fail) o.fail && o.fail({ errMsg: next.fail });
        else o.success && o.success({ code: next, errMsg: 'login:ok' });
      });
    },

    getStorageSync(key) {
      record('getStorageSync', key);
      return fx.storage.has(key) ? fx.storage.get(key) : '';
    },
    setStorageSync(key, value) {
      record('setStorageSync', { key, value });
      fx.storage.set(key, value);
    },
    removeStorageSync(key) {
      record('removeStorageSync', key);
      fx.storage.delete(key);
    },

    showModal(o) {
      record('showModal', o);
      const confirm = fx.modalAnswers.length ? fx.modalAnswers.shift() : false;
      later(() => o.success && o.success({ confirm, cancel: !confirm }));
    },
    showToast(o) { record('showToast', o); },
    showLoading(o) { record('showLoading', o); },
    hideLoading(o) { record('hideLoading', o); },
    stopPullDownRefresh(o) { record('stopPullDownRefresh', o); },
    setNavigationBarTitle(o) { record('setNavigationBarTitle', o); },
    navigateTo(o) { record('navigateTo', o); },
    navigateBack(o) { record('navigateBack', o); },
    switchTab(o) { record('switchTab', o); },
    previewImage(o) { record('previewImage', o); },

    setClipboardData(o) {
      record('setClipboardData', o);
      fx.clipboard = o.data;
      later(() => o.success && o.success({}));
    },

    chooseMedia(o) {
      record('chooseMedia', o);
      const r = fx.chooseResult;
      later(() => {
        if (r && r.fail) o.fail && o.fail({ errMsg: r.fail });
        else o.success && o.success(r);
      });
    },

    getFileSystemManager() {
      return {
        readFile(o) {
          record('readFile', o);
          const f = fx.files[o.filePath];
          later(() => {
            if (f === undefined) o.fail && o.fail({ errMsg: 'readFile:fail no such file ' + o.filePath });
            else o.success && o.success({ data: f });
          });
        },
      };
    },
  };

  fx.wx = wx;
  return fx;
}

// Sets key (a setData path: "a.b", "list[2].status") in obj to value.
function setPath(obj, key, value) {
  const parts = key.replace(/\[(\d+)\]/g, '.$1').split('.');
  let o = obj;
  for (let i = 0; i < parts.length - 1; i++) {
    if (o[parts[i]] === undefined || o[parts[i]] === null) o[parts[i]] = /^\d+$/.test(parts[i + 1]) ? [] : {};
    o = o[parts[i]];
  }
  o[parts[parts.length - 1]] = value;
}

// A page instance from a Page() definition: its own copy of data, a
// setData that applies paths, and history (a copy of data after each
// setData).
function mountPage(def) {
  const page = {};
  Object.keys(def).forEach((k) => {
    if (k !== 'data') page[k] = def[k];
  });
  page.data = JSON.parse(JSON.stringify(def.data || {}));
  page.history = [];
  page.setData = function setData(patch, cb) {
    Object.keys(patch).forEach((k) => setPath(page.data, k, patch[k]));
    page.history.push(JSON.parse(JSON.stringify(page.data)));
    if (cb) cb();
  };
  return page;
}

// A tap event carrying dataset (and detail).
function tap(dataset, detail) {
  return { currentTarget: { dataset: dataset || {} }, target: { dataset: dataset || {} }, detail: detail || {} };
}

// Resolves after pending fake answers (setImmediate) and promise chains ran.
async function settle(rounds) {
  for (let i = 0; i < (rounds || 20); i++) await new Promise((r) => setImmediate(r));
}

module.exports = { createFakeWx, mountPage, tap, settle, setPath };
