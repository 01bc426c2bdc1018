/* page.c - what the public and admin sides share: keyset cursors on
 * (created_at, id) and the JSON shape of one comment.
 *
 * created_at has microsecond precision in PostgreSQL, so a cursor carries it
 * as exact epoch microseconds (computed in SQL from the numeric epoch) and
 * turns it back into an exact timestamp literal here: no float rounding can
 * make a page skip or repeat a comment.
 */
#include <cJSON.h>

#include "arena.h"
#include "cursor.h"
#include "db.h"
#include "comments.h"

/* The cursor for the keyset position (created_us, id). */
char *page_cursor(struct arena *a, const char *created_us, const char *id)
{
	return cursor_keyset_encode(a, created_us, id, NULL);
}

/* "<us>,<id>" back to a timestamp literal and an id; -1 when malformed. */
int page_cursor_params(struct arena *a, const char *cursor, char **ts, char **id)
{
	long long us, n;

	if (cursor_keyset_decode(a, cursor, NULL, &us, &n) != 0)
		return -1;
	*ts = cursor_us_timestamp(a, us);
	if (*ts == NULL)
		return -1;
	*id = arena_printf(a, "%lld", n);
	return 0;
}

/* 400 invalid_cursor naming the parameter. */
int page_cursor_error(struct res *res)
{
	return res_error(res, 400, "invalid_cursor",
	                 "the cursor is malformed or was not issued by this server", "cursor");
}

/* Column index by name, -1 when absent. */
int page_col(const PGresult *r, const char *name)
{
	return PQfnumber(r, name);
}

/* One comment; article_id/article_title/article_slug become "article". */
cJSON *page_comment_json(const PGresult *r, int i)
{
	cJSON *obj = db_row_json(r, i);

	cJSON_DeleteItemFromObjectCaseSensitive(obj, "page_us");
	cJSON_DeleteItemFromObjectCaseSensitive(obj, "root_id");
	if (cJSON_GetObjectItemCaseSensitive(obj, "article_title")) {
		cJSON *art = cJSON_CreateObject();

		cJSON_AddItemToObject(art, "id",
		                      cJSON_DetachItemFromObjectCaseSensitive(obj, "article_id"));
		cJSON_AddItemToObject(
		        art, "title",
		        cJSON_DetachItemFromObjectCaseSensitive(obj, "article_title"));
		cJSON_AddItemToObject(art, "slug",
		                      cJSON_DetachItemFromObjectCaseSensitive(obj, "article_slug"));
		cJSON_AddItemToObject(obj, "article", art);
	}
	return obj;
}
