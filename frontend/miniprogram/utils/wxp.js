// utils/wxp.js - the few callback-style wx APIs the pages wait on, as
// promises. Each takes the wx object to use (the global one in the app, a
// fake in tests).

// wx.showModal: resolves true when the user confirmed, false otherwise.
function confirm(w, title, content, confirmText) {
  return new Promise((resolve) => {
    w.showModal({
      title,
      content,
      confirmText: confirmText || 'OK',
      confirmColor: '#e64340',
      success: (r) => resolve(!!(r && r.confirm)),
      fail: () => resolve(false),
    });
  });
}

// wx.chooseMedia for images: resolves with tempFiles ([] when cancelled).
function chooseImages(w, count) {
  return new Promise((resolve, reject) => {
    w.chooseMedia({
      count,
      mediaType: ['image'],
      sourceType: ['album', 'camera'],
      sizeType: ['original', 'compressed'],
      success: (r) => resolve((r && r.tempFiles) || []),
      fail: (err) => {
        const msg = (err && err.errMsg) || '';
        if (/cancel/i.test(msg)) resolve([]);
        else reject(new Error('Could not pick photos: ' + msg));
      },
    });
  });
}

// The file at path as an ArrayBuffer.
function readFile(w, path) {
  return new Promise((resolve, reject) => {
    w.getFileSystemManager().readFile({
      filePath: path,
      success: (r) => resolve(r.data),
      fail: (err) => reject(new Error('Could not read the photo: ' +
        ((err && err.errMsg) || path))),
    });
  });
}

// wx.setClipboardData.
function copy(w, text) {
  return new Promise((resolve, reject) => {
    w.setClipboardData({
      data: text,
      success: () => resolve(),
      fail: (err) => reject(new Error('Could not copy: ' + ((err && err.errMsg) || ''))),
    });
  });
}

module.exports = { confirm, chooseImages, readFile, copy };
