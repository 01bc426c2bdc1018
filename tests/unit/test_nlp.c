/* test_nlp.c - tokens (English, Chinese, mixed, emoji, invalid UTF-8), stop
 * words, stemming, keywords with and without corpus statistics, summaries and
 * index text. Inputs are copied to exactly-sized heap buffers so ASan catches
 * any read past the terminating NUL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "nlp.h"

#define N(x) (sizeof(x) / sizeof((x)[0]))

/* text in a heap block of exactly strlen + 1 bytes, owned by the arena. */
static char *exact(struct arena *a, const char *text)
{
	size_t n = strlen(text) + 1;
	char *p = malloc(n);

	assert_non_null(p);
	memcpy(p, text, n);
	return arena_defer(a, free, p);
}

/* nlp_terms as one space-separated string. */
static char *terms_of(struct arena *a, const char *text)
{
	size_t n = 0, len = 1;
	const char **t = nlp_terms(a, exact(a, text), &n);
	char *out, *p;

	assert_null(t[n]);
	for (size_t i = 0; i < n; i++)
		len += strlen(t[i]) + 1;
	out = p = arena_alloc(a, len);
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(t[i]);

		if (i)
			*p++ = ' ';
		memcpy(p, t[i], l);
		p += l;
	}
	*p = '\0';
	return out;
}

static void test_terms(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
	        /* English: lower case, stop words out, plurals and -ing */
	        {"The quick brown foxes are running", "brown fox quick run"},
	        {"studies classes boxes matches queries indexed stopped installing",
	         "box class index install match query stop study"},
	        /* stems keep at least three letters; -ss/-us/-is/-eed stay */
	        {"this is gas analysis status need speed bus news",
	         "analysis bus gas need new speed status"},
	        {"string things adding", "add string thing"},
	        /* apostrophes inside words are dropped (ASCII and U+2019) */
	        {"Don't use PostgreSQL's index; PostgreSQL\xe2\x80\x99s planner",
	         "index planner postgresql"},
	        /* numbers alone are not terms; words with digits are */
	        {"2024 3.14 100 mp3 v16 x", "mp3 v16"},
	        /* Latin letters lower-cased */
	        {"Caf\xc3\xa9 CAF\xc3\x89 \xc3\x84rger", "caf\xc3\xa9 \xc3\xa4rger"},
	        /* Chinese: overlapping bigrams, one-character runs alone */
	        {"云计算", "云计 计算"},
	        {"云", "云"},
	        {"的", ""},
	        /* stop words, particles and all-stop bigrams dropped */
	        {"我们的服务器", "务器 服务"},
	        {"这个数据库，可以", "个数 据库 数据"},
	        {"这是", ""},
	        /* mixed scripts */
	        {"PostgreSQL的全文检索", "postgresql 全文 文检 检索"},
	        /* emoji and symbols are separators */
	        {"cloud \xe2\x98\x81\xef\xb8\x8f 云\xf0\x9f\x98\x80计算 functions\xf0\x9f\x9a\x80",
	         "cloud function 云 计算"},
	        /* invalid UTF-8: separators, never read past the end */
	        {"\xff\xfeindex\xc3", "index"},
	        {"data\xe4\xb8", "data"},
	        {"\xe4\xba\x91\xe8\xae", "云"},
	        {"abc\xc0\xaf"
	         "def",
	         "abc def"},
	        {"\xed\xa0\x80\xf4\x90\x80\x80", ""},
	        {"\xf0\x9f\x98", ""},
	        /* over-long "words" are not terms */
	        {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa ok42",
	         "ok42"},
	        {"", ""},
	        {"  ,.;!?。！？ ", ""},
	};
	struct arena *a = arena_new();

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		const char *got = terms_of(a, cases[i].text);

		if (strcmp(got, cases[i].want) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, got, cases[i].want);
	}
	arena_free(a);
}

/* The array is sorted (byte order) and distinct, whatever the script. */
static void test_terms_sorted_distinct(void **state)
{
	struct arena *a = arena_new();
	size_t n = 0;
	const char **t = nlp_terms(a,
	                           exact(a, "Index index INDEX indexes zebra apple 云计算 云计算 "
	                                    "apple"),
	                           &n);

	(void)state;
	assert_int_equal(n, 5);
	for (size_t i = 1; i < n; i++)
		assert_true(strcmp(t[i - 1], t[i]) < 0);
	assert_string_equal(t[0], "apple");
	assert_string_equal(t[1], "index");
	assert_string_equal(t[2], "zebra");
	assert_null(t[n]);
	/* n may be NULL */
	t = nlp_terms(a, "hello world", NULL);
	assert_string_equal(t[0], "hello");
	assert_string_equal(t[1], "world");
	assert_null(t[2]);
	arena_free(a);
}

static const char EN_TEXT[] =
        "PostgreSQL is a powerful open source database. Its indexes make queries fast: a "
        "B-tree index answers equality and range queries, and a GIN index answers full-text "
        "search queries.\n\n"
        "Choosing the right index matters. Without an index, the database reads every row of "
        "the table, which is slow for large tables. With the right index, PostgreSQL reads "
        "only a few pages.\n\n"
        "The weather was nice yesterday. We went for a walk.\n\n"
        "In conclusion, a well-chosen index is the cheapest way to make a PostgreSQL database "
        "fast.";

static const char ZH_TEXT[] =
        "云计算让开发者不再需要管理服务器。函数计算是云计算的一种服务形式，开发者只需要编写函数，"
        "平台负责运行函数和扩展服务器。\n"
        "函数按调用次数计费，没有请求时不产生费用。今天的天气很好。\n"
        "总之，函数计算降低了服务器运维的成本，是云计算的重要方向。";

static bool has_term(const struct nlp_keyword *kw, size_t n, const char *term)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(kw[i].term, term) == 0)
			return true;
	return false;
}

static void test_keywords_english(void **state)
{
	struct arena *a = arena_new();
	struct nlp_keyword kw[10];
	size_t n = nlp_keywords(a, exact(a, EN_TEXT), 10, NULL, NULL, 0, kw);

	(void)state;
	assert_int_equal(n, 10);
	assert_string_equal(kw[0].term, "index");
	assert_true(has_term(kw, 3, "database"));
	assert_true(has_term(kw, 3, "postgresql"));
	assert_false(has_term(kw, n, "weather"));
	for (size_t i = 1; i < n; i++) {
		assert_true(kw[i - 1].score >= kw[i].score);
		if (kw[i - 1].score == kw[i].score)
			assert_true(strcmp(kw[i - 1].term, kw[i].term) < 0);
	}
	/* tf alone: "index" occurs 7 times in 51 terms */
	assert_true(kw[0].score > 0.13 && kw[0].score < 0.14);
	arena_free(a);
}

/* A corpus where "index" is in almost every document and "gin" in none. */
static long df_corpus(void *ctx, const char *term)
{
	(void)ctx;
	if (strcmp(term, "index") == 0 || strcmp(term, "database") == 0)
		return 1000;
	if (strcmp(term, "postgresql") == 0)
		return 5;
	return 0;
}

static void test_keywords_idf(void **state)
{
	struct arena *a = arena_new();
	struct nlp_keyword kw[5];
	size_t n;
	int calls = 0;

	(void)state;
	n = nlp_keywords(a, EN_TEXT, 5, df_corpus, &calls, 1000, kw);
	assert_int_equal(n, 5);
	/* common words sink below the rarer ones: "query" (df 0) leads,
	 * "postgresql" (df 5) follows, "index" and "database" (in every
	 * document) fall out of the top 5 */
	assert_string_equal(kw[0].term, "query");
	assert_true(has_term(kw, 3, "postgresql"));
	assert_false(has_term(kw, n, "index"));
	assert_false(has_term(kw, n, "database"));
	/* idf = ln((docs + 1) / (df + 1)) + 1: query 3/51 * (ln(1001) + 1) */
	assert_true(kw[0].score > 0.4650 && kw[0].score < 0.4654);
	/* docs 0 (empty corpus): every idf is 1, as without a callback */
	n = nlp_keywords(a, EN_TEXT, 5, df_corpus, NULL, 0, kw);
	assert_string_equal(kw[0].term, "index");
	arena_free(a);
}

static void test_keywords_ties_and_caps(void **state)
{
	struct arena *a = arena_new();
	struct nlp_keyword kw[50];
	char text[2000];
	size_t n, o = 0;

	(void)state;
	n = nlp_keywords(a, "zulu beta alpha", 10, NULL, NULL, 0, kw);
	assert_int_equal(n, 3);
	assert_string_equal(kw[0].term, "alpha");
	assert_string_equal(kw[1].term, "beta");
	assert_string_equal(kw[2].term, "zulu");
	/* 60 distinct words, max 100: capped at 50 */
	for (int i = 0; i < 60; i++) {
		int w = snprintf(text + o, sizeof text - o, "word%c%c ", 'a' + i / 26,
		                 'a' + i % 26);

		assert_true(w > 0 && (size_t)w < sizeof text - o);
		o += (size_t)w;
	}
	n = nlp_keywords(a, text, 100, NULL, NULL, 0, kw);
	assert_int_equal(n, 50);
	assert_int_equal(nlp_keywords(a, text, 0, NULL, NULL, 0, kw), 0);
	assert_int_equal(nlp_keywords(a, "", 5, NULL, NULL, 0, kw), 0);
	assert_int_equal(nlp_keywords(a, "the of and 。", 5, NULL, NULL, 0, kw), 0);
	arena_free(a);
}

static void test_keywords_chinese(void **state)
{
	struct arena *a = arena_new();
	struct nlp_keyword kw[10];
	size_t n = nlp_keywords(a, exact(a, ZH_TEXT), 10, NULL, NULL, 0, kw);

	(void)state;
	assert_true(n == 10);
	assert_true(has_term(kw, 3, "函数"));
	assert_true(has_term(kw, 3, "计算"));
	assert_true(has_term(kw, 3, "服务"));
	/* bigrams across a particle never appear; one-off bigrams rank low */
	assert_false(has_term(kw, n, "算的"));
	assert_false(has_term(kw, n, "天气"));
	arena_free(a);
}

static void test_summary_english(void **state)
{
	struct arena *a = arena_new();
	size_t chosen = 0;
	char *s = nlp_summary_n(a, exact(a, EN_TEXT), 3, &chosen);

	(void)state;
	assert_int_equal(chosen, 3);
	assert_string_equal(
	        s, "PostgreSQL is a powerful open source database. Without an index, the database "
	           "reads every row of the table, which is slow for large tables. In conclusion, a "
	           "well-chosen index is the cheapest way to make a PostgreSQL database fast.");
	/* one sentence: the conclusion (cue words, paragraph start, coverage) */
	assert_string_equal(nlp_summary(a, EN_TEXT, 1),
	                    "In conclusion, a well-chosen index is the cheapest way to make a "
	                    "PostgreSQL database fast.");
	arena_free(a);
}

static void test_summary_chinese(void **state)
{
	struct arena *a = arena_new();
	size_t chosen = 0;
	char *s = nlp_summary_n(a, exact(a, ZH_TEXT), 2, &chosen);

	(void)state;
	assert_int_equal(chosen, 2);
	/* the opening sentence and the conclusion, joined without a space */
	assert_string_equal(s, "云计算让开发者不再需要管理服务器。"
	                       "总之，函数计算降低了服务器运维的成本，是云计算的重要方向。");
	/* the off-topic short sentence is never picked before the others */
	s = nlp_summary(a, ZH_TEXT, 4);
	assert_null(strstr(s, "天气"));
	arena_free(a);
}

static void test_summary_cases(void **state)
{
	static const struct {
		const char *text;
		size_t count;
		const char *want;
		size_t chosen;
	} cases[] = {
	        {"", 3, "", 0},
	        {"   \n\t  ", 3, "", 0},
	        {"。！？...!!  ?", 3, "", 0},
	        {"123. 456! 3.14?", 3, "", 0},
	        {"\xff\xfe\xfd", 3, "", 0},
	        {"Real words here.", 0, "", 0},
	        /* count beyond the sentences: all of them, in order */
	        {"Alpha beta gamma delta. Epsilon zeta eta theta! Iota kappa lambda mu?", 10,
	         "Alpha beta gamma delta. Epsilon zeta eta theta! Iota kappa lambda mu?", 3},
	        /* numbers and abbreviations do not end sentences */
	        {"The value of pi is about 3.14 and it matters. Another sentence follows here.", 5,
	         "The value of pi is about 3.14 and it matters. Another sentence follows here.", 2},
	        {"Use a special index, e.g. a GIN index for arrays. Then query it quickly.", 1,
	         "Use a special index, e.g. a GIN index for arrays.", 1},
	        /* Chinese sentences are joined without a space */
	        {"第一句话在这里。第二句话也在这里！", 5, "第一句话在这里。第二句话也在这里！", 2},
	        /* newlines between paragraphs end sentences; wrapped lines do not */
	        {"Storage engines matter a lot\n\nQueries need good indexes to run", 5,
	         "Storage engines matter a lot Queries need good indexes to run", 2},
	        {"A sentence that is wrapped\nacross two lines ends here.", 5,
	         "A sentence that is wrapped across two lines ends here.", 1},
	        /* a Markdown heading is not a summary sentence */
	        {"# Indexes\n\nIndexes make database queries fast.", 5,
	         "Indexes make database queries fast.", 1},
	};
	struct arena *a = arena_new();

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		size_t chosen = 99;
		char *got = nlp_summary_n(a, exact(a, cases[i].text), cases[i].count, &chosen);

		if (strcmp(got, cases[i].want) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, got, cases[i].want);
		if (chosen != cases[i].chosen)
			fail_msg("case %zu: chose %zu, want %zu", i, chosen, cases[i].chosen);
	}
	arena_free(a);
}

/* Short sentences lose to informative ones; cue words lift a sentence. */
static void test_summary_ranking(void **state)
{
	struct arena *a = arena_new();
	const char *text = "Caching speeds up web applications considerably. Yes. Sure thing. "
	                   "The weather is pleasant on most days in spring and autumn here. "
	                   "Overall, caching web responses lowers latency for applications.";

	(void)state;
	assert_string_equal(nlp_summary(a, text, 2),
	                    "Caching speeds up web applications considerably. Overall, caching "
	                    "web responses lowers latency for applications.");
	arena_free(a);
}

static void test_index_text(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
	        {"PostgreSQL的全文检索 v16", "postgresql 的全 全文 文检 检索 v16"},
	        {"云", "云"},
	        {"a云b", "a 云 b"},
	        {"Don't STOP", "don t stop"},
	        {"The 2 CAF\xc3\x89S", "the 2 caf\xc3\xa9s"},
	        {"\xff云计算\xe4\xb8", "云计 计算"},
	        {"😀 !!", ""},
	        {"", ""},
	};
	struct arena *a = arena_new();

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		const char *got = nlp_index_text(a, exact(a, cases[i].text));

		if (strcmp(got, cases[i].want) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, got, cases[i].want);
	}
	arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_terms),
	        cmocka_unit_test(test_terms_sorted_distinct),
	        cmocka_unit_test(test_keywords_english),
	        cmocka_unit_test(test_keywords_idf),
	        cmocka_unit_test(test_keywords_ties_and_caps),
	        cmocka_unit_test(test_keywords_chinese),
	        cmocka_unit_test(test_summary_english),
	        cmocka_unit_test(test_summary_chinese),
	        cmocka_unit_test(test_summary_cases),
	        cmocka_unit_test(test_summary_ranking),
	        cmocka_unit_test(test_index_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
