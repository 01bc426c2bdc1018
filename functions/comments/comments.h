/* comments.h - the comments function: public threads and submission,
 * moderation for the admin. One file per concern:
 *
 *   main.c    route table, configuration (COMMENT_RATE, COMMENT_RATE_WINDOW_S)
 *   public.c  the public thread of an article, and submitting a comment
 *   admin.c   moderation: list by status, approve, spam, delete, admin reply
 *   page.c    what both sides share: keyset cursors, the output shape
 *
 * Every handler follows fn.h: it returns the HTTP status it set in res.
 */
#ifndef COMMENTS_H
#define COMMENTS_H

#include <stdint.h>

#include <libpq-fe.h>

#include "fn.h"

struct arena;

#define COMMENTS_LIMIT_DEFAULT 20
#define COMMENTS_LIMIT_MAX     100

/* Configuration, loaded once by main.c's init. */
struct comments_config {
	long rate;     /* COMMENT_RATE: submissions per client per window */
	long window_s; /* COMMENT_RATE_WINDOW_S */
};
extern struct comments_config g_comments;

/* public.c */
int comments_list(struct req *req, struct res *res);
int comments_submit(struct req *req, struct res *res);

/* admin.c */
int admin_comments_list(struct req *req, struct res *res);
int admin_comments_approve(struct req *req, struct res *res);
int admin_comments_spam(struct req *req, struct res *res);
int admin_comments_delete(struct req *req, struct res *res);
int admin_comments_reply(struct req *req, struct res *res);

/* s without leading and trailing whitespace, ASCII and Unicode spaces
 * (NBSP, U+2000..U+200B, U+3000, BOM...). Arena-owned. (public.c) */
char *comments_trim(struct arena *a, const char *s);

/* page.c */

/* The cursor for a keyset position: payload "<created_at epoch us>,<id>".
 * Arena-owned. */
char *page_cursor(struct arena *a, const char *created_us, const char *id);
/* A cursor back to the two SQL parameters: an exact UTC timestamp literal
 * (*ts) and the id (*id), arena-owned. 0, or -1 when the cursor is malformed
 * or forged. */
int page_cursor_params(struct arena *a, const char *cursor, char **ts, char **id);
/* Fills res with 400 invalid_cursor; returns the status. */
int page_cursor_error(struct res *res);

/* Row i of r as a comment object: every column but the ones named
 * "page_us", "root_id" and any starting with "article_" (callers nest those).
 * Caller owns the result. */
cJSON *page_comment_json(const PGresult *r, int i);

/* Index of column name in r; -1 when absent. */
int page_col(const PGresult *r, const char *name);

#endif
