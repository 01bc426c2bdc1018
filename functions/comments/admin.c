/* admin.c - moderation: the queue by status, approve, mark spam, delete
 * (soft: status 'deleted', kept for the record and for duplicate and rate
 * checks), and the admin's reply shown under a comment.
 *
 * Every handler starts with auth_require_admin. A write naming a comment
 * that does not exist touches no row and answers 404.
 */
#include <inttypes.h>
#include <stdint.h>
#include <string.h>

#include <cJSON.h>

#include "arena.h"
#include "auth.h"
#include "db.h"
#include "json.h"
#include "comments.h"

/* The SQL is defined at the end of the file; handlers name it. */
static const char *const SQL_LIST_FIRST;
static const char *const SQL_LIST_AFTER;
static const char *const SQL_SET_STATUS;
static const char *const SQL_REPLY;
static const char *const SQL_GET;

#define REPLY_MAX_CHARS 5000

static const char *const STATUSES[] = {"pending", "approved", "spam", "deleted"};

/* The comment id of the path as a decimal string, or NULL after a 400. */
static const char *comment_id(struct req *req, struct res *res)
{
	uint64_t id;

	if (req_param_u64(req, res, "id", 1, INT64_MAX, &id))
		return NULL;
	return arena_printf(req->arena, "%" PRIu64, id);
}

/* The comment as the admin sees it after a write, or 404. */
static int comment_answer(struct req *req, struct res *res, const char *id)
{
	PGresult *r = db_query(req->arena, SQL_GET, 1, (const char *const[]){id});

	if (!r)
		return db_fail(res);
	if (PQntuples(r) == 0)
		return res_error(res, 404, "not_found", "no such comment", NULL);
	return res_json(res, 200, page_comment_json(r, 0));
}

/* Sets the status of the path's comment: 0 and *id, or the error status. */
static int set_status(struct req *req, struct res *res, const char *status, const char **id)
{
	const char *params[2];
	long n;

	if (!(params[0] = comment_id(req, res)))
		return res->status;
	params[1] = status;
	n = db_exec(req->arena, SQL_SET_STATUS, 2, params);
	if (n < 0)
		return db_fail(res);
	if (n == 0)
		return res_error(res, 404, "not_found", "no such comment", NULL);
	*id = params[0];
	return 0;
}

/* ---- handlers ---- */

/* The moderation queue, newest first: ?status=pending|approved|spam|deleted
 * (pending), ?limit=1..100 (20), ?cursor=next_cursor. Emails included. */
int admin_comments_list(struct req *req, struct res *res)
{
	struct auth_admin me;
	const char *status = req_query(req, "status");
	const char *cursor = req_query(req, "cursor");
	const char *params[4];
	char *ts = NULL, *cid = NULL;
	cJSON *root, *items;
	PGresult *r;
	uint64_t limit;
	bool known = false;
	int rows, shown, c_id, c_us;

	if (auth_require_admin(req, res, &me))
		return res->status;
	if (!status)
		status = "pending";
	for (size_t i = 0; i < sizeof(STATUSES) / sizeof(STATUSES[0]); i++)
		known = known || strcmp(status, STATUSES[i]) == 0;
	if (!known)
		return res_error(res, 400, "invalid_parameter",
		                 "status must be pending, approved, spam or deleted", "status");
	if (req_query_u64(req, res, "limit", COMMENTS_LIMIT_DEFAULT, 1, COMMENTS_LIMIT_MAX, &limit))
		return res->status;
	if (cursor && page_cursor_params(req->arena, cursor, &ts, &cid))
		return page_cursor_error(res);

	params[0] = status;
	if (cursor) {
		params[1] = ts;
		params[2] = cid;
		params[3] = arena_printf(req->arena, "%" PRIu64, limit + 1);
		r = db_query(req->arena, SQL_LIST_AFTER, 4, params);
	} else {
		params[1] = arena_printf(req->arena, "%" PRIu64, limit + 1);
		r = db_query(req->arena, SQL_LIST_FIRST, 2, params);
	}
	if (!r)
		return db_fail(res);
	rows = PQntuples(r);
	shown = (uint64_t)rows > limit ? (int)limit : rows;
	c_id = page_col(r, "id");
	c_us = page_col(r, "page_us");

	root = cJSON_CreateObject();
	items = cJSON_AddArrayToObject(root, "items");
	for (int i = 0; i < shown; i++)
		cJSON_AddItemToArray(items, page_comment_json(r, i));
	if ((uint64_t)rows > limit)
		cJSON_AddStringToObject(root, "next_cursor",
		                        page_cursor(req->arena, PQgetvalue(r, shown - 1, c_us),
		                                    PQgetvalue(r, shown - 1, c_id)));
	else
		cJSON_AddNullToObject(root, "next_cursor");
	return res_json(res, 200, root);
}

/* Approves a comment: it shows in the public thread. 200 with it. */
int admin_comments_approve(struct req *req, struct res *res)
{
	struct auth_admin me;
	const char *id = NULL;
	int status;

	if (auth_require_admin(req, res, &me))
		return res->status;
	if ((status = set_status(req, res, "approved", &id)) != 0)
		return status;
	return comment_answer(req, res, id);
}

/* Marks a comment as spam: hidden from the public thread. 200 with it. */
int admin_comments_spam(struct req *req, struct res *res)
{
	struct auth_admin me;
	const char *id = NULL;
	int status;

	if (auth_require_admin(req, res, &me))
		return res->status;
	if ((status = set_status(req, res, "spam", &id)) != 0)
		return status;
	return comment_answer(req, res, id);
}

/* Soft-deletes a comment (status 'deleted'). 204. */
int admin_comments_delete(struct req *req, struct res *res)
{
	struct auth_admin me;
	const char *id = NULL;
	int status;

	if (auth_require_admin(req, res, &me))
		return res->status;
	if ((status = set_status(req, res, "deleted", &id)) != 0)
		return status;
	return res_empty(res, 204);
}

/* Sets the admin's reply {reply: 1..5000 characters} and its time; an empty
 * (or whitespace-only) reply, or null, clears both. 200 with the comment. */
int admin_comments_reply(struct req *req, struct res *res)
{
	struct auth_admin me;
	const char *params[2], *reply = NULL;
	const cJSON *body;
	long n;

	if (auth_require_admin(req, res, &me))
		return res->status;
	if (!(params[0] = comment_id(req, res)))
		return res->status;
	if (json_body(req, res, &body))
		return res->status;
	if (!cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(body, "reply"))) {
		if (json_str(res, body, "reply", true, 0, 0, &reply))
			return res->status;
		reply = comments_trim(req->arena, reply);
		n = json_utf8_len(reply);
		if (n > REPLY_MAX_CHARS)
			return res_errorf(res, 422, "validation_failed", "reply",
			                  "reply must be at most %d characters", REPLY_MAX_CHARS);
		if (n == 0)
			reply = NULL;
	}
	params[1] = reply;
	n = db_exec(req->arena, SQL_REPLY, 2, params);
	if (n < 0)
		return db_fail(res);
	if (n == 0)
		return res_error(res, 404, "not_found", "no such comment", NULL);
	return comment_answer(req, res, params[0]);
}

/* ---- SQL ---- */

/* clang-format off */

/* Everything the moderator needs, the article nested by page_comment_json;
 * page_us feeds the cursor and is not sent. */
#define ADMIN_COLUMNS \
	"SELECT c.id, c.parent_id, c.author_name, c.author_email, c.content, c.status," \
	"  c.created_at, c.admin_reply, c.admin_reply_at," \
	"  a.id AS article_id, a.title AS article_title, a.slug AS article_slug," \
	"  (extract(epoch FROM c.created_at) * 1000000)::bigint AS page_us" \
	" FROM comments c JOIN articles a ON a.id = c.article_id"

static const char *const SQL_LIST_FIRST =
	ADMIN_COLUMNS
	" WHERE c.status = $1"
	" ORDER BY c.created_at DESC, c.id DESC"
	" LIMIT $2::int";

static const char *const SQL_LIST_AFTER =
	ADMIN_COLUMNS
	" WHERE c.status = $1 AND (c.created_at, c.id) < ($2::timestamptz, $3::bigint)"
	" ORDER BY c.created_at DESC, c.id DESC"
	" LIMIT $4::int";

static const char *const SQL_GET =
	ADMIN_COLUMNS
	" WHERE c.id = $1::bigint";

static const char *const SQL_SET_STATUS =
	"UPDATE comments SET status = $2 WHERE id = $1::bigint";

/* A NULL reply clears the reply and its time. */
static const char *const SQL_REPLY =
	"UPDATE comments"
	" SET admin_reply = $2,"
	"     admin_reply_at = CASE WHEN $2::text IS NULL THEN NULL ELSE now() END"
	" WHERE id = $1::bigint";
/* clang-format on */
