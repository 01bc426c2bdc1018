/* admin.c - writing articles: the admin list and view, create, edit, delete.
 *
 * A save is one transaction: the row (title, unique slug, Markdown and its
 * HTML, summary, status and publication time, category), the article's
 * keyword terms (the nlp_terms trigger keeps document frequencies), the
 * manual tags the writer chose and the automatic tags (top TF-IDF keywords,
 * source 'auto', replaced on every save). Any failure rolls everything back.
 *
 * Decisions:
 * - An edit changes only the fields present in the body; null clears the
 *   optional cover_url and category_id. The slug stays on edit unless a slug
 *   is sent ("" makes a new one from the title).
 * - Generated slugs take the first free "-2", "-3"... suffix; an explicit
 *   slug that another article holds is 409. Saves take a transaction-scoped
 *   advisory lock, so two concurrent saves never pick the same slug.
 * - published without published_at is now(), except that an article already
 *   published keeps its date; scheduled needs a future published_at (an
 *   already scheduled article keeps its future date); draft clears it. An
 *   edit that sends neither status nor published_at keeps both.
 * - An empty or missing summary is generated from the body (two sentences,
 *   plain text). A generated summary follows the body: an edit of the body
 *   that sends no summary regenerates it, while one the writer chose stays.
 *   Terms and keywords are computed on plain text, not on Markdown syntax.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cJSON.h>

#include "arena.h"
#include "articles.h"
#include "auth.h"
#include "cursor.h"
#include "db.h"
#include "json.h"
#include "log.h"
#include "nlp.h"
#include "text.h"

/* The SQL is defined at the end of the file; handlers name it. */
static const char *const SQL_LIST;
static const char *const SQL_VIEW;
static const char *const SQL_DELETE;
static const char *const SQL_LOCK;
static const char *const SQL_NEXT_ID;
static const char *const SQL_CURRENT;
static const char *const SQL_CATEGORY_EXISTS;
static const char *const SQL_SLUG_TAKEN;
static const char *const SQL_SLUG_FREE;
static const char *const SQL_INSERT;
static const char *const SQL_UPDATE;
static const char *const SQL_TAGS_CLEAR_AUTO;
static const char *const SQL_TAGS_CLEAR_MANUAL;
static const char *const SQL_TAG_FIND;
static const char *const SQL_TAG_SLUG_FREE;
static const char *const SQL_TAG_INSERT;
static const char *const SQL_ARTICLE_TAG_ADD;
static const char *const SQL_TERMS_DF;
static const char *const SQL_DOCS;

#define ADMIN_LIMIT_DEFAULT 20
#define ADMIN_LIMIT_MAX     100
#define TITLE_MAX           200           /* code points */
#define SLUG_MAX            200           /* code points, as the table checks */
#define SLUG_AUTO_MAX       190           /* bytes: room for a "-NNNN" suffix */
#define BODY_MAX            (1024 * 1024) /* bytes of Markdown */
#define SUMMARY_MAX         1000          /* code points, when given */
#define SUMMARY_AUTO_MAX    300           /* bytes of a generated summary */
#define SUMMARY_SENTENCES   2
#define COVER_URL_MAX       2048 /* bytes */
#define TAGS_MAX            20   /* manual tags per article */
#define TAG_NAME_MAX        50   /* code points, as the table checks */
#define TAG_SLUG_AUTO_MAX   54   /* bytes: table allows 60 code points */
#define AUTO_TAGS           5
#define TERM_MAX            100 /* bytes: longer "words" are not indexed */

/* How the saved published_at is chosen. */
enum pub_mode { PUB_NULL, PUB_NOW, PUB_KEEP, PUB_SET };

/* The fields a request body carries; NULL / false when absent. */
struct article_in {
	const char *title;
	const char *slug; /* "" = make one from the title */
	const char *body_md;
	const char *summary;
	bool has_cover;
	const char *cover_url; /* NULL with has_cover: clear */
	bool has_category;
	int64_t category_id; /* 0 with has_category: clear */
	bool has_tags;
	const char **tags; /* trimmed names */
	size_t ntags;
	const char *status;
	const char *published_at; /* checked RFC 3339 */
	time_t published_epoch;
};

/* The stored article an edit starts from (strings arena-owned). */
struct article_cur {
	const char *title;
	const char *slug;
	const char *body_md;
	const char *summary;
	const char *cover_url;   /* NULL when none */
	const char *category_id; /* NULL when none */
	const char *status;
	bool pub_future; /* published_at is set and after now() */
};

/* ---- small parsers ---- */

/* n decimal digits at s into *out. */
static int admin_digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static long long admin_days_from_civil(int y, int m, int d)
{
	long long yy = y - (m <= 2);
	long long era = (yy >= 0 ? yy : yy - 399) / 400;
	long long yoe = yy - era * 400;
	long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

/* A strict RFC 3339 date-time ("2026-11-27T09:00:00.5+08:00", 'T', 't' or a
 * space between date and time, 'Z'/'z' or an offset) to epoch seconds. */
static int admin_rfc3339(const char *s, time_t *out)
{
	static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0, dim, frac = 0;
	const char *p;

	if (strlen(s) < 20 || admin_digits(s, 4, &y) || s[4] != '-' ||
	    admin_digits(s + 5, 2, &mo) || s[7] != '-' || admin_digits(s + 8, 2, &d) ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || admin_digits(s + 11, 2, &h) ||
	    s[13] != ':' || admin_digits(s + 14, 2, &mi) || s[16] != ':' ||
	    admin_digits(s + 17, 2, &sec))
		return -1;
	p = s + 19;
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9' && frac < 9) {
			p++;
			frac++;
		}
		if (frac == 0 || (*p >= '0' && *p <= '9'))
			return -1;
	}
	if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
		sign = 0;
	} else if ((*p == '+' || *p == '-') && strlen(p) == 6 && !admin_digits(p + 1, 2, &oh) &&
	           p[3] == ':' && !admin_digits(p + 4, 2, &om)) {
		sign = *p == '+' ? 1 : -1;
	} else {
		return -1;
	}
	if (y < 1 || mo < 1 || mo > 12 || h > 23 || mi > 59 || sec > 59 || oh > 23 || om > 59)
		return -1;
	dim = mdays[mo - 1];
	if (mo == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		dim = 29;
	if (d < 1 || d > dim)
		return -1;
	*out = (time_t)(admin_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec -
	                (long long)sign * (oh * 3600 + om * 60));
	return 0;
}

/* A slug as the articles table accepts it: runs of [a-z0-9] or non-ASCII
 * bytes joined by single hyphens. */
static bool admin_slug_valid(const char *s)
{
	bool prev_hyphen = true;

	if (*s == '\0')
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '-') {
			if (prev_hyphen)
				return false;
			prev_hyphen = true;
		} else if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p >= 0x80) {
			prev_hyphen = false;
		} else {
			return false;
		}
	}
	return !prev_hyphen;
}

/* A cover image URL: http(s)://host..., or a path on this site's object
 * routes (/storage/..., /media/...); no spaces, controls or characters that
 * are never valid in a URL. */
static bool admin_cover_valid(const char *s)
{
	const char *rest;

	if (strncasecmp(s, "https://", 8) == 0)
		rest = s + 8;
	else if (strncasecmp(s, "http://", 7) == 0)
		rest = s + 7;
	else if (strncmp(s, "/storage/", 9) == 0)
		rest = s + 9;
	else if (strncmp(s, "/media/", 7) == 0)
		rest = s + 7;
	else
		return false;
	if (*rest == '\0' || *rest == '/')
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p <= 0x20 || *p == 0x7f || strchr("\"<>\\^`{|}", *p))
			return false;
	return true;
}

/* s without leading and trailing ASCII whitespace (arena copy). */
static char *admin_trim(struct arena *a, const char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	n = strlen(s);
	while (n > 0 &&
	       (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
		n--;
	return arena_strndup(a, s, n);
}

/* ---- request body ---- */

/* 422 naming field, returns -1. */
static int admin_invalid(struct res *res, const char *field, const char *message)
{
	res_error(res, 422, "validation_failed", message, field);
	return -1;
}

/* The manual tag names: an array of 1..TAG_NAME_MAX-character strings. */
static int admin_parse_tags(struct req *req, struct res *res, const cJSON *arr,
                            struct article_in *in)
{
	const cJSON *item;
	size_t n = 0;

	if (!cJSON_IsArray(arr))
		return admin_invalid(res, "tags", "tags must be an array of tag names");
	if (cJSON_GetArraySize(arr) > TAGS_MAX)
		return admin_invalid(res, "tags", "an article has at most 20 tags");
	in->tags = arena_alloc(req->arena, (size_t)(cJSON_GetArraySize(arr) + 1) * sizeof(char *));
	cJSON_ArrayForEach(item, arr)
	{
		char *name;
		long len;

		if (!cJSON_IsString(item) || !item->valuestring)
			return admin_invalid(res, "tags", "tags must be an array of tag names");
		name = admin_trim(req->arena, item->valuestring);
		len = json_utf8_len(name);
		if (len < 1 || len > TAG_NAME_MAX)
			return admin_invalid(
			        res, "tags",
			        "a tag name must be 1 to 50 characters of valid UTF-8");
		in->tags[n++] = name;
	}
	in->ntags = n;
	in->has_tags = true;
	return 0;
}

/* Reads and checks every field of the body; create requires the title.
 * 0, or -1 with res filled (422 naming the field, 413 for a huge body). */
static int admin_parse(struct req *req, struct res *res, bool create, struct article_in *in)
{
	const cJSON *body, *item;
	const char *s = NULL;

	memset(in, 0, sizeof(*in));
	if (json_body(req, res, &body))
		return -1;

	if (json_str(res, body, "title", create, 1, TITLE_MAX, &in->title))
		return -1;
	if (in->title && admin_trim(req->arena, in->title)[0] == '\0')
		return admin_invalid(res, "title", "title must not be blank");

	if (json_str(res, body, "slug", false, 0, SLUG_MAX, &in->slug))
		return -1;
	if (in->slug && in->slug[0] && !admin_slug_valid(in->slug))
		return admin_invalid(res, "slug",
		                     "slug must be lower-case letters, digits or non-ASCII "
		                     "characters, words joined by single hyphens");

	if (json_str(res, body, "body_md", false, 0, 0, &in->body_md))
		return -1;
	if (in->body_md && strlen(in->body_md) > BODY_MAX) {
		res_error(res, 413, "payload_too_large", "body_md is larger than 1 MB", "body_md");
		return -1;
	}

	if (json_str(res, body, "summary", false, 0, SUMMARY_MAX, &in->summary))
		return -1;
	if (in->summary)
		in->summary = admin_trim(req->arena, in->summary);

	item = cJSON_GetObjectItemCaseSensitive(body, "cover_url");
	if (item) {
		in->has_cover = true;
		if (json_str(res, body, "cover_url", false, 0, COVER_URL_MAX, &s))
			return -1;
		if (s && strlen(s) > COVER_URL_MAX)
			return admin_invalid(res, "cover_url",
			                     "cover_url is longer than 2048 bytes");
		if (s && s[0] && !admin_cover_valid(s))
			return admin_invalid(
			        res, "cover_url",
			        "cover_url must be an http(s) URL or a /storage/ path");
		in->cover_url = s && s[0] ? s : NULL;
	}

	item = cJSON_GetObjectItemCaseSensitive(body, "category_id");
	if (item) {
		in->has_category = true;
		if (json_i64(res, body, "category_id", false, 1, INT64_MAX, &in->category_id))
			return -1;
	}

	item = cJSON_GetObjectItemCaseSensitive(body, "tags");
	if (item && !cJSON_IsNull(item) && admin_parse_tags(req, res, item, in))
		return -1;

	if (json_str(res, body, "status", false, 1, 20, &in->status))
		return -1;
	if (in->status && strcmp(in->status, "draft") != 0 &&
	    strcmp(in->status, "published") != 0 && strcmp(in->status, "scheduled") != 0)
		return admin_invalid(res, "status", "status must be draft, published or scheduled");

	if (json_str(res, body, "published_at", false, 1, 64, &in->published_at))
		return -1;
	if (in->published_at && admin_rfc3339(in->published_at, &in->published_epoch))
		return admin_invalid(res, "published_at",
		                     "published_at must be an RFC 3339 date-time, e.g. "
		                     "2030-01-01T09:00:00Z");
	return 0;
}

/* The status and published_at an article gets: from the request, else the
 * stored ones (cur NULL on create). 0, or -1 with a 422 in res. */
static int admin_resolve_status(struct res *res, const struct article_in *in,
                                const struct article_cur *cur, const char **status,
                                enum pub_mode *mode)
{
	const char *was = cur ? cur->status : NULL;

	if (cur && !in->status && !in->published_at) {
		*status = cur->status;
		*mode = PUB_KEEP;
		return 0;
	}
	*status = in->status ? in->status : (was ? was : "draft");
	if (strcmp(*status, "draft") == 0) {
		*mode = PUB_NULL; /* a draft has no publication time */
	} else if (strcmp(*status, "published") == 0) {
		if (in->published_at)
			*mode = PUB_SET;
		else if (was && strcmp(was, "published") == 0)
			*mode = PUB_KEEP;
		else
			*mode = PUB_NOW;
	} else if (in->published_at) {
		if (in->published_epoch <= time(NULL))
			return admin_invalid(res, "published_at",
			                     "a scheduled article needs a published_at in the "
			                     "future");
		*mode = PUB_SET;
	} else if (was && strcmp(was, "scheduled") == 0 && cur->pub_future) {
		*mode = PUB_KEEP;
	} else {
		return admin_invalid(res, "published_at",
		                     "a scheduled article needs a published_at in the future");
	}
	return 0;
}

/* ---- text derived from the Markdown ---- */

/* Appends the UTF-8 encoding of code point c at *p. */
static void admin_put_utf8(char **p, unsigned long c)
{
	char *o = *p;

	if (c < 0x80) {
		*o++ = (char)c;
	} else if (c < 0x800) {
		*o++ = (char)(0xC0 | (c >> 6));
		*o++ = (char)(0x80 | (c & 0x3F));
	} else if (c < 0x10000) {
		*o++ = (char)(0xE0 | (c >> 12));
		*o++ = (char)(0x80 | ((c >> 6) & 0x3F));
		*o++ = (char)(0x80 | (c & 0x3F));
	} else {
		*o++ = (char)(0xF0 | (c >> 18));
		*o++ = (char)(0x80 | ((c >> 12) & 0x3F));
		*o++ = (char)(0x80 | ((c >> 6) & 0x3F));
		*o++ = (char)(0x80 | (c & 0x3F));
	}
	*p = o;
}

/* Decodes the entity at s ('&'...) into *p; returns the bytes consumed, 0
 * when s is not an entity this renderer writes. */
static size_t admin_entity(const char *s, char **p)
{
	static const struct {
		const char *name;
		char c;
	} named[] = {
	        {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&#39;", '\''}};
	unsigned long c;
	char *end;
	size_t i;

	for (i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
		size_t n = strlen(named[i].name);

		if (strncmp(s, named[i].name, n) == 0) {
			*(*p)++ = named[i].c;
			return n;
		}
	}
	if (s[1] != '#')
		return 0;
	errno = 0;
	if (s[2] == 'x' || s[2] == 'X')
		c = strtoul(s + 3, &end, 16);
	else
		c = strtoul(s + 2, &end, 10);
	if (errno || *end != ';' || end - s < 4 || end - s > 10 || c == 0 || c > 0x10FFFF ||
	    (c >= 0xD800 && c <= 0xDFFF) || !isxdigit((unsigned char)end[-1]))
		return 0;
	admin_put_utf8(p, c);
	return (size_t)(end - s) + 1;
}

/* True for the HTML elements that end a line of text. */
static bool admin_block_tag(const char *name, size_t n)
{
	static const char *const blocks[] = {"p",     "h1", "h2", "h3", "h4",         "h5",
	                                     "h6",    "li", "br", "hr", "ul",         "ol",
	                                     "table", "tr", "td", "th", "blockquote", "div"};

	for (size_t i = 0; i < sizeof(blocks) / sizeof(blocks[0]); i++)
		if (strlen(blocks[i]) == n && strncmp(blocks[i], name, n) == 0)
			return true;
	return false;
}

/* Plain text of rendered article HTML: tags dropped (block ends become
 * newlines), code blocks left out, entities decoded, blanks collapsed. */
static char *admin_plain_text(struct arena *a, const char *html)
{
	char *out = arena_alloc(a, strlen(html) + 1), *o = out;
	const char *s = html;

	while (*s) {
		if (*s == '<') {
			const char *name = s + 1 + (s[1] == '/'), *end;
			size_t n = 0;

			while (isalnum((unsigned char)name[n]))
				n++;
			end = strchr(s, '>');
			if (!end)
				break;
			if (n == 3 && strncmp(name, "pre", 3) == 0 && s[1] != '/') {
				end = strstr(end, "</pre>");
				if (!end)
					break;
				end += 5;
			}
			if (admin_block_tag(name, n) || (n == 3 && strncmp(name, "pre", 3) == 0)) {
				if (o > out && o[-1] == ' ')
					o[-1] = '\n';
				else if (o > out && o[-1] != '\n')
					*o++ = '\n';
			}
			s = end + 1;
		} else if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') {
			if (o > out && o[-1] != ' ' && o[-1] != '\n')
				*o++ = ' ';
			s++;
		} else if (*s == '&') {
			size_t used = admin_entity(s, &o);

			if (used == 0)
				*o++ = *s++;
			else
				s += used;
		} else {
			*o++ = *s++;
		}
	}
	while (o > out && (o[-1] == ' ' || o[-1] == '\n'))
		o--;
	*o = '\0';
	return out;
}

/* A generated summary on one line, at most SUMMARY_AUTO_MAX bytes (cut at a
 * character boundary, then "…"). */
static char *admin_summary_tidy(struct arena *a, const char *s)
{
	size_t n = strlen(s);
	char *out = arena_alloc(a, n + 4), *o = out;

	for (; *s; s++) {
		if (*s == '\n' || *s == '\r' || *s == '\t' || *s == ' ') {
			if (o > out && o[-1] != ' ')
				*o++ = ' ';
		} else {
			*o++ = *s;
		}
	}
	while (o > out && o[-1] == ' ')
		o--;
	if ((size_t)(o - out) > SUMMARY_AUTO_MAX) {
		o = out + SUMMARY_AUTO_MAX;
		while (o > out && ((unsigned char)*o & 0xC0) == 0x80)
			o--;
		while (o > out && o[-1] == ' ')
			o--;
		memcpy(o, "\xE2\x80\xA6", 3);
		o += 3;
	}
	*o = '\0';
	return out;
}

/* The summary made for an article whose body has this plain text. */
static const char *admin_auto_summary(struct arena *a, const char *plain)
{
	const char *s = nlp_summary(a, plain, SUMMARY_SENTENCES);

	return s ? admin_summary_tidy(a, s) : "";
}

/* True when summary is the one generated from Markdown md, i.e. the writer
 * never chose it, so it follows the body when the body changes. */
static bool admin_summary_is_auto(struct arena *a, const char *summary, const char *md)
{
	const char *html = text_markdown_html(a, md, strlen(md));

	return html && strcmp(summary, admin_auto_summary(a, admin_plain_text(a, html))) == 0;
}

/* A PostgreSQL array literal of items ("{"a","b"}"), every element quoted. */
static char *admin_pg_array(struct arena *a, const char *const *items, size_t n)
{
	size_t len = 3;
	char *out, *o;

	for (size_t i = 0; i < n; i++)
		len += 3 + 2 * strlen(items[i]);
	out = o = arena_alloc(a, len);
	*o++ = '{';
	for (size_t i = 0; i < n; i++) {
		if (i)
			*o++ = ',';
		*o++ = '"';
		for (const char *s = items[i]; *s; s++) {
			if (*s == '"' || *s == '\\')
				*o++ = '\\';
			*o++ = *s;
		}
		*o++ = '"';
	}
	*o++ = '}';
	*o = '\0';
	return out;
}

/* Orders an array of strings byte-wise. */
static int admin_strcmp(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* The terms of text worth keeping (a btree entry in nlp_terms has a size
 * limit, and a 1 MB run of letters is no keyword), sorted. */
static const char **admin_terms(struct arena *a, const char *text, size_t *n)
{
	const char **terms = nlp_terms(a, text, n);
	size_t k = 0;

	if (!terms) {
		*n = 0;
		return arena_alloc(a, sizeof(char *));
	}
	for (size_t i = 0; i < *n; i++)
		if (strlen(terms[i]) <= TERM_MAX)
			terms[k++] = terms[i];
	terms[k] = NULL;
	*n = k;
	qsort(terms, k, sizeof(char *), admin_strcmp);
	return terms;
}

/* ---- document frequencies for the keyword extractor ---- */

struct admin_df {
	const char **terms; /* sorted by strcmp */
	long *df;
	size_t n;
};

/* nlp_df_fn over the preloaded table: 0 for a term no article has. */
static long admin_df_lookup(void *ctx, const char *term)
{
	const struct admin_df *d = ctx;
	const char **hit = bsearch(&term, d->terms, d->n, sizeof(char *), admin_strcmp);

	return hit ? d->df[hit - d->terms] : 0;
}

/* Loads the document frequency of every term of text, and the corpus size,
 * in two queries. 0 / -1 (database error). */
static int admin_df_load(struct arena *a, const char *text, struct admin_df *d, long *docs)
{
	const char *params[1];
	PGresult *r;
	size_t n = 0;

	d->terms = admin_terms(a, text, &n);
	d->n = n;
	d->df = arena_alloc(a, (n + 1) * sizeof(long));
	r = db_query(a, SQL_DOCS, 0, NULL);
	if (!r)
		return -1;
	*docs = strtol(PQgetvalue(r, 0, 0), NULL, 10);
	if (n == 0)
		return 0;
	params[0] = admin_pg_array(a, d->terms, n);
	r = db_query(a, SQL_TERMS_DF, 1, params);
	if (!r)
		return -1;
	for (int i = 0; i < PQntuples(r); i++) {
		const char *term = PQgetvalue(r, i, 0);
		const char **hit = bsearch(&term, d->terms, n, sizeof(char *), admin_strcmp);

		if (hit)
			d->df[hit - d->terms] = strtol(PQgetvalue(r, i, 1), NULL, 10);
	}
	return 0;
}

/* ---- tags ---- */

/* The id of the tag called name (case-insensitively), created with a free
 * slug when missing. NULL on a database error. */
static const char *admin_tag_ensure(struct arena *a, const char *name)
{
	const char *params[2];
	const char *slug;
	PGresult *r;

	params[0] = name;
	r = db_query(a, SQL_TAG_FIND, 1, params);
	if (!r)
		return NULL;
	if (PQntuples(r) == 1)
		return PQgetvalue(r, 0, 0);
	slug = text_slug(a, name, TAG_SLUG_AUTO_MAX);
	params[0] = slug && slug[0] ? slug : "tag";
	r = db_query(a, SQL_TAG_SLUG_FREE, 1, params);
	if (!r)
		return NULL;
	params[0] = name;
	params[1] = PQgetvalue(r, 0, 0);
	r = db_query(a, SQL_TAG_INSERT, 2, params);
	if (!r)
		return NULL;
	return PQgetvalue(r, 0, 0);
}

/* Links tag name to the article with source ('manual' / 'auto'); a tag the
 * article already has keeps its first source. 0 / -1. */
static int admin_tag_link(struct arena *a, const char *id, const char *name, const char *source)
{
	const char *params[3];

	params[1] = admin_tag_ensure(a, name);
	if (!params[1])
		return -1;
	params[0] = id;
	params[2] = source;
	return db_exec(a, SQL_ARTICLE_TAG_ADD, 3, params) < 0 ? -1 : 0;
}

/* True when a keyword makes a useful tag name: short enough, not only
 * digits, and with something left for a slug. */
static bool admin_keyword_taggable(struct arena *a, const char *term)
{
	long len = json_utf8_len(term);
	const char *p = term;
	const char *slug;

	if (len < 1 || len > TAG_NAME_MAX)
		return false;
	while (*p >= '0' && *p <= '9')
		p++;
	if (*p == '\0')
		return false;
	slug = text_slug(a, term, TAG_SLUG_AUTO_MAX);
	return slug && slug[0];
}

/* Replaces the automatic tags with the top keywords of text (TF-IDF over
 * the article corpus); manual tags stay, and a keyword that is already one
 * of them is skipped. 0 / -1. */
static int admin_auto_tags(struct arena *a, const char *id, const char *text)
{
	struct nlp_keyword kw[AUTO_TAGS];
	struct admin_df df = {0};
	long docs = 0;
	size_t n;

	if (admin_df_load(a, text, &df, &docs))
		return -1;
	n = nlp_keywords(a, text, AUTO_TAGS, admin_df_lookup, &df, docs, kw);
	for (size_t i = 0; i < n; i++) {
		if (!admin_keyword_taggable(a, kw[i].term))
			continue;
		if (admin_tag_link(a, id, kw[i].term, "auto"))
			return -1;
	}
	return 0;
}

/* ---- responses ---- */

/* The admin view of article id (body, category, tags with their source). */
static int admin_view(struct req *req, struct res *res, const char *id, int status)
{
	const char *params[1] = {id};
	PGresult *r = db_query(req->arena, SQL_VIEW, 1, params);

	if (!r)
		return db_fail(res);
	if (PQntuples(r) == 0)
		return res_error(res, 404, "not_found", "no such article", NULL);
	return res_json(res, status, db_row_json(r, 0));
}

/* ---- the save path ---- */

/* Loads the article an edit starts from, locking its row. 0, 1 when it does
 * not exist, -1 on a database error. */
static int admin_load_current(struct arena *a, const char *id, struct article_cur *cur)
{
	const char *params[1] = {id};
	PGresult *r = db_query(a, SQL_CURRENT, 1, params);

	if (!r)
		return -1;
	if (PQntuples(r) == 0)
		return 1;
	cur->title = PQgetvalue(r, 0, 0);
	cur->slug = PQgetvalue(r, 0, 1);
	cur->body_md = PQgetvalue(r, 0, 2);
	cur->summary = PQgetvalue(r, 0, 3);
	cur->cover_url = PQgetisnull(r, 0, 4) ? NULL : PQgetvalue(r, 0, 4);
	cur->category_id = PQgetisnull(r, 0, 5) ? NULL : PQgetvalue(r, 0, 5);
	cur->status = PQgetvalue(r, 0, 6);
	cur->pub_future = strcmp(PQgetvalue(r, 0, 7), "t") == 0;
	return 0;
}

/* The slug the article gets. in_slug: the explicit one (conflict: 409), ""
 * or NULL to make one from the title (first free suffix). 0, or -1 with res
 * filled. */
static int admin_pick_slug(struct req *req, struct res *res, const char *id, const char *title,
                           const char *in_slug, const char **out)
{
	const char *params[2];
	PGresult *r;

	params[1] = id;
	if (in_slug && in_slug[0]) {
		params[0] = in_slug;
		r = db_query(req->arena, SQL_SLUG_TAKEN, 2, params);
		if (!r) {
			db_fail(res);
			return -1;
		}
		if (PQntuples(r) > 0) {
			res_error(res, 409, "conflict", "another article already has this slug",
			          "slug");
			return -1;
		}
		*out = in_slug;
		return 0;
	}
	params[0] = text_slug(req->arena, title, SLUG_AUTO_MAX);
	if (!params[0] || !params[0][0])
		params[0] = arena_printf(req->arena, "article-%s", id);
	r = db_query(req->arena, SQL_SLUG_FREE, 2, params);
	if (!r) {
		db_fail(res);
		return -1;
	}
	*out = PQgetvalue(r, 0, 0);
	return 0;
}

/* Creates (id_in NULL) or edits an article in one transaction and answers
 * with its admin view: 201 / 200, or the error status. */
static int admin_save(struct req *req, struct res *res, const struct auth_admin *me,
                      const char *id_in)
{
	static const char *const modes[] = {"null", "now", "keep", "set"};
	struct arena *a = req->arena;
	struct article_in in;
	struct article_cur cur = {0};
	const char *params[14];
	const char *id = id_in, *title, *body_md, *summary, *slug, *status, *category, *cover;
	const char *html, *plain, *term_text;
	const char **terms;
	enum pub_mode mode;
	size_t nterms = 0;
	PGresult *r;
	int rc = 500, found;

	if (admin_parse(req, res, id_in == NULL, &in))
		return res->status;
	if (db_begin()) {
		rc = db_fail(res);
		goto out;
	}
	if (db_exec(a, SQL_LOCK, 0, NULL) < 0)
		goto db_error;
	if (id_in) {
		found = admin_load_current(a, id_in, &cur);
		if (found < 0)
			goto db_error;
		if (found > 0) {
			rc = res_error(res, 404, "not_found", "no such article", NULL);
			goto rollback;
		}
	} else {
		r = db_query(a, SQL_NEXT_ID, 0, NULL);
		if (!r)
			goto db_error;
		id = arena_strdup(a, PQgetvalue(r, 0, 0));
	}

	title = in.title ? in.title : cur.title;
	body_md = in.body_md ? in.body_md : (cur.body_md ? cur.body_md : "");
	summary = in.summary ? in.summary : (cur.summary ? cur.summary : "");
	cover = in.has_cover ? in.cover_url : cur.cover_url;
	category = in.has_category
	                   ? (in.category_id ? arena_printf(a, "%" PRId64, in.category_id) : NULL)
	                   : cur.category_id;

	if (admin_resolve_status(res, &in, id_in ? &cur : NULL, &status, &mode)) {
		rc = res->status;
		goto rollback;
	}
	if (category && (!id_in || in.has_category)) {
		params[0] = category;
		r = db_query(a, SQL_CATEGORY_EXISTS, 1, params);
		if (!r)
			goto db_error;
		if (PQntuples(r) == 0) {
			rc = res_error(res, 422, "validation_failed", "no such category",
			               "category_id");
			goto rollback;
		}
	}
	if (id_in && !in.slug) {
		slug = cur.slug;
	} else if (admin_pick_slug(req, res, id, title, in.slug, &slug)) {
		rc = res->status;
		goto rollback;
	}

	html = text_markdown_html(a, body_md, strlen(body_md));
	if (!html) {
		log_error("articles: markdown rendering failed for article %s", id);
		rc = res_error(res, 500, "internal", "the Markdown could not be rendered", NULL);
		goto rollback;
	}
	plain = admin_plain_text(a, html);
	if (id_in && !in.summary && in.body_md && strcmp(in.body_md, cur.body_md) != 0 &&
	    summary[0] && admin_summary_is_auto(a, summary, cur.body_md))
		summary = "";
	if (!summary[0])
		summary = admin_auto_summary(a, plain);
	terms = admin_terms(a, arena_printf(a, "%s\n%s\n%s", title, summary, plain), &nterms);

	params[0] = id;
	params[1] = title;
	params[2] = slug;
	params[3] = body_md;
	params[4] = html;
	params[5] = summary;
	params[6] = cover;
	params[7] = status;
	params[8] = modes[mode];
	params[9] = mode == PUB_SET ? in.published_at : NULL;
	params[10] = category;
	params[11] = admin_pg_array(a, terms, nterms);
	if (id_in) {
		if (db_exec(a, SQL_UPDATE, 12, params) != 1)
			goto db_error;
	} else {
		params[12] = arena_printf(a, "%" PRId64, me->id);
		if (db_exec(a, SQL_INSERT, 13, params) != 1)
			goto db_error;
	}

	params[0] = id;
	if (db_exec(a, SQL_TAGS_CLEAR_AUTO, 1, params) < 0)
		goto db_error;
	if (in.has_tags) {
		if (db_exec(a, SQL_TAGS_CLEAR_MANUAL, 1, params) < 0)
			goto db_error;
		for (size_t i = 0; i < in.ntags; i++)
			if (admin_tag_link(a, id, in.tags[i], "manual"))
				goto db_error;
	}
	term_text = arena_printf(a, "%s\n%s", title, plain);
	if (admin_auto_tags(a, id, term_text))
		goto db_error;

	if (db_commit()) {
		rc = db_fail(res);
		goto out;
	}
	rc = admin_view(req, res, id, id_in ? 200 : 201);
	goto out;

db_error:
	rc = db_fail(res);
rollback:
	db_rollback();
out:
	return rc;
}

/* ---- handlers ---- */

/* Every article whatever its status, most recently edited first:
 * ?status=draft|published|scheduled, ?limit=1..100 (20), ?cursor=. */
int admin_articles_list(struct req *req, struct res *res)
{
	struct auth_admin me;
	const char *status = req_query(req, "status");
	const char *cursor = req_query(req, "cursor");
	const char *params[4] = {NULL, NULL, NULL, NULL};
	cJSON *root, *items;
	PGresult *r;
	uint64_t limit;
	int rows;

	if (auth_require_admin(req, res, &me))
		return res->status;
	if (req_query_u64(req, res, "limit", ADMIN_LIMIT_DEFAULT, 1, ADMIN_LIMIT_MAX, &limit))
		return res->status;
	if (status && status[0] && strcmp(status, "draft") != 0 &&
	    strcmp(status, "published") != 0 && strcmp(status, "scheduled") != 0)
		return res_error(res, 400, "invalid_parameter",
		                 "status must be draft, published or scheduled", "status");
	params[0] = status && status[0] ? status : NULL;
	if (cursor) {
		long long us, id;

		/* payload "<updated_at epoch microseconds>,<id>" */
		if (cursor_keyset_decode(req->arena, cursor, NULL, &us, &id))
			return res_error(res, 400, "invalid_cursor",
			                 "the cursor is malformed or was not issued by this server",
			                 "cursor");
		params[1] = arena_printf(req->arena, "%lld", us);
		params[2] = arena_printf(req->arena, "%lld", id);
	}
	/* One row more than asked tells whether another page exists. */
	params[3] = arena_printf(req->arena, "%" PRIu64, limit + 1);
	r = db_query(req->arena, SQL_LIST, 4, params);
	if (!r)
		return db_fail(res);

	rows = PQntuples(r);
	root = cJSON_CreateObject();
	items = cJSON_AddArrayToObject(root, "items");
	for (int i = 0; i < rows && (uint64_t)i < limit; i++) {
		cJSON *item = db_row_json(r, i);

		cJSON_DeleteItemFromObject(item, "page_us");
		cJSON_AddItemToArray(items, item);
	}
	if ((uint64_t)rows > limit) {
		int last = (int)limit - 1;
		int col = PQfnumber(r, "page_us");

		cJSON_AddStringToObject(root, "next_cursor",
		                        cursor_keyset_encode(req->arena, PQgetvalue(r, last, col),
		                                             PQgetvalue(r, last, 0), NULL));
	} else {
		cJSON_AddNullToObject(root, "next_cursor");
	}
	return res_json(res, 200, root);
}

/* One article whatever its status, with its Markdown, category and tags. */
int admin_articles_get(struct req *req, struct res *res)
{
	struct auth_admin me;
	uint64_t id;

	if (auth_require_admin(req, res, &me))
		return res->status;
	if (req_param_u64(req, res, "id", 1, INT64_MAX, &id))
		return res->status;
	return admin_view(req, res, arena_printf(req->arena, "%" PRIu64, id), 200);
}

/* POST /api/articles: 201 with the admin view of the new article. */
int admin_articles_create(struct req *req, struct res *res)
{
	struct auth_admin me;

	if (auth_require_admin(req, res, &me))
		return res->status;
	return admin_save(req, res, &me, NULL);
}

/* PUT /api/articles/{id}: changes the fields present; 200 with the view. */
int admin_articles_update(struct req *req, struct res *res)
{
	struct auth_admin me;
	uint64_t id;

	if (auth_require_admin(req, res, &me))
		return res->status;
	if (req_param_u64(req, res, "id", 1, INT64_MAX, &id))
		return res->status;
	return admin_save(req, res, &me, arena_printf(req->arena, "%" PRIu64, id));
}

/* DELETE /api/articles/{id}: 204, or 404 when there is no such article. */
int admin_articles_delete(struct req *req, struct res *res)
{
	struct auth_admin me;
	const char *params[1];
	uint64_t id;
	long n;

	if (auth_require_admin(req, res, &me))
		return res->status;
	if (req_param_u64(req, res, "id", 1, INT64_MAX, &id))
		return res->status;
	params[0] = arena_printf(req->arena, "%" PRIu64, id);
	n = db_exec(req->arena, SQL_DELETE, 1, params);
	if (n < 0)
		return db_fail(res);
	if (n == 0)
		return res_error(res, 404, "not_found", "no such article", NULL);
	return res_empty(res, 204);
}

/* ---- SQL ---- */

/* clang-format off */

/* Column page_us feeds the cursor and is not sent. $1 status filter or NULL;
 * $2/$3 the cursor (updated_at in epoch microseconds, id) or NULL. */
static const char *const SQL_LIST =
	"SELECT id, title, slug, summary, status, cover_url, category_id, author_id,"
	"  published_at, created_at, updated_at, view_count,"
	"  (extract(epoch FROM updated_at) * 1000000)::bigint AS page_us"
	" FROM articles"
	" WHERE ($1::text IS NULL OR status = $1::text)"
	"  AND ($2::bigint IS NULL OR (updated_at, id) <"
	"       ('epoch'::timestamptz + $2::bigint * interval '1 microsecond', $3::bigint))"
	" ORDER BY updated_at DESC, id DESC"
	" LIMIT $4::int";

/* Tags: manual ones first, then by name. */
static const char *const SQL_VIEW =
	"SELECT a.id, a.title, a.slug, a.summary, a.body_md, a.body_html, a.cover_url,"
	"  a.status, a.published_at, a.created_at, a.updated_at, a.view_count,"
	"  a.category_id, a.author_id,"
	"  (SELECT json_build_object('id', c.id, 'name', c.name, 'slug', c.slug)"
	"   FROM categories c WHERE c.id = a.category_id) AS category,"
	"  COALESCE((SELECT json_agg(json_build_object('id', t.id, 'name', t.name,"
	"                   'slug', t.slug, 'source', at.source)"
	"                   ORDER BY at.source DESC, t.name)"
	"   FROM article_tags at JOIN tags t ON t.id = at.tag_id"
	"   WHERE at.article_id = a.id), '[]'::json) AS tags"
	" FROM articles a WHERE a.id = $1::bigint";

static const char *const SQL_DELETE =
	"DELETE FROM articles WHERE id = $1::bigint";

/* Serialises article saves for the rest of the transaction, so the slug
 * chosen below is still free at INSERT time. */
static const char *const SQL_LOCK =
	"SELECT pg_advisory_xact_lock(7263500001)";

static const char *const SQL_NEXT_ID =
	"SELECT nextval(pg_get_serial_sequence('articles', 'id'))";

static const char *const SQL_CURRENT =
	"SELECT title, slug, body_md, summary, cover_url, category_id, status,"
	"  COALESCE(published_at > now(), false)"
	" FROM articles WHERE id = $1::bigint FOR UPDATE";

static const char *const SQL_CATEGORY_EXISTS =
	"SELECT 1 FROM categories WHERE id = $1::bigint";

static const char *const SQL_SLUG_TAKEN =
	"SELECT 1 FROM articles WHERE slug = $1::text AND id <> $2::bigint";

/* $1 when free, else $1-N for the smallest free N >= 2 (the family's size
 * + 2 bounds the search). Slugs hold no LIKE wildcards. */
static const char *const SQL_SLUG_FREE =
	"SELECT CASE WHEN NOT EXISTS"
	"   (SELECT 1 FROM articles WHERE slug = $1::text AND id <> $2::bigint)"
	"  THEN $1::text"
	"  ELSE $1::text || '-' || (SELECT min(g) FROM generate_series(2,"
	"     (SELECT count(*) FROM articles WHERE slug LIKE $1::text || '-%')::int + 2) AS g"
	"   WHERE NOT EXISTS (SELECT 1 FROM articles"
	"                     WHERE slug = $1::text || '-' || g AND id <> $2::bigint))"
	"  END";

/* $9 chooses published_at: null, now, keep (not on insert) or set ($10). */
#define SQL_PUBLISHED_AT(keep) \
	"CASE $9::text WHEN 'now' THEN now() WHEN 'set' THEN $10::timestamptz" \
	" WHEN 'keep' THEN " keep " ELSE NULL END"

static const char *const SQL_INSERT =
	"INSERT INTO articles (id, title, slug, body_md, body_html, summary, cover_url,"
	"  status, published_at, category_id, terms, author_id)"
	" OVERRIDING SYSTEM VALUE"
	" VALUES ($1::bigint, $2, $3, $4, $5, $6, $7, $8, " SQL_PUBLISHED_AT("NULL") ","
	"  $11::bigint, $12::text[], $13::bigint)";

static const char *const SQL_UPDATE =
	"UPDATE articles SET title = $2, slug = $3, body_md = $4, body_html = $5,"
	"  summary = $6, cover_url = $7, status = $8,"
	"  published_at = " SQL_PUBLISHED_AT("published_at") ","
	"  category_id = $11::bigint, terms = $12::text[], updated_at = now()"
	" WHERE id = $1::bigint";

static const char *const SQL_TAGS_CLEAR_AUTO =
	"DELETE FROM article_tags WHERE article_id = $1::bigint AND source = 'auto'";

static const char *const SQL_TAGS_CLEAR_MANUAL =
	"DELETE FROM article_tags WHERE article_id = $1::bigint AND source = 'manual'";

/* Case-insensitive, so the keyword "rust" finds the tag "Rust". */
static const char *const SQL_TAG_FIND =
	"SELECT id FROM tags WHERE lower(name) = lower($1::text)"
	" ORDER BY (name = $1::text) DESC, id LIMIT 1";

static const char *const SQL_TAG_SLUG_FREE =
	"SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM tags WHERE slug = $1::text)"
	"  THEN $1::text"
	"  ELSE $1::text || '-' || (SELECT min(g) FROM generate_series(2,"
	"     (SELECT count(*) FROM tags WHERE slug LIKE $1::text || '-%')::int + 2) AS g"
	"   WHERE NOT EXISTS (SELECT 1 FROM tags WHERE slug = $1::text || '-' || g))"
	"  END";

static const char *const SQL_TAG_INSERT =
	"INSERT INTO tags (name, slug) VALUES ($1, $2) RETURNING id";

static const char *const SQL_ARTICLE_TAG_ADD =
	"INSERT INTO article_tags (article_id, tag_id, source)"
	" VALUES ($1::bigint, $2::bigint, $3)"
	" ON CONFLICT (article_id, tag_id) DO NOTHING";

static const char *const SQL_TERMS_DF =
	"SELECT term, df FROM nlp_terms WHERE term = ANY($1::text[])";

static const char *const SQL_DOCS =
	"SELECT count(*) FROM articles WHERE terms <> '{}'";
/* clang-format on */
