// config.js - the one place that says where the album API lives.
//
// baseUrl: the gateway (`make run` prints it; http://127.0.0.1:8080 by
// default). The developer tools reach 127.0.0.1; a phone needs the
// machine's LAN address here (and GATEWAY_PUBLIC_URL on the server, so the
// photo URLs it signs point there too). A released mini-program needs an
// https:// domain listed among the app's request domains.
//
// devOpenid: leave null to sign in with wx.login -> POST /api/auth/wechat
// (needs WECHAT_APPID / WECHAT_SECRET on the server). Set it to any string
// to sign in with POST /api/auth/dev {openid} instead, which works only when
// the server runs with WECHAT_DEV_LOGIN=1 (development, never production).
module.exports = {
  baseUrl: 'http://127.0.0.1:8080',
  devOpenid: null,
};
