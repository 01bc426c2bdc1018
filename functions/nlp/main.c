/* nlp - keywords and summaries of a posted text (nlp.h), the same code the
 * articles save path runs.
 *
 * Keywords weigh terms by TF-IDF against the article corpus: the document
 * frequencies come from nlp_terms (kept by a trigger on articles.terms) in one
 * query for the text's terms. When the database is unavailable the answer is
 * still useful, so keywords degrade to plain term frequency (idf 1) and say so
 * with "docs": null instead of failing with 503. Summaries need no database.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "arena.h"
#include "db.h"
#include "fn.h"
#include "json.h"
#include "log.h"
#include "nlp.h"

static int nlp_keywords_post(struct req *req, struct res *res);
static int nlp_summary_post(struct req *req, struct res *res);

static const struct route routes[] = {
        {"POST", "/api/nlp/keywords", nlp_keywords_post},
        {"POST", "/api/nlp/summary", nlp_summary_post},
        ROUTES_END,
};

static const struct fn_app app = {"nlp", routes, NULL};

/* The function entry point: fn_main picks the runtime. */
int main(int argc, char **argv)
{
	return fn_main(argc, argv, &app);
}

/* The SQL is defined at the end of the file; handlers name it. */
static const char *const SQL_DF;

#define TEXT_MAX         200000 /* code points */
#define KEYWORDS_DEFAULT 10
#define KEYWORDS_MAX     50
#define SUMMARY_DEFAULT  3
#define SUMMARY_MAX      20

struct df_entry {
	const char *term;
	long df;
};

struct df_table {
	struct df_entry *v; /* arena */
	size_t n;
};

static int df_entry_cmp(const void *x, const void *y)
{
	return strcmp(((const struct df_entry *)x)->term, ((const struct df_entry *)y)->term);
}

/* nlp_df_fn over the table loaded for this request; 0 for unseen terms. */
static long df_lookup(void *ctx, const char *term)
{
	const struct df_table *t = ctx;
	struct df_entry key = {term, 0};
	const struct df_entry *e;

	if (!t->n)
		return 0;
	e = bsearch(&key, t->v, t->n, sizeof *t->v, df_entry_cmp);
	return e ? e->df : 0;
}

/* terms as a PostgreSQL text[] literal: {"a","b"} with " and \ escaped. */
static char *pg_text_array(struct arena *a, const char *const *terms, size_t n)
{
	size_t len = 3, o = 0;
	char *out;

	for (size_t i = 0; i < n; i++)
		len += strlen(terms[i]) * 2 + 3;
	out = arena_alloc(a, len);
	out[o++] = '{';
	for (size_t i = 0; i < n; i++) {
		if (i)
			out[o++] = ',';
		out[o++] = '"';
		for (const char *p = terms[i]; *p; p++) {
			if (*p == '"' || *p == '\\')
				out[o++] = '\\';
			out[o++] = *p;
		}
		out[o++] = '"';
	}
	out[o++] = '}';
	out[o] = '\0';
	return out;
}

/* Loads df for terms and the corpus size; -1 when the database fails. */
static int df_load(struct arena *a, const char *const *terms, size_t n, struct df_table *t,
                   long *docs)
{
	const char *params[1];
	PGresult *r;
	int rows;

	params[0] = pg_text_array(a, terms, n);
	r = db_query(a, SQL_DF, 1, params);
	if (!r)
		return -1;
	rows = PQntuples(r);
	t->v = arena_alloc(a, (size_t)(rows ? rows : 1) * sizeof *t->v);
	t->n = 0;
	*docs = 0;
	for (int i = 0; i < rows; i++) {
		long v = strtol(PQgetvalue(r, i, 1), NULL, 10);

		if (PQgetisnull(r, i, 0)) {
			*docs = v;
			continue;
		}
		t->v[t->n].term = PQgetvalue(r, i, 0);
		t->v[t->n].df = v;
		t->n++;
	}
	if (t->n)
		qsort(t->v, t->n, sizeof *t->v, df_entry_cmp);
	return 0;
}

/* ---- handlers ---- */

/* POST /api/nlp/keywords {text, count} -> {"keywords":[{term,score}],"docs"} */
static int nlp_keywords_post(struct req *req, struct res *res)
{
	const cJSON *body;
	const char *text;
	int64_t count = KEYWORDS_DEFAULT;
	const char **terms;
	struct df_table table = {NULL, 0};
	struct nlp_keyword kw[KEYWORDS_MAX];
	long docs = 0;
	bool have_df = false;
	size_t nterms = 0, k;
	cJSON *root, *list;

	if (json_body(req, res, &body) || json_str(res, body, "text", true, 1, TEXT_MAX, &text) ||
	    json_i64(res, body, "count", false, 1, KEYWORDS_MAX, &count))
		return res->status;
	terms = nlp_terms(req->arena, text, &nterms);
	if (nterms) {
		if (df_load(req->arena, terms, nterms, &table, &docs) == 0)
			have_df = true;
		else
			log_warn("nlp: corpus statistics unavailable, keywords without idf");
	}
	k = nlp_keywords(req->arena, text, (size_t)count, have_df ? df_lookup : NULL, &table, docs,
	                 kw);
	root = cJSON_CreateObject();
	list = cJSON_AddArrayToObject(root, "keywords");
	for (size_t i = 0; i < k; i++) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "term", kw[i].term);
		cJSON_AddNumberToObject(o, "score", kw[i].score);
		cJSON_AddItemToArray(list, o);
	}
	if (have_df || !nterms)
		cJSON_AddNumberToObject(root, "docs", (double)docs);
	else
		cJSON_AddNullToObject(root, "docs");
	return res_json(res, 200, root);
}

/* POST /api/nlp/summary {text, count} -> {"summary","sentences"} */
static int nlp_summary_post(struct req *req, struct res *res)
{
	const cJSON *body;
	const char *text;
	int64_t count = SUMMARY_DEFAULT;
	size_t chosen = 0;
	char *summary;
	cJSON *root;

	if (json_body(req, res, &body) || json_str(res, body, "text", true, 1, TEXT_MAX, &text) ||
	    json_i64(res, body, "count", false, 1, SUMMARY_MAX, &count))
		return res->status;
	summary = nlp_summary_n(req->arena, text, (size_t)count, &chosen);
	root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "summary", summary);
	cJSON_AddNumberToObject(root, "sentences", (double)chosen);
	return res_json(res, 200, root);
}

/* ---- SQL ---- */

/* Document frequencies of the candidate terms, plus one row with a NULL term
 * carrying the corpus size (articles that have terms), in one round trip. */
static const char *const SQL_DF =
        "SELECT term, df::bigint FROM nlp_terms WHERE term = ANY($1::text[]) "
        "UNION ALL "
        "SELECT NULL, count(*) FROM articles WHERE terms <> '{}'";
