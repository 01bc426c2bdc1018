/* nlp.h - keywords and summaries of English and Chinese text.
 *
 * Tokens: English words lower-cased, stop words dropped, light stemming
 * (plural -s/-es/-ies, -ing, -ed); Chinese runs of Han characters as
 * overlapping character bigrams (single characters for one-character runs),
 * minus Chinese stop words. Everything is UTF-8; invalid input is treated as
 * separators, never read past its end.
 */
#ifndef NLP_H
#define NLP_H

#include <stddef.h>

struct arena;

/* The distinct terms of text, sorted, as a NULL-terminated array (arena). */
const char **nlp_terms(struct arena *a, const char *text, size_t *n);

struct nlp_keyword {
	const char *term;   /* arena-owned */
	double score;       /* tf * idf */
};

/* Document frequency of term in a corpus of docs documents; the article
 * corpus keeps these in nlp_terms (see sql/003_blog.sql). */
typedef long (*nlp_df_fn)(void *ctx, const char *term);

/* The top max keywords of text by TF-IDF, best first (ties by term). df may
 * be NULL (then idf is 1 for every term). Returns how many were written. */
size_t nlp_keywords(struct arena *a, const char *text, size_t max, nlp_df_fn df, void *ctx,
		    long docs, struct nlp_keyword *out);

/* At most count sentences of text, chosen by rank (position, cue words,
 * keyword coverage) and returned in document order, joined as they were
 * written. Sentences end at 。！？!? and at '.' followed by a space or the
 * end. Empty or punctuation-only text gives "". */
char *nlp_summary(struct arena *a, const char *text, size_t count);
/* nlp_summary that also sets *chosen (may be NULL) to the number of
 * sentences returned. */
char *nlp_summary_n(struct arena *a, const char *text, size_t count, size_t *chosen);

/* Text for full-text indexing: English words as they are, Han runs as
 * space-separated bigrams, so PostgreSQL's 'simple' configuration can index
 * Chinese (sql/004_search.sql does the same in SQL). The rules: a word is a
 * run of ASCII letters/digits and Latin letters (U+00C0-U+024F but for × ÷),
 * lower-cased; a run of Han characters (U+4E00-9FFF, U+3400-4DBF,
 * U+F900-FAFF) gives its overlapping bigrams (a one-character run gives the
 * character); everything else, including apostrophes and invalid UTF-8, is a
 * separator. No stop words, no stemming, numbers kept. Tokens come out in
 * text order joined by single spaces: "PostgreSQL的全文检索 v16" ->
 * "postgresql 的全 全文 文检 检索 v16". */
char *nlp_index_text(struct arena *a, const char *text);

#endif
