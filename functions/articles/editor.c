/* editor.c - what the browser admin needs besides the writing API: the
 * dashboard's counts and the editor's live Markdown preview.
 *
 * Both handlers start with auth_require_admin (cookie callers send
 * X-CSRF-Token on the POST, as for every admin write).
 *
 * Decisions:
 * - The article counts say what readers see: "published" is every article
 *   that is live (published, or scheduled whose time has come), "scheduled"
 *   one that is waiting for its time, "draft" the rest; the three add up to
 *   "total". Comment counts leave out deleted ones; "views" is the sum of
 *   the articles' view counts.
 * - The preview renders with the same function, the same options and the
 *   same size cap as an article save (admin.c), so what the writer sees is
 *   the HTML the article will store: raw HTML escaped, javascript: links
 *   dropped. It touches no table.
 */
#include <string.h>

#include <cJSON.h>

#include "arena.h"
#include "articles.h"
#include "auth.h"
#include "db.h"
#include "json.h"
#include "log.h"
#include "text.h"

/* The SQL is defined at the end of the file. */
static const char *const SQL_STATS;

/* Bytes of Markdown, as admin.c caps an article body. */
#define PREVIEW_MAX_BYTES (1024 * 1024)

/* GET /api/admin/stats: the dashboard's counts in one statement. */
int admin_stats(struct req *req, struct res *res)
{
	struct auth_admin me;
	cJSON *row, *stats;
	PGresult *r;

	if (auth_require_admin(req, res, &me))
		return res->status;
	r = db_query(req->arena, SQL_STATS, 0, NULL);
	if (!r)
		return db_fail(res);
	row = db_row_json(r, 0);
	stats = cJSON_DetachItemFromObjectCaseSensitive(row, "stats");
	cJSON_Delete(row);
	if (!cJSON_IsObject(stats)) {
		cJSON_Delete(stats);
		log_error("articles: the stats query gave no object");
		return res_error(res, 500, "internal", "the counts could not be read", NULL);
	}
	res_header_set(res, "Cache-Control", "no-store");
	return res_json(res, 200, stats);
}

/* POST /api/admin/preview {"markdown"}: 200 {"html"} as a save would store
 * it; 422 naming "markdown" when it is missing, not a string, or too big. */
int admin_preview(struct req *req, struct res *res)
{
	struct auth_admin me;
	const cJSON *body;
	const char *md = NULL;
	char *html;
	cJSON *out;

	if (auth_require_admin(req, res, &me))
		return res->status;
	if (json_body(req, res, &body))
		return res->status;
	if (json_str(res, body, "markdown", true, 0, 0, &md))
		return res->status;
	if (strlen(md) > PREVIEW_MAX_BYTES)
		return res_error(res, 422, "validation_failed", "markdown is larger than 1 MB",
		                 "markdown");
	html = text_markdown_html(req->arena, md, strlen(md));
	if (!html) {
		log_error("articles: markdown rendering failed for a preview");
		return res_error(res, 500, "internal", "the Markdown could not be rendered", NULL);
	}
	out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "html", html);
	res_header_set(res, "Cache-Control", "no-store");
	return res_json(res, 200, out);
}

/* ---- SQL ---- */

/* clang-format off */

/* One row, one json column. Live = not a draft and its time has come
 * (public.c's PUBLIC()); "scheduled" = not a draft, time still ahead. */
static const char *const SQL_STATS =
	"SELECT json_build_object("
	"  'articles', (SELECT json_build_object("
	"     'published', count(*) FILTER (WHERE status <> 'draft' AND published_at <= now()),"
	"     'draft', count(*) FILTER (WHERE status = 'draft'),"
	"     'scheduled', count(*) FILTER (WHERE status <> 'draft' AND published_at > now()),"
	"     'total', count(*))"
	"   FROM articles),"
	"  'comments', (SELECT json_build_object("
	"     'pending', count(*) FILTER (WHERE status = 'pending'),"
	"     'approved', count(*) FILTER (WHERE status = 'approved'),"
	"     'spam', count(*) FILTER (WHERE status = 'spam'))"
	"   FROM comments),"
	"  'views', (SELECT COALESCE(sum(view_count), 0)::bigint FROM articles),"
	"  'categories', (SELECT count(*) FROM categories),"
	"  'tags', (SELECT count(*) FROM tags)"
	") AS stats";
/* clang-format on */
