/* public.c - the public side: an article's approved thread, and submitting
 * a comment for moderation.
 *
 * Comments are plain text. They are stored as written (trimmed) and returned
 * as JSON strings, never as HTML: whatever markup they hold stays inert, and
 * escaping for HTML is the page's job when it shows them. The author's email,
 * the client hash and the content hash never leave the server here.
 *
 * Submission rules, in order:
 *   1. the article must be public (published, or scheduled and due): else 404;
 *   2. honeypot: a non-empty "website" field gets the same 201 answer a
 *      real submission gets, and nothing is stored;
 *   3. fields: author_name 1..80, optional author_email (one '@', no spaces
 *      or controls, at most 254 bytes, a dot inside the domain), content
 *      1..5000 characters after trimming, optional parent_id naming an
 *      approved comment of the same article: else 422 naming the field;
 *   4. rate limit: at most COMMENT_RATE submissions per client per
 *      COMMENT_RATE_WINDOW_S seconds, whatever became of them: else 429
 *      with Retry-After (the seconds until the oldest counted one expires);
 *   5. duplicates: the same normalised content (ASCII lower-cased, runs of
 *      whitespace collapsed) on the same article from the same client
 *      within 24 hours: else 409 duplicate. Two different people may both
 *      write "Thanks!", so the check is per client, not global.
 * Steps 4 and 5 and the insert run in one transaction under an advisory lock
 * per client, so parallel requests cannot slip past the limit together.
 *
 * The client is req_client_ip() (the platform's address for it, never a
 * header the client writes), stored only as hex HMAC-SHA256(APP_SECRET,
 * address).
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cJSON.h>

#include "arena.h"
#include "config.h"
#include "crypto.h"
#include "db.h"
#include "json.h"
#include "kv.h"
#include "comments.h"

/* The SQL is defined at the end of the file; handlers name it. */
static const char *const SQL_ARTICLE_PUBLIC;
static const char *const SQL_ROOTS_FIRST;
static const char *const SQL_ROOTS_AFTER;
static const char *const SQL_REPLIES;
static const char *const SQL_TOTAL;
static const char *const SQL_PARENT_OK;
static const char *const SQL_CLIENT_LOCK;
static const char *const SQL_RATE;
static const char *const SQL_DUPLICATE;
static const char *const SQL_INSERT;
static const char *const SQL_NEXT_ID;

#define NAME_MAX_CHARS    80
#define EMAIL_MAX_BYTES   254
#define CONTENT_MAX_CHARS 5000
/* Longest forwarded address considered (IPv6 with zone fits easily). */

/* ---- text helpers ---- */

/* Byte length of the whitespace character at s (ASCII and the Unicode
 * spaces people paste: NBSP, the U+2000 block, ideographic space, BOM and
 * zero-width space), 0 when s is not whitespace. */
static size_t ws_len(const unsigned char *s)
{
	if (*s == ' ' || (*s >= '\t' && *s <= '\r'))
		return 1;
	if (s[0] == 0xc2 && s[1] == 0xa0) /* U+00A0 */
		return 2;
	if (s[0] == 0xe1 && s[1] == 0x9a && s[2] == 0x80) /* U+1680 */
		return 3;
	if (s[0] == 0xe2 && s[1] == 0x80 &&
	    ((s[2] >= 0x80 && s[2] <= 0x8b) || s[2] == 0xa8 || s[2] == 0xa9 || s[2] == 0xaf))
		return 3; /* U+2000..U+200B, U+2028, U+2029, U+202F */
	if (s[0] == 0xe2 && s[1] == 0x81 && s[2] == 0x9f) /* U+205F */
		return 3;
	if (s[0] == 0xe3 && s[1] == 0x80 && s[2] == 0x80) /* U+3000 */
		return 3;
	if (s[0] == 0xef && s[1] == 0xbb && s[2] == 0xbf) /* U+FEFF */
		return 3;
	return 0;
}

/* s without leading and trailing whitespace (arena copy). */
char *comments_trim(struct arena *a, const char *s)
{
	const unsigned char *p = (const unsigned char *)s, *end;
	size_t n;

	while ((n = ws_len(p)) > 0)
		p += n;
	end = p;
	for (const unsigned char *q = p; *q;) {
		n = ws_len(q);
		if (n == 0) {
			q++;
			end = q;
		} else {
			q += n;
		}
	}
	return arena_strndup(a, (const char *)p, (size_t)(end - p));
}

/* Hex sha256 of the normalised (trimmed) content: ASCII lower-cased, each
 * run of whitespace one space. */
static char *content_hash(struct arena *a, const char *s)
{
	size_t len = strlen(s), o = 0, n;
	unsigned char *buf = arena_alloc(a, len + 1);
	unsigned char sum[32];
	bool in_ws = false;

	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		n = ws_len(p);
		if (n > 0) {
			p += n;
			in_ws = true;
			continue;
		}
		if (in_ws && o > 0)
			buf[o++] = ' ';
		in_ws = false;
		buf[o++] = (*p >= 'A' && *p <= 'Z') ? (unsigned char)(*p + ('a' - 'A')) : *p;
		p++;
	}
	crypto_sha256(buf, o, sum);
	return crypto_hex(a, sum, sizeof(sum));
}

/* One '@' with text on both sides, no whitespace or control characters,
 * at most 254 bytes, and a dot inside the domain (not first or last). */
static bool email_ok(const char *s)
{
	size_t len = strlen(s);
	const char *at = strchr(s, '@'), *dom, *dot;

	if (len == 0 || len > EMAIL_MAX_BYTES || !at || at == s || strchr(at + 1, '@'))
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p <= ' ' || *p == 0x7f || (*p >= 0x80 && ws_len(p) > 0))
			return false;
	}
	dom = at + 1;
	dot = strchr(dom, '.');
	return dot && dot != dom && dom[strlen(dom) - 1] != '.';
}

/* Hex HMAC-SHA256(APP_SECRET, client address). */
static char *client_hash(struct req *req)
{
	const char *key = g_cfg.app_secret ? g_cfg.app_secret : "";
	const char *ip = req_client_ip(req);
	unsigned char mac[32];

	crypto_hmac_sha256(key, strlen(key), ip, strlen(ip), mac);
	return crypto_hex(req->arena, mac, sizeof(mac));
}

/* ---- shared steps ---- */

/* The article id of the path, checked to be public. Returns 0 with *id set
 * (and *slug, when slug is not NULL), or the status of the error filled in
 * res. */
static int public_article(struct req *req, struct res *res, const char **id, const char **slug)
{
	const char *params[1];
	PGresult *r;
	uint64_t n;

	if (req_param_u64(req, res, "id", 1, INT64_MAX, &n))
		return res->status;
	params[0] = arena_printf(req->arena, "%" PRIu64, n);
	r = db_query(req->arena, SQL_ARTICLE_PUBLIC, 1, params);
	if (!r)
		return db_fail(res);
	if (PQntuples(r) == 0)
		return res_error(res, 404, "not_found", "no such article", NULL);
	*id = params[0];
	if (slug)
		*slug = PQgetvalue(r, 0, 0);
	return 0;
}

/* ---- handlers ---- */

/* Approved thread of a public article, oldest first, paged over top-level
 * comments: ?limit=1..100 (20), ?cursor=next_cursor. Each top-level comment
 * carries its approved replies (all depths, flattened, oldest first). */
int comments_list(struct req *req, struct res *res)
{
	const char *cursor = req_query(req, "cursor");
	const char *article = NULL, *params[4];
	char *ts = NULL, *cid = NULL, *limit_s, *ids;
	cJSON *root, *items, *counts, **replies = NULL;
	PGresult *r, *rr, *rt;
	uint64_t limit;
	int rows, shown, status, c_id, c_root, c_us;

	if ((status = public_article(req, res, &article, NULL)) != 0)
		return status;
	if (req_query_u64(req, res, "limit", COMMENTS_LIMIT_DEFAULT, 1, COMMENTS_LIMIT_MAX, &limit))
		return res->status;
	if (cursor && page_cursor_params(req->arena, cursor, &ts, &cid))
		return page_cursor_error(res);

	/* One row more than asked tells whether another page exists. */
	limit_s = arena_printf(req->arena, "%" PRIu64, limit + 1);
	params[0] = article;
	if (cursor) {
		params[1] = ts;
		params[2] = cid;
		params[3] = limit_s;
		r = db_query(req->arena, SQL_ROOTS_AFTER, 4, params);
	} else {
		params[1] = limit_s;
		r = db_query(req->arena, SQL_ROOTS_FIRST, 2, params);
	}
	if (!r)
		return db_fail(res);
	rows = PQntuples(r);
	shown = (uint64_t)rows > limit ? (int)limit : rows;
	c_id = page_col(r, "id");
	c_us = page_col(r, "page_us");

	rt = db_query(req->arena, SQL_TOTAL, 1, params);
	if (!rt)
		return db_fail(res);

	/* The replies of the shown threads; the ids as one array parameter. */
	ids = arena_alloc(req->arena, (size_t)shown * 21 + 3);
	ids[0] = '{';
	for (int i = 0, o = 1; i < shown; i++) {
		const char *v = PQgetvalue(r, i, c_id);
		size_t n = strlen(v);

		if (n > 19) /* a bigint never is */
			return res_error(res, 500, "internal", "unexpected comment id", NULL);
		if (i)
			ids[o++] = ',';
		memcpy(ids + o, v, n);
		o += (int)n;
		ids[o] = '}';
	}
	if (shown == 0)
		ids[1] = '}';
	rr = db_query(req->arena, SQL_REPLIES, 1, (const char *const[]){ids});
	if (!rr)
		return db_fail(res);

	root = cJSON_CreateObject();
	items = cJSON_AddArrayToObject(root, "items");
	if (shown > 0)
		replies = arena_alloc(req->arena, sizeof(*replies) * (size_t)shown);
	for (int i = 0; i < shown; i++) {
		cJSON *item = page_comment_json(r, i);

		replies[i] = cJSON_AddArrayToObject(item, "replies");
		cJSON_AddItemToArray(items, item);
	}
	c_root = page_col(rr, "root_id");
	for (int j = 0; j < PQntuples(rr); j++) {
		const char *root_id = PQgetvalue(rr, j, c_root);

		for (int i = 0; i < shown; i++) {
			if (strcmp(root_id, PQgetvalue(r, i, c_id)) == 0) {
				cJSON *reply = page_comment_json(rr, j);

				/* Flattened: a reply's own replies are its siblings. */
				cJSON_AddArrayToObject(reply, "replies");
				cJSON_AddItemToArray(replies[i], reply);
				break;
			}
		}
	}
	counts = db_row_json(rt, 0);
	cJSON_AddItemToObject(root, "total",
	                      cJSON_DetachItemFromObjectCaseSensitive(counts, "total"));
	cJSON_AddItemToObject(root, "threads",
	                      cJSON_DetachItemFromObjectCaseSensitive(counts, "threads"));
	cJSON_Delete(counts);
	if ((uint64_t)rows > limit)
		cJSON_AddStringToObject(root, "next_cursor",
		                        page_cursor(req->arena, PQgetvalue(r, shown - 1, c_us),
		                                    PQgetvalue(r, shown - 1, c_id)));
	else
		cJSON_AddNullToObject(root, "next_cursor");
	return res_json(res, 200, root);
}

/* The honeypot: absent, null or "" is a person; anything else a bot. */
static bool honeypot_filled(const cJSON *body)
{
	const cJSON *w = cJSON_GetObjectItemCaseSensitive(body, "website");

	if (!w || cJSON_IsNull(w))
		return false;
	return !(cJSON_IsString(w) && w->valuestring && w->valuestring[0] == '\0');
}

/* What a bot that filled the honeypot is told: the answer a real submission
 * gets, with an id like the next real one, and nothing stored. */
static int honeypot_answer(struct req *req, struct res *res)
{
	PGresult *r = db_query(req->arena, SQL_NEXT_ID, 0, NULL);
	cJSON *root = cJSON_CreateObject();
	long long id = 1;

	if (r && PQntuples(r) == 1)
		id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	cJSON_AddNumberToObject(root, "id", (double)id);
	cJSON_AddStringToObject(root, "status", "pending");
	return res_json(res, 201, root);
}

/* The validated fields of a submission (arena strings; email and parent
 * NULL when not given). */
struct submission {
	const char *name, *email, *content, *parent;
};

/* Reads and checks the body's fields. 0, or the status of the error. */
static int submission_read(struct req *req, struct res *res, const cJSON *body,
                           struct submission *s)
{
	const char *name = NULL, *email = NULL, *content = NULL;
	int64_t parent = 0;
	long n;

	if (json_str(res, body, "author_name", true, 1, 0, &name))
		return res->status;
	s->name = comments_trim(req->arena, name);
	n = json_utf8_len(s->name);
	if (n < 1)
		return res_error(res, 422, "validation_failed", "author_name must not be empty",
		                 "author_name");
	if (n > NAME_MAX_CHARS)
		return res_errorf(res, 422, "validation_failed", "author_name",
		                  "author_name must be at most %d characters", NAME_MAX_CHARS);

	if (!cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(body, "author_email"))) {
		if (json_str(res, body, "author_email", false, 0, 0, &email))
			return res->status;
	}
	if (email && email[0]) {
		s->email = comments_trim(req->arena, email);
		if (!email_ok(s->email))
			return res_error(res, 422, "validation_failed",
			                 "author_email is not a valid email address",
			                 "author_email");
	}

	if (json_str(res, body, "content", true, 1, 0, &content))
		return res->status;
	s->content = comments_trim(req->arena, content);
	n = json_utf8_len(s->content);
	if (n < 1)
		return res_error(res, 422, "validation_failed", "content must not be empty",
		                 "content");
	if (n > CONTENT_MAX_CHARS)
		return res_errorf(res, 422, "validation_failed", "content",
		                  "content must be at most %d characters", CONTENT_MAX_CHARS);

	if (!cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(body, "parent_id"))) {
		if (json_i64(res, body, "parent_id", false, 1, INT64_MAX, &parent))
			return res->status;
	}
	if (parent > 0)
		s->parent = arena_printf(req->arena, "%" PRId64, parent);
	return 0;
}

/* Stores a submission (body: the fields as JSON) for moderation: 201
 * {"id","status":"pending"}, or the status of the error filled in res. */
static int submission_store(struct req *req, struct res *res, const char *article,
                            const cJSON *body)
{
	struct submission s = {NULL, NULL, NULL, NULL};
	const char *ip_hash, *hash, *params[7];
	PGresult *r;
	cJSON *root;
	int status;

	if (honeypot_filled(body))
		return honeypot_answer(req, res);
	if ((status = submission_read(req, res, body, &s)) != 0)
		return status;

	if (s.parent) {
		params[0] = s.parent;
		params[1] = article;
		r = db_query(req->arena, SQL_PARENT_OK, 2, params);
		if (!r)
			return db_fail(res);
		if (PQntuples(r) == 0)
			return res_error(res, 422, "validation_failed",
			                 "parent_id is not an approved comment of this article",
			                 "parent_id");
	}

	ip_hash = client_hash(req);
	hash = content_hash(req->arena, s.content);
	if (db_begin())
		return db_fail(res);
	params[0] = ip_hash;
	if (!db_query(req->arena, SQL_CLIENT_LOCK, 1, params))
		goto fail_db;

	params[1] = arena_printf(req->arena, "%ld", g_comments.window_s);
	params[2] = arena_printf(req->arena, "%ld", g_comments.rate);
	r = db_query(req->arena, SQL_RATE, 3, params);
	if (!r)
		goto fail_db;
	if (strtol(PQgetvalue(r, 0, 0), NULL, 10) >= g_comments.rate) {
		long wait = strtol(PQgetvalue(r, 0, 1), NULL, 10);

		db_rollback();
		res_header_set(res, "Retry-After",
		               arena_printf(req->arena, "%ld", wait < 1 ? 1 : wait));
		return res_error(res, 429, "too_many_requests",
		                 "too many comments from this client; try again later", NULL);
	}

	params[1] = article;
	params[2] = hash;
	r = db_query(req->arena, SQL_DUPLICATE, 3, params);
	if (!r)
		goto fail_db;
	if (PQntuples(r) > 0) {
		db_rollback();
		return res_error(res, 409, "duplicate", "this comment was already submitted",
		                 "content");
	}

	params[0] = article;
	params[1] = s.parent;
	params[2] = s.name;
	params[3] = s.email;
	params[4] = s.content;
	params[5] = ip_hash;
	params[6] = hash;
	r = db_query(req->arena, SQL_INSERT, 7, params);
	if (!r || PQntuples(r) != 1 || db_commit())
		goto fail_db;

	root = cJSON_CreateObject();
	cJSON_AddNumberToObject(root, "id", (double)strtoll(PQgetvalue(r, 0, 0), NULL, 10));
	cJSON_AddStringToObject(root, "status", "pending");
	return res_json(res, 201, root);

fail_db:
	status = db_fail(res);
	db_rollback();
	return status;
}

/* True when the request body is an HTML form's
 * (application/x-www-form-urlencoded, any parameters). */
static bool form_posted(const struct req *req)
{
	const char *ct = req_header(req, "content-type");
	static const char form[] = "application/x-www-form-urlencoded";
	size_t n = sizeof(form) - 1;

	if (ct == NULL)
		return false;
	while (*ct == ' ')
		ct++;
	return strncasecmp(ct, form, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* A form's fields as the JSON body a script would send: strings, and
 * parent_id a number when it is all digits (else left a string, which
 * validation refuses); empty optional fields are absent. */
static cJSON *form_fields(struct req *req)
{
	static const char *const names[] = {"author_name", "author_email", "content", "website"};
	const char *parent = req_form(req, "parent_id");
	cJSON *body = cJSON_CreateObject();

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *v = req_form(req, names[i]);

		if (v && (v[0] || i == 0 || i == 2))
			cJSON_AddStringToObject(body, names[i], v);
	}
	if (parent && parent[0]) {
		if (strlen(parent) <= 18 && parent[strspn(parent, "0123456789")] == '\0')
			cJSON_AddNumberToObject(body, "parent_id",
			                        (double)strtoll(parent, NULL, 10));
		else
			cJSON_AddStringToObject(body, "parent_id", parent);
	}
	return body;
}

/* "/articles/<slug>?comment=<code>#comment-status", the slug percent-encoded
 * for the Location header. */
static char *article_location(struct arena *a, const char *slug, const char *code)
{
	return arena_printf(a, "/articles/%s?comment=%s#comment-status", kv_escape(a, slug), code);
}

/* Public submission, stored as pending: 201 {"id","status":"pending"}.
 * An HTML form's post (application/x-www-form-urlencoded, the page without
 * JavaScript) gets the same checks and 303 See Other back to the article,
 * ?comment=pending on success, else a code the page explains (invalid,
 * rate_limited, duplicate, error); JSON callers get JSON as always. */
int comments_submit(struct req *req, struct res *res)
{
	const char *article = NULL, *slug = NULL, *code;
	const cJSON *body;
	cJSON *form;
	int status;

	if ((status = public_article(req, res, &article, &slug)) != 0)
		return status;
	if (!form_posted(req)) {
		if (json_body(req, res, &body))
			return res->status;
		return submission_store(req, res, article, body);
	}

	form = arena_defer(req->arena, (void (*)(void *))cJSON_Delete, form_fields(req));
	status = submission_store(req, res, article, form);
	if (status == 201)
		code = "pending";
	else if (status == 422 || status == 400)
		code = "invalid";
	else if (status == 429)
		code = "rate_limited";
	else if (status == 409)
		code = "duplicate";
	else
		code = "error";
	/* The JSON answer gives way to the redirect (a 429 keeps Retry-After). */
	res_header_set(res, "Location", article_location(req->arena, slug, code));
	res_header_set(res, "Cache-Control", "no-store");
	return res_body(res, 303, "text/plain; charset=utf-8", "See Other\n", 10, false);
}

/* ---- SQL ---- */

/* clang-format off */

/* Readers see published articles, and scheduled ones whose time has come. */
static const char *const SQL_ARTICLE_PUBLIC =
	"SELECT slug FROM articles"
	" WHERE id = $1::bigint AND status IN ('published', 'scheduled')"
	"  AND published_at <= now()";

/* The public columns; page_us (exact epoch microseconds) feeds the cursor
 * and is not sent. */
#define PUBLIC_COLUMNS \
	"c.id, c.parent_id, c.author_name, c.content, c.created_at, c.admin_reply," \
	" c.admin_reply_at, (extract(epoch FROM c.created_at) * 1000000)::bigint AS page_us"

static const char *const SQL_ROOTS_FIRST =
	"SELECT " PUBLIC_COLUMNS
	" FROM comments c"
	" WHERE c.article_id = $1::bigint AND c.status = 'approved' AND c.parent_id IS NULL"
	" ORDER BY c.created_at, c.id"
	" LIMIT $2::int";

static const char *const SQL_ROOTS_AFTER =
	"SELECT " PUBLIC_COLUMNS
	" FROM comments c"
	" WHERE c.article_id = $1::bigint AND c.status = 'approved' AND c.parent_id IS NULL"
	"  AND (c.created_at, c.id) > ($2::timestamptz, $3::bigint)"
	" ORDER BY c.created_at, c.id"
	" LIMIT $4::int";

/* Every approved reply below the given top-level comments whose chain up to
 * the top is approved, with the top-level id it belongs to. */
static const char *const SQL_REPLIES =
	"WITH RECURSIVE thread (id, root_id) AS ("
	"  SELECT id, id FROM comments WHERE id = ANY ($1::bigint[])"
	"  UNION ALL"
	"  SELECT c.id, t.root_id FROM comments c JOIN thread t ON c.parent_id = t.id"
	"  WHERE c.status = 'approved'"
	")"
	" SELECT " PUBLIC_COLUMNS ", t.root_id"
	" FROM thread t JOIN comments c ON c.id = t.id"
	" WHERE t.id <> t.root_id"
	" ORDER BY c.created_at, c.id";

/* What the thread shows in all: every visible comment, and the top-level
 * ones (the pages' unit). */
static const char *const SQL_TOTAL =
	"WITH RECURSIVE thread (id, top) AS ("
	"  SELECT id, true FROM comments"
	"  WHERE article_id = $1::bigint AND status = 'approved' AND parent_id IS NULL"
	"  UNION ALL"
	"  SELECT c.id, false FROM comments c JOIN thread t ON c.parent_id = t.id"
	"  WHERE c.status = 'approved'"
	")"
	" SELECT count(*) AS total, count(*) FILTER (WHERE top) AS threads FROM thread";

static const char *const SQL_PARENT_OK =
	"SELECT 1 FROM comments"
	" WHERE id = $1::bigint AND article_id = $2::bigint AND status = 'approved'";

/* Serialises one client's submissions until commit ('cmnt' namespaces the
 * lock among the project's advisory locks). */
static const char *const SQL_CLIENT_LOCK =
	"SELECT pg_advisory_xact_lock(1668116084, hashtext($1))";

/* The client's submissions in the window (at most the limit of them), and
 * the whole seconds until the oldest of those leaves it. */
static const char *const SQL_RATE =
	"SELECT count(*),"
	"  coalesce(ceil(extract(epoch FROM"
	"    min(created_at) + make_interval(secs => $2::float8) - now())), 0)::bigint"
	" FROM (SELECT created_at FROM comments"
	"       WHERE ip_hash = $1 AND created_at > now() - make_interval(secs => $2::float8)"
	"       ORDER BY created_at DESC LIMIT $3::int) AS recent";

static const char *const SQL_DUPLICATE =
	"SELECT 1 FROM comments"
	" WHERE ip_hash = $1 AND article_id = $2::bigint AND content_hash = $3"
	"  AND created_at > now() - interval '24 hours'"
	" LIMIT 1";

static const char *const SQL_INSERT =
	"INSERT INTO comments (article_id, parent_id, author_name, author_email, content,"
	"  ip_hash, content_hash)"
	" VALUES ($1::bigint, $2::bigint, $3, $4, $5, $6, $7)"
	" RETURNING id";

/* What the next real comment's id would about be (the honeypot's answer). */
static const char *const SQL_NEXT_ID =
	"SELECT coalesce(max(id), 0) + 1 FROM comments";
/* clang-format on */
