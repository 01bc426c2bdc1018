/* wechat.h - the WeChat mini-program half of the auth function (wechat.c):
 *
 *   POST /api/auth/wechat         {code} -> jscode2session -> token
 *   POST /api/auth/wechat/logout  revokes the bearer's session (204)
 *   POST /api/auth/dev            {openid} -> token; routed only when
 *                                 WECHAT_DEV_LOGIN is on (else 404)
 */
#ifndef AUTH_WECHAT_H
#define AUTH_WECHAT_H

#include <stdbool.h>
#include <stddef.h>

#include "fn.h"

/* Reads the WECHAT_* variables; 0, or -1 with the bad variable named in err. */
int wechat_init(char *err, size_t errlen);
/* WECHAT_DEV_LOGIN, as loaded by wechat_init(). */
bool wechat_dev_login_enabled(void);

int wechat_login(struct req *req, struct res *res);
int wechat_logout(struct req *req, struct res *res);
int wechat_dev_login(struct req *req, struct res *res);

#endif
