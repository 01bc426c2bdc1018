/* page.c - what the public and admin sides share: keyset cursors on
 * (created_at, id) and the JSON shape of one comment.
 *
 * created_at has microsecond precision in PostgreSQL, so a cursor carries it
 * as exact epoch microseconds (computed in SQL from the numeric epoch) and
 * turns it back into an exact timestamp literal here: no float rounding can
 * make a page skip or repeat a comment.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cJSON.h>

#include "arena.h"
#include "cursor.h"
#include "db.h"
#include "comments.h"

/* The cursor for the keyset position (created_us, id). */
char *page_cursor(struct arena *a, const char *created_us, const char *id)
{
	return cursor_encode(a, arena_printf(a, "%s,%s", created_us, id));
}

/* "<us>,<id>" back to a timestamp literal and an id; -1 when malformed. */
int page_cursor_params(struct arena *a, const char *cursor, char **ts, char **id)
{
	const char *p = cursor_decode(a, cursor);
	long long us, n, secs, frac;
	struct tm tm;
	time_t t;
	char *end;

	if (!p || !((p[0] >= '0' && p[0] <= '9') || p[0] == '-'))
		return -1;
	errno = 0;
	us = strtoll(p, &end, 10);
	if (errno || end == p || *end != ',' || !(end[1] >= '0' && end[1] <= '9'))
		return -1;
	p = end + 1;
	n = strtoll(p, &end, 10);
	if (errno || *end || n < 1)
		return -1;
	secs = us / 1000000;
	frac = us % 1000000;
	if (frac < 0) {
		frac += 1000000;
		secs--;
	}
	t = (time_t)secs;
	if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 < 1 || tm.tm_year + 1900 > 9999)
		return -1;
	*ts = arena_printf(a, "%04d-%02d-%02d %02d:%02d:%02d.%06lld+00", tm.tm_year + 1900,
	                   tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
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
