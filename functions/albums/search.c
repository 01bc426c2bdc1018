/* search.c - the caller's photos found by text, tag, date and colour; the
 * tag cloud; near-duplicates by perceptual hash.
 *
 * Text (sql/008_photo_search.sql): photos.search holds the tags (weight A),
 * description and caption (B) and album name (C) as English words and Han
 * bigrams, the rules of text_tsquery() (text.h), so a query's terms are the
 * index's terms. A query with Chinese in it also matches photos whose text
 * contains it literally (photos.search_text, a trigram index): a lone Han
 * character ending a run ("宫" of "故宫") starts no bigram. Rank is
 * ts_rank_cd, plus SUBSTRING_BONUS for a literal hit; below SEARCH_MIN_RANK
 * a photo is not returned (terms scattered through a long description).
 *
 * Order: rank (with q), then colour distance (with color), then date (taken,
 * else uploaded) newest first, then id. Pages are offsets in a signed cursor
 * bound to the filters, as in articles' search: ranking is not a keyset.
 * Only the caller's ready photos outside the trash are ever seen.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cJSON.h>

#include "albums.h"
#include "arena.h"
#include "auth.h"
#include "config.h"
#include "cursor.h"
#include "db.h"
#include "json.h"
#include "store.h"
#include "text.h"

/* The SQL is defined at the end of the file; handlers name it. */
static const char *const SQL_SEARCH;
static const char *const SQL_TAGS;
static const char *const SQL_PHASH;
static const char *const SQL_SIMILAR;

#define SEARCH_LIMIT_DEFAULT 20
#define SEARCH_LIMIT_MAX     100
/* Longest q and tag, in characters (a tag is at most 50 in the schema). */
#define SEARCH_Q_MAX   200
#define SEARCH_TAG_MAX 50
/* Deepest page offset a cursor may carry. */
#define SEARCH_OFFSET_MAX 10000
/* Added to the rank of a photo whose text contains a Chinese query as is. */
#define SUBSTRING_BONUS       "0.1"
#define TAGS_LIMIT_DEFAULT    50
#define TAGS_LIMIT_MAX        500
#define SIMILAR_LIMIT_DEFAULT 20
#define SIMILAR_LIMIT_MAX     100

/* ---- configuration (search_init; the defaults until it runs) ---- */

static double search_min_rank = 0.01;
static long color_max_distance = 60;
static long similar_max_distance = 10;

/* A rank threshold: a decimal from 0 to 10. */
static int parse_rank(const char *v, void *dest, char *err, size_t errlen)
{
	char *end;
	double d = strtod(v, &end);

	if (end == v || *end != '\0' || !(d >= 0.0 && d <= 10.0)) {
		snprintf(err, errlen, "must be a number from 0 to 10");
		return -1;
	}
	*(double *)dest = d;
	return 0;
}

/* A distance in RGB space: 0 to 442 (the cube's diagonal). */
static int parse_color_distance(const char *v, void *dest, char *err, size_t errlen)
{
	long n;

	if (config_parse_long(v, &n, err, errlen) != 0 || n > 442) {
		snprintf(err, errlen, "must be an integer from 0 to 442");
		return -1;
	}
	*(long *)dest = n;
	return 0;
}

/* A Hamming distance between 64-bit hashes: 0 to 64. */
static int parse_hamming(const char *v, void *dest, char *err, size_t errlen)
{
	long n;

	if (config_parse_long(v, &n, err, errlen) != 0 || n > 64) {
		snprintf(err, errlen, "must be an integer from 0 to 64");
		return -1;
	}
	*(long *)dest = n;
	return 0;
}

static const struct config_var search_vars[] = {
        {"SEARCH_MIN_RANK", "0.01", parse_rank, &search_min_rank,
         "photo search: matches ranked below this (ts_rank_cd) are not returned"},
        {"COLOR_MAX_DISTANCE", "60", parse_color_distance, &color_max_distance,
         "photo search by colour: largest RGB distance from the asked colour"},
        {"SIMILAR_MAX_DISTANCE", "10", parse_hamming, &similar_max_distance,
         "near-duplicate photos: largest Hamming distance between perceptual hashes"},
};

/* Reads search_vars (albums_init, cold start); 0, or -1 with the bad
 * variable named in err. */
int search_init(char *err, size_t errlen)
{
	return config_load(search_vars, sizeof(search_vars) / sizeof(search_vars[0]), err, errlen);
}

/* ---- parameters ---- */

/* The query parameter name, or NULL when absent or empty. */
static const char *query_opt(struct req *req, const char *name)
{
	const char *v = req_query(req, name);

	return v && *v ? v : NULL;
}

static bool digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
	}
	return true;
}

static int num(const char *s, size_t n)
{
	int v = 0;

	for (size_t i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

static bool leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* s is "YYYY-MM-DD" alone (*date_only) or an RFC 3339 date-time
 * ("2024-05-01T08:30:00Z", fractions and numeric offsets allowed): 0, or -1
 * when malformed or out of range. PostgreSQL reads both forms as they are. */
static int time_check(const char *s, bool *date_only)
{
	static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	size_t n = strlen(s), i;
	int y, m, d;

	if (n < 10 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' ||
	    !digits(s + 8, 2))
		return -1;
	y = num(s, 4), m = num(s + 5, 2), d = num(s + 8, 2);
	if (y < 1 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1] + (m == 2 && leap(y)))
		return -1;
	*date_only = n == 10;
	if (n == 10)
		return 0;
	/* THH:MM:SS */
	if (n < 20 || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !digits(s + 11, 2) ||
	    s[13] != ':' || !digits(s + 14, 2) || s[16] != ':' || !digits(s + 17, 2))
		return -1;
	if (num(s + 11, 2) > 23 || num(s + 14, 2) > 59 || num(s + 17, 2) > 60)
		return -1;
	i = 19;
	if (s[i] == '.') {
		size_t f = ++i;

		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == f || i - f > 9)
			return -1;
	}
	if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == n)
		return 0;
	if ((s[i] == '+' || s[i] == '-') && i + 6 == n && digits(s + i + 1, 2) && s[i + 3] == ':' &&
	    digits(s + i + 4, 2) && num(s + i + 1, 2) <= 23 && num(s + i + 4, 2) <= 59)
		return 0;
	return -1;
}

/* The day after the valid date "YYYY-MM-DD" (arena). */
static char *next_day(struct arena *a, const char *s)
{
	struct tm tm;
	time_t t;
	char buf[32];

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = num(s, 4) - 1900;
	tm.tm_mon = num(s + 5, 2) - 1;
	tm.tm_mday = num(s + 8, 2) + 1;
	tm.tm_hour = 12;
	t = timegm(&tm);
	gmtime_r(&t, &tm);
	if (strftime(buf, sizeof(buf), "%Y-%m-%d", &tm) == 0)
		return arena_strdup(a, "infinity");
	return arena_strdup(a, buf);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "#rrggbb" or "rrggbb" (either case) into rgb[3]: 0, or -1. */
static int color_parse(const char *s, int rgb[3])
{
	if (*s == '#')
		s++;
	if (strlen(s) != 6)
		return -1;
	for (int i = 0; i < 3; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		rgb[i] = hi * 16 + lo;
	}
	return 0;
}

/* True when s holds a Han character (the ranges of search_index_text). */
static bool has_han(struct arena *a, const char *s)
{
	struct text_term *v;
	size_t n = text_search_terms(a, s, &v);

	for (size_t i = 0; i < n; i++) {
		if (!v[i].ascii)
			return true;
	}
	return false;
}

/* s trimmed of ASCII white space, with LIKE's metacharacters (\ % _)
 * escaped and wrapped in '%': a substring pattern (arena). */
static char *like_pattern(struct arena *a, const char *s)
{
	size_t n = strlen(s), o = 0;
	char *out;

	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') {
		s++;
		n--;
	}
	while (n > 0 &&
	       (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
		n--;
	out = arena_alloc(a, 2 * n + 3);
	out[o++] = '%';
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\' || s[i] == '%' || s[i] == '_')
			out[o++] = '\\';
		out[o++] = s[i];
	}
	out[o++] = '%';
	out[o] = '\0';
	return out;
}

/* ---- output ---- */

/* Row i as an item: the row's columns, with thumb_key / display_key turned
 * into presigned thumb_url / display_url (null when there is none). */
static cJSON *photo_item(struct arena *a, const PGresult *r, int i)
{
	static const char *const keys[][2] = {{"thumb_key", "thumb_url"},
	                                      {"display_key", "display_url"}};
	cJSON *item = db_row_json(r, i);

	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		int col = PQfnumber(r, keys[k][0]);
		char *url = NULL;

		if (col >= 0 && !PQgetisnull(r, i, col))
			url = store_presign_get(a, PQgetvalue(r, i, col), album_cfg()->url_ttl_s);
		cJSON_DeleteItemFromObject(item, keys[k][0]);
		if (url)
			cJSON_AddStringToObject(item, keys[k][1], url);
		else
			cJSON_AddNullToObject(item, keys[k][1]);
	}
	return item;
}

/* ---- handlers ---- */

/* The search's filters, checked; absent ones NULL. */
struct search_filter {
	const char *q, *tsq, *like;
	const char *tag;
	const char *from, *to, *to_before; /* to_before: a date's next day (exclusive) */
	const char *color;                 /* "#rrggbb" lower-case */
	int rgb[3];
};

/* Reads and checks the filters: 0, or the 400 status after filling res. */
static int search_filter_read(struct req *req, struct res *res, struct search_filter *f)
{
	const char *from = query_opt(req, "from"), *to = query_opt(req, "to");
	const char *color = query_opt(req, "color");
	bool from_date = false, to_date = false;
	long len;

	memset(f, 0, sizeof(*f));
	f->q = query_opt(req, "q");
	f->tag = query_opt(req, "tag");
	if (!f->q && !f->tag && !from && !to && !color)
		return res_error(res, 400, "invalid_parameter",
		                 "give at least one of q, tag, from, to or color", NULL);
	if (f->q) {
		len = json_utf8_len(f->q);
		if (len < 0)
			return res_error(res, 400, "invalid_parameter", "q must be UTF-8 text",
			                 "q");
		if (len > SEARCH_Q_MAX)
			return res_errorf(res, 400, "invalid_parameter", "q",
			                  "q is longer than %d characters", SEARCH_Q_MAX);
		f->tsq = text_tsquery(req->arena, f->q);
		if (f->tsq == NULL)
			return res_error(res, 400, "invalid_parameter",
			                 "q has no word to search for (letters, digits or Chinese "
			                 "characters)",
			                 "q");
		if (has_han(req->arena, f->q))
			f->like = like_pattern(req->arena, f->q);
	}
	if (f->tag) {
		len = json_utf8_len(f->tag);
		if (len < 0 || len > SEARCH_TAG_MAX)
			return res_errorf(res, 400, "invalid_parameter", "tag",
			                  "tag must be UTF-8 text of at most %d characters",
			                  SEARCH_TAG_MAX);
	}
	if (from && time_check(from, &from_date) != 0)
		return res_error(res, 400, "invalid_parameter",
		                 "from must be a date (YYYY-MM-DD) or an RFC 3339 time", "from");
	if (to && time_check(to, &to_date) != 0)
		return res_error(res, 400, "invalid_parameter",
		                 "to must be a date (YYYY-MM-DD) or an RFC 3339 time", "to");
	f->from = from;
	/* A date as the upper bound means the whole of that day (UTC). */
	if (to && to_date)
		f->to_before = next_day(req->arena, to);
	else
		f->to = to;
	if (color) {
		if (color_parse(color, f->rgb) != 0)
			return res_error(res, 400, "invalid_parameter",
			                 "color must be a colour as #rrggbb", "color");
		f->color =
		        arena_printf(req->arena, "#%02x%02x%02x", f->rgb[0], f->rgb[1], f->rgb[2]);
	}
	return 0;
}

/* GET /api/photos/search?q=&tag=&from=&to=&color=&limit=&cursor=: the
 * caller's photos matching every filter given (at least one). */
int photos_search(struct req *req, struct res *res)
{
	const char *cursor = req_query(req, "cursor");
	struct search_filter f;
	struct auth_user user;
	const char *params[14];
	cJSON *root, *items;
	PGresult *r;
	uint64_t limit;
	long offset = 0;
	char *fp;
	int rows;

	if (auth_require_user(req, res, &user) != 0)
		return res->status;
	if (search_filter_read(req, res, &f) != 0)
		return res->status;
	if (req_query_u64(req, res, "limit", SEARCH_LIMIT_DEFAULT, 1, SEARCH_LIMIT_MAX, &limit))
		return res->status;
	/* The filters as searched, each field in its own slot. */
	fp = cursor_fingerprint(
	        req->arena,
	        arena_printf(req->arena, "%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s", f.q ? f.q : "",
	                     f.tag ? f.tag : "", f.from ? f.from : "", f.to ? f.to : "",
	                     f.to_before ? f.to_before : "", f.color ? f.color : ""));
	if (cursor) {
		offset = cursor_offset_decode(req->arena, cursor, fp, SEARCH_OFFSET_MAX);
		if (offset < 0)
			return res_error(res, 400, "invalid_cursor",
			                 "the cursor is malformed, expired or from another search",
			                 "cursor");
	}

	params[0] = arena_printf(req->arena, "%" PRId64, user.id);
	params[1] = f.tsq;
	params[2] = f.like;
	params[3] = f.tag;
	params[4] = f.from;
	params[5] = f.to;
	params[6] = f.to_before;
	params[7] = f.color ? arena_printf(req->arena, "%d", f.rgb[0]) : NULL;
	params[8] = f.color ? arena_printf(req->arena, "%d", f.rgb[1]) : NULL;
	params[9] = f.color ? arena_printf(req->arena, "%d", f.rgb[2]) : NULL;
	params[10] = arena_printf(req->arena, "%ld", color_max_distance);
	params[11] = arena_printf(req->arena, "%.6f", search_min_rank);
	/* One row more than asked tells whether another page exists. */
	params[12] = arena_printf(req->arena, "%" PRIu64, limit + 1);
	params[13] = arena_printf(req->arena, "%ld", offset);
	r = db_query(req->arena, SQL_SEARCH, 14, params);
	if (!r)
		return db_fail(res);

	rows = PQntuples(r);
	root = cJSON_CreateObject();
	items = cJSON_AddArrayToObject(root, "items");
	for (int i = 0; i < rows && (uint64_t)i < limit; i++) {
		cJSON *item = photo_item(req->arena, r, i);

		if (!f.color)
			cJSON_DeleteItemFromObject(item, "distance");
		if (!f.q)
			cJSON_DeleteItemFromObject(item, "rank");
		cJSON_AddItemToArray(items, item);
	}
	if ((uint64_t)rows > limit && offset + (long)limit <= SEARCH_OFFSET_MAX)
		cJSON_AddStringToObject(root, "next_cursor",
		                        cursor_offset_encode(req->arena, fp, offset + (long)limit));
	else
		cJSON_AddNullToObject(root, "next_cursor");
	return res_json(res, 200, root);
}

/* GET /api/photos/tags?limit=: the caller's tags over ready photos outside
 * the trash, most used first ({"tag","count"}); tags differing only in case
 * are one, shown in their most used spelling. */
int photo_tags_cloud(struct req *req, struct res *res)
{
	struct auth_user user;
	const char *params[2];
	cJSON *root;
	PGresult *r;
	uint64_t limit;

	if (auth_require_user(req, res, &user) != 0)
		return res->status;
	if (req_query_u64(req, res, "limit", TAGS_LIMIT_DEFAULT, 1, TAGS_LIMIT_MAX, &limit))
		return res->status;
	params[0] = arena_printf(req->arena, "%" PRId64, user.id);
	params[1] = arena_printf(req->arena, "%" PRIu64, limit);
	r = db_query(req->arena, SQL_TAGS, 2, params);
	if (!r)
		return db_fail(res);
	root = cJSON_CreateObject();
	cJSON_AddItemToObject(root, "items", db_rows_json(r));
	return res_json(res, 200, root);
}

/* GET /api/photos/{id}/similar?limit=: the caller's other ready photos whose
 * perceptual hash is within SIMILAR_MAX_DISTANCE bits of this one's, nearest
 * first ("distance" in bits); [] when this photo has no hash yet. */
int photos_similar(struct req *req, struct res *res)
{
	const char *id = req_param(req, "id");
	struct auth_user user;
	const char *params[5];
	PGresult *r;
	uint64_t limit;
	cJSON *items;
	int rows;

	if (auth_require_user(req, res, &user) != 0)
		return res->status;
	if (!album_id_valid(id))
		return res_error(res, 404, "not_found", "no such photo", NULL);
	if (req_query_u64(req, res, "limit", SIMILAR_LIMIT_DEFAULT, 1, SIMILAR_LIMIT_MAX, &limit))
		return res->status;
	params[0] = arena_printf(req->arena, "%" PRId64, user.id);
	params[1] = id;
	r = db_query(req->arena, SQL_PHASH, 2, params);
	if (!r)
		return db_fail(res);
	if (PQntuples(r) == 0)
		return res_error(res, 404, "not_found", "no such photo", NULL);
	items = cJSON_CreateArray();
	if (PQgetisnull(r, 0, 0))
		return res_json(res, 200, items);
	params[2] = PQgetvalue(r, 0, 0);
	params[3] = arena_printf(req->arena, "%ld", similar_max_distance);
	params[4] = arena_printf(req->arena, "%" PRIu64, limit);
	r = db_query(req->arena, SQL_SIMILAR, 5, params);
	if (!r) {
		cJSON_Delete(items);
		return db_fail(res);
	}
	rows = PQntuples(r);
	for (int i = 0; i < rows; i++)
		cJSON_AddItemToArray(items, photo_item(req->arena, r, i));
	return res_json(res, 200, items);
}

/* ---- SQL ---- */

/* clang-format off */
/* An item's columns: the photo's public fields, its tags, and its keys
 * (photo_item turns them into URLs). */
#define SQL_ITEM_COLUMNS \
	" p.id, p.album_id, p.description, p.caption, p.taken_at, p.created_at," \
	" p.width, p.height, p.color," \
	" coalesce((SELECT json_agg(t.tag ORDER BY t.tag) FROM photo_tags t" \
	"           WHERE t.photo_id = p.id), '[]'::json) AS tags," \
	" p.thumb_key, p.display_key"

/* $1 owner, $2 tsquery text, $3 substring LIKE pattern (Chinese q only),
 * $4 tag, $5 from, $6 to (inclusive), $7 before (exclusive), $8-$10 r, g,
 * b, $11 largest colour distance, $12 least rank, $13 limit, $14 offset.
 * NULL filters are off. Ranks and distances are
 * computed on the narrow columns first; the page's wide columns after. */
static const char *const SQL_SEARCH =
	"WITH m AS ("
	"  SELECT p.id, coalesce(p.taken_at, p.created_at) AS at,"
	"   CASE WHEN $2::text IS NULL THEN NULL::float8 ELSE"
	"    (CASE WHEN p.search @@ q.query THEN ts_rank_cd(p.search, q.query) ELSE 0 END)"
	"    + (CASE WHEN p.search_text LIKE lower($3::text) THEN " SUBSTRING_BONUS " ELSE 0 END)"
	"   END AS rank,"
	"   CASE WHEN $8::int IS NULL THEN NULL::float8 ELSE sqrt("
	"     power(('x' || substr(p.color, 2, 2))::bit(8)::int - $8::int, 2)"
	"     + power(('x' || substr(p.color, 4, 2))::bit(8)::int - $9::int, 2)"
	"     + power(('x' || substr(p.color, 6, 2))::bit(8)::int - $10::int, 2))"
	"   END AS distance"
	"  FROM photos p, (SELECT to_tsquery('simple', $2::text) AS query) AS q"
	"  WHERE p.owner_id = $1::bigint AND p.status = 'ready' AND p.trashed_at IS NULL"
	"   AND ($2::text IS NULL OR p.search @@ q.query OR p.search_text LIKE lower($3::text))"
	"   AND ($4::text IS NULL OR EXISTS (SELECT 1 FROM photo_tags t"
	"        WHERE t.photo_id = p.id AND lower(t.tag) = lower($4::text)))"
	"   AND ($5::timestamptz IS NULL OR coalesce(p.taken_at, p.created_at) >= $5::timestamptz)"
	"   AND ($6::timestamptz IS NULL OR coalesce(p.taken_at, p.created_at) <= $6::timestamptz)"
	"   AND ($7::timestamptz IS NULL OR coalesce(p.taken_at, p.created_at) < $7::timestamptz)"
	"   AND ($8::int IS NULL OR p.color IS NOT NULL)),"
	" hits AS ("
	"  SELECT m.* FROM m"
	"  WHERE (m.rank IS NULL OR m.rank >= $12::float8)"
	"   AND (m.distance IS NULL OR m.distance <= $11::float8)"
	"  ORDER BY m.rank DESC NULLS LAST, m.distance ASC NULLS LAST, m.at DESC, m.id DESC"
	"  LIMIT $13::int OFFSET $14::int)"
	" SELECT" SQL_ITEM_COLUMNS ","
	"  round(h.rank::numeric, 6)::float8 AS rank,"
	"  round(h.distance::numeric, 2)::float8 AS distance"
	" FROM hits h JOIN photos p ON p.id = h.id"
	" ORDER BY h.rank DESC NULLS LAST, h.distance ASC NULLS LAST, h.at DESC, h.id DESC";

/* $1 owner, $2 limit. */
static const char *const SQL_TAGS =
	"SELECT mode() WITHIN GROUP (ORDER BY t.tag) AS tag, count(*)::int AS count"
	" FROM photos p JOIN photo_tags t ON t.photo_id = p.id"
	" WHERE p.owner_id = $1::bigint AND p.status = 'ready' AND p.trashed_at IS NULL"
	" GROUP BY lower(t.tag)"
	" ORDER BY 2 DESC, 1"
	" LIMIT $2::int";

/* $1 owner, $2 photo: one row (the hash, maybe NULL) when the caller owns
 * the photo, none otherwise. */
static const char *const SQL_PHASH =
	"SELECT phash FROM photos WHERE id = $2 AND owner_id = $1::bigint";

/* $1 owner, $2 the photo, $3 its hash, $4 largest distance, $5 limit. */
static const char *const SQL_SIMILAR =
	"WITH d AS ("
	"  SELECT p.id, bit_count((p.phash # $3::bigint)::bit(64))::int AS distance"
	"  FROM photos p"
	"  WHERE p.owner_id = $1::bigint AND p.status = 'ready' AND p.trashed_at IS NULL"
	"   AND p.phash IS NOT NULL AND p.id <> $2)"
	" SELECT" SQL_ITEM_COLUMNS ", d.distance"
	" FROM d JOIN photos p ON p.id = d.id"
	" WHERE d.distance <= $4::int"
	" ORDER BY d.distance, p.id"
	" LIMIT $5::int";
/* clang-format on */
