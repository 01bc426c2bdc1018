/* nlp.c - tokens, keywords (TF-IDF) and extractive summaries for English and
 * Chinese text.
 *
 * Everything is read through utf8_next(), which never looks past the end of
 * the input and turns an invalid byte into a separator. A token is either an
 * English (ASCII / Latin) word, lower-cased, stop words dropped, lightly
 * stemmed, or a bigram of Han characters (a one-character run gives the
 * character itself) that is not a Chinese stop word. Token vectors are
 * malloc'd scratch space freed before returning; everything returned lives in
 * the caller's arena.
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "nlp.h"

#define CP_BAD 0xFFFFFFFFu
/* Longer "words" (hashes, base64, URLs glued together) are not terms. */
#define WORD_MAX     64
#define KEYWORDS_MAX 50
/* Terms of the text that count for a sentence's keyword coverage. */
#define SUMMARY_TOP_TERMS 10
/* Coverage is divided by max(tokens, this) so tiny sentences do not win. */
#define SUMMARY_LEN_FLOOR 8
#define SUMMARY_SHORT     4

/* ---- UTF-8 ---- */

/* Decodes the character at s[i] (i < len): returns its length in bytes
 * (1 for an invalid byte, whose *cp is CP_BAD). Never reads s[len]. */
static size_t utf8_next(const unsigned char *s, size_t len, size_t i, uint32_t *cp)
{
	unsigned char c = s[i];
	uint32_t v, min;
	size_t n, k;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		n = 2;
		v = c & 0x1F;
		min = 0x80;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		v = c & 0x0F;
		min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		v = c & 0x07;
		min = 0x10000;
	} else {
		*cp = CP_BAD;
		return 1;
	}
	if (len - i < n) {
		*cp = CP_BAD;
		return 1;
	}
	for (k = 1; k < n; k++) {
		if ((s[i + k] & 0xC0) != 0x80) {
			*cp = CP_BAD;
			return 1;
		}
		v = (v << 6) | (s[i + k] & 0x3F);
	}
	if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) {
		*cp = CP_BAD;
		return 1;
	}
	*cp = v;
	return n;
}

/* Encodes cp (valid, not CP_BAD) at out; returns the byte count (1..4). */
static size_t utf8_put(char *out, uint32_t cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xC0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xE0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	out[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

static bool is_han(uint32_t cp)
{
	return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
	       (cp >= 0xF900 && cp <= 0xFAFF);
}

/* The lower-cased character when cp belongs in an English word (ASCII letters
 * and digits, Latin-1 and Latin Extended-A/B letters), else 0. */
static uint32_t word_char(uint32_t cp)
{
	if (cp < 0x80) {
		if (cp >= 'A' && cp <= 'Z')
			return cp + 32;
		if ((cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9'))
			return cp;
		return 0;
	}
	if (cp < 0xC0 || cp > 0x24F || cp == 0xD7 || cp == 0xF7)
		return 0;
	if (cp <= 0xDE)
		return cp + 0x20;
	if ((cp >= 0x100 && cp <= 0x137) || (cp >= 0x14A && cp <= 0x177))
		return cp | 1;
	if ((cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17E))
		return (cp & 1) ? cp + 1 : cp;
	return cp;
}

static bool is_apostrophe(uint32_t cp)
{
	return cp == '\'' || cp == 0x2019;
}

/* ---- stop words ---- */

/* Sorted (C locale) for bsearch; contractions appear without apostrophes;
 * URL parts (http, www, com) are noise in Markdown sources. */
static const char *const STOP_EN[] = {
        "a",        "about",     "above",     "after",   "again",    "against",    "all",
        "almost",   "also",      "although",  "always",  "am",       "among",      "an",
        "and",      "another",   "any",       "are",     "arent",    "around",     "as",
        "at",       "be",        "because",   "been",    "before",   "being",      "below",
        "between",  "both",      "but",       "by",      "can",      "cant",       "com",
        "could",    "couldnt",   "did",       "didnt",   "do",       "does",       "doesnt",
        "doing",    "done",      "dont",      "down",    "during",   "each",       "either",
        "else",     "etc",       "even",      "ever",    "every",    "few",        "for",
        "from",     "further",   "get",       "gets",    "got",      "had",        "has",
        "have",     "having",    "he",        "her",     "here",     "hers",       "herself",
        "hes",      "him",       "himself",   "his",     "how",      "however",    "http",
        "https",    "i",         "id",        "if",      "ill",      "im",         "in",
        "into",     "is",        "isnt",      "it",      "its",      "itself",     "ive",
        "just",     "less",      "let",       "lets",    "like",     "made",       "make",
        "many",     "may",       "me",        "might",   "more",     "most",       "much",
        "must",     "my",        "myself",    "neither", "no",       "nor",        "not",
        "now",      "of",        "off",       "often",   "on",       "once",       "one",
        "only",     "onto",      "or",        "other",   "others",   "otherwise",  "our",
        "ours",     "ourselves", "out",       "over",    "own",      "per",        "quite",
        "rather",   "really",    "same",      "several", "she",      "shes",       "should",
        "shouldnt", "since",     "so",        "some",    "still",    "such",       "than",
        "that",     "thats",     "the",       "their",   "theirs",   "them",       "themselves",
        "then",     "there",     "therefore", "these",   "they",     "theyre",     "theyve",
        "this",     "those",     "though",    "through", "thus",     "to",         "too",
        "toward",   "under",     "unless",    "until",   "up",       "upon",       "us",
        "use",      "used",      "uses",      "using",   "very",     "via",        "was",
        "wasnt",    "we",        "well",      "were",    "werent",   "weve",       "what",
        "whatever", "whats",     "when",      "where",   "whether",  "which",      "while",
        "who",      "whom",      "whose",     "why",     "will",     "with",       "within",
        "without",  "wont",      "would",     "wouldnt", "www",      "yet",        "you",
        "youd",     "your",      "youre",     "yours",   "yourself", "yourselves", "youve",
};

/* Function characters: a bigram made only of these is dropped. */
static const char STOP_ZH_CHARS[] =
        "的了是在和与及也就都而这那我你他她它们一个有不为以将把被从对之其或等着吗呢吧啊"
        "又并很更最还会能要到说让给上中下里后前时来去过得地所于由向此该各每些么什怎如若则"
        "但却且即已再可无没非自己呀嘛哦";
/* Particles: a bigram containing one of these crosses a word boundary. */
static const char STOP_ZH_PARTICLES[] = "的了是着吗呢吧啊呀嘛哦";
/* Two-character stop words, space separated with spaces at both ends. */
static const char STOP_ZH_WORDS[] =
        " 一个 一些 一种 我们 你们 他们 她们 它们 这个 那个 这些 那些 这样 那样 这种 那种"
        " 以及 因为 所以 但是 如果 可以 没有 不是 就是 还是 或者 而且 并且 虽然 然后 因此"
        " 总之 什么 怎么 为什 已经 自己 进行 通过 其中 之后 之前 以后 以前 可能 需要 应该"
        " 非常 许多 很多 还有 只是 不过 例如 比如 其他 其它 各种 时候 现在 目前 一样 一下"
        " 不会 不能 能够 以上 以下 如何 为了 对于 关于 由于 这里 那里 哪些 之间 一直 ";

static int stop_cmp(const void *k, const void *e)
{
	return strcmp(k, *(const char *const *)e);
}

static bool stop_en(const char *w)
{
	return bsearch(w, STOP_EN, sizeof STOP_EN / sizeof STOP_EN[0], sizeof STOP_EN[0],
	               stop_cmp) != NULL;
}

/* Han cp (3 bytes in UTF-8) is in the list set. */
static bool zh_in(const char *set, size_t set_len, uint32_t cp)
{
	char b[4];
	size_t n = utf8_put(b, cp);

	return memmem(set, set_len, b, n) != NULL;
}

static bool zh_stop_char(uint32_t cp)
{
	return zh_in(STOP_ZH_CHARS, sizeof STOP_ZH_CHARS - 1, cp);
}

/* Whether the bigram (c1 c2), or the single character c1 when c2 is 0, is a
 * Chinese stop word. */
static bool zh_stop(uint32_t c1, uint32_t c2)
{
	char w[16];
	size_t n = 0;

	if (zh_in(STOP_ZH_PARTICLES, sizeof STOP_ZH_PARTICLES - 1, c1))
		return true;
	if (!c2)
		return zh_stop_char(c1);
	if (zh_in(STOP_ZH_PARTICLES, sizeof STOP_ZH_PARTICLES - 1, c2))
		return true;
	if (zh_stop_char(c1) && zh_stop_char(c2))
		return true;
	w[n++] = ' ';
	n += utf8_put(w + n, c1);
	n += utf8_put(w + n, c2);
	w[n++] = ' ';
	return memmem(STOP_ZH_WORDS, sizeof STOP_ZH_WORDS - 1, w, n) != NULL;
}

/* ---- tokens ---- */

struct toks {
	const char **v; /* malloc'd; strings in the arena */
	size_t n, cap;
};

static void toks_push(struct toks *t, const char *s)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		const char **v = realloc(t->v, cap * sizeof *v);

		if (!v)
			abort(); /* as the arena does: out of memory ends the process */
		t->v = v;
		t->cap = cap;
	}
	t->v[t->n++] = s;
}

static void toks_release(struct toks *t)
{
	free(t->v);
	t->v = NULL;
	t->n = t->cap = 0;
}

static bool ends_with(const char *w, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);

	return n >= k && memcmp(w + n - k, suffix, k) == 0;
}

static bool is_vowel(char c)
{
	return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u' || c == 'y';
}

static bool has_vowel(const char *w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (is_vowel(w[i]))
			return true;
	return false;
}

/* "running" -> "runn" -> "run"; l, s and z doubles stay ("install"). */
static size_t undouble(const char *w, size_t n)
{
	char c = w[n - 1];

	if (n >= 4 && c == w[n - 2] && c >= 'a' && c <= 'z' && !is_vowel(c) && c != 'l' &&
	    c != 's' && c != 'z')
		return n - 1;
	return n;
}

/* Light stemming in place; returns the new length. A suffix comes off only
 * when at least 3 characters stay, so "this", "is", "gas" are untouched. */
static size_t stem(char *w, size_t n)
{
	if (ends_with(w, n, "sses") && n - 2 >= 3)
		return n - 2;
	if (ends_with(w, n, "ies") && n - 2 >= 3) {
		w[n - 3] = 'y';
		return n - 2;
	}
	if (n - 2 >= 3 && (ends_with(w, n, "xes") || ends_with(w, n, "zes") ||
	                   ends_with(w, n, "ches") || ends_with(w, n, "shes")))
		return n - 2;
	if (ends_with(w, n, "s")) {
		if (n - 1 >= 3 && !ends_with(w, n, "ss") && !ends_with(w, n, "us") &&
		    !ends_with(w, n, "is"))
			return n - 1;
		return n;
	}
	if (ends_with(w, n, "ing") && n - 3 >= 3 && has_vowel(w, n - 3))
		return undouble(w, n - 3);
	if (ends_with(w, n, "ed") && n - 2 >= 3 && !ends_with(w, n, "eed") && has_vowel(w, n - 2))
		return undouble(w, n - 2);
	return n;
}

static void emit_word(struct arena *a, struct toks *t, char *w, size_t n)
{
	bool digits = true;

	if (n < 2 || n > WORD_MAX)
		return;
	for (size_t i = 0; i < n && digits; i++)
		digits = w[i] >= '0' && w[i] <= '9';
	if (digits)
		return;
	w[n] = '\0';
	if (stop_en(w))
		return;
	n = stem(w, n);
	w[n] = '\0';
	if (stop_en(w))
		return;
	toks_push(t, arena_strndup(a, w, n));
}

static void emit_han(struct arena *a, struct toks *t, uint32_t c1, uint32_t c2)
{
	char b[8];
	size_t n;

	if (zh_stop(c1, c2))
		return;
	n = utf8_put(b, c1);
	if (c2)
		n += utf8_put(b + n, c2);
	toks_push(t, arena_strndup(a, b, n));
}

/* Appends the tokens of s[0..len) to t, in text order (repeats kept). */
static void tokenize(struct arena *a, const char *text, size_t len, struct toks *t)
{
	const unsigned char *s = (const unsigned char *)text;
	char w[WORD_MAX + 8];
	size_t wn = 0, i = 0, k;
	bool in_word = false, too_long = false;
	uint32_t cp, lc, han_prev = 0;
	size_t han_run = 0;

	while (i <= len) {
		k = i < len ? utf8_next(s, len, i, &cp) : 1;
		if (i == len)
			cp = CP_BAD; /* flushes the last word or run */
		if (cp != CP_BAD && is_han(cp)) {
			if (han_run)
				emit_han(a, t, han_prev, cp);
			han_prev = cp;
			han_run++;
		} else {
			if (han_run == 1)
				emit_han(a, t, han_prev, 0);
			han_run = 0;
		}
		lc = cp == CP_BAD ? 0 : word_char(cp);
		if (lc) {
			if (wn + 4 <= WORD_MAX)
				wn += utf8_put(w + wn, lc);
			else
				too_long = true;
			in_word = true;
		} else if (in_word && is_apostrophe(cp) && i + k < len) {
			uint32_t next;

			utf8_next(s, len, i + k, &next);
			if (!(next != CP_BAD && word_char(next))) {
				emit_word(a, t, w, too_long ? WORD_MAX + 1 : wn);
				wn = 0;
				in_word = too_long = false;
			}
		} else if (in_word) {
			emit_word(a, t, w, too_long ? WORD_MAX + 1 : wn);
			wn = 0;
			in_word = too_long = false;
		}
		i += k;
	}
}

static int str_cmp(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* Distinct terms of text, sorted (C order), NULL-terminated, arena-owned. */
const char **nlp_terms(struct arena *a, const char *text, size_t *n)
{
	struct toks t = {0};
	const char **out;
	size_t m = 0;

	if (text)
		tokenize(a, text, strlen(text), &t);
	if (t.n)
		qsort(t.v, t.n, sizeof *t.v, str_cmp);
	out = arena_alloc(a, (t.n + 1) * sizeof *out);
	for (size_t i = 0; i < t.n; i++)
		if (m == 0 || strcmp(out[m - 1], t.v[i]) != 0)
			out[m++] = t.v[i];
	out[m] = NULL;
	if (n)
		*n = m;
	toks_release(&t);
	return out;
}

/* ---- keywords ---- */

struct term_count {
	const char *term;
	size_t count;
	double score;
};

static int kw_cmp(const void *x, const void *y)
{
	const struct term_count *p = x, *q = y;

	if (p->score > q->score)
		return -1;
	if (p->score < q->score)
		return 1;
	return strcmp(p->term, q->term);
}

/* A Han bigram (two characters of three bytes each). */
static bool term_is_han_bigram(const char *term)
{
	size_t len = strlen(term);
	uint32_t cp;

	return len == 6 && utf8_next((const unsigned char *)term, len, 0, &cp) == 3 && is_han(cp);
}

/* Counts and scores the tokens of t (sorting t->v). Returns the distinct
 * terms sorted best first in a malloc'd array of *n (caller frees). */
static struct term_count *score_terms(const struct toks *t, nlp_df_fn df, void *ctx, long docs,
                                      size_t *n)
{
	struct term_count *tc;
	size_t m = 0;

	*n = 0;
	if (!t->n)
		return NULL;
	qsort(t->v, t->n, sizeof *t->v, str_cmp);
	tc = calloc(t->n, sizeof *tc);
	if (!tc)
		abort();
	for (size_t i = 0; i < t->n; i++) {
		if (m && strcmp(tc[m - 1].term, t->v[i]) == 0) {
			tc[m - 1].count++;
		} else {
			tc[m].term = t->v[i];
			tc[m].count = 1;
			m++;
		}
	}
	if (docs < 0)
		docs = 0;
	for (size_t i = 0; i < m; i++) {
		double tf = (double)tc[i].count / (double)t->n, idf = 1.0;

		if (df) {
			long d = df(ctx, tc[i].term);

			if (d < 0)
				d = 0;
			if (d > docs)
				d = docs;
			idf = log(((double)docs + 1.0) / ((double)d + 1.0)) + 1.0;
		}
		/* Overlapping bigrams cross word boundaries; the ones that recur
		 * are the words. */
		if (tc[i].count == 1 && term_is_han_bigram(tc[i].term))
			tf *= 0.5;
		tc[i].score = tf * idf;
	}
	qsort(tc, m, sizeof *tc, kw_cmp);
	*n = m;
	return tc;
}

/* Top max keywords of text by TF-IDF into out, best first; returns the count. */
size_t nlp_keywords(struct arena *a, const char *text, size_t max, nlp_df_fn df, void *ctx,
                    long docs, struct nlp_keyword *out)
{
	struct toks t = {0};
	struct term_count *tc;
	size_t m, k;

	if (!text || !max || !out)
		return 0;
	if (max > KEYWORDS_MAX)
		max = KEYWORDS_MAX;
	tokenize(a, text, strlen(text), &t);
	tc = score_terms(&t, df, ctx, docs, &m);
	k = m < max ? m : max;
	for (size_t i = 0; i < k; i++) {
		out[i].term = tc[i].term;
		out[i].score = tc[i].score;
	}
	free(tc);
	toks_release(&t);
	return k;
}

/* ---- summary ---- */

struct sentence {
	size_t start, end; /* trimmed byte range */
	size_t index;      /* position in the text */
	bool para_first;   /* first sentence of a paragraph */
	double score;
};

struct sentences {
	struct sentence *v; /* malloc'd */
	size_t n, cap;
};

static bool is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

static bool is_terminal(uint32_t cp)
{
	return cp == 0x3002 || cp == 0xFF01 || cp == 0xFF1F || cp == '!' || cp == '?' || cp == '.';
}

/* Closing quotes and brackets that stay with the sentence they end. */
static bool is_closer(uint32_t cp)
{
	return cp == '"' || cp == '\'' || cp == ')' || cp == ']' || cp == 0x201D || cp == 0x2019 ||
	       cp == 0xFF09 || cp == 0x300D || cp == 0x300F || cp == 0x2026;
}

static void sentences_push(struct sentences *ss, const char *s, size_t start, size_t end,
                           bool *new_para)
{
	while (start < end && is_space((unsigned char)s[start]))
		start++;
	while (end > start && is_space((unsigned char)s[end - 1]))
		end--;
	if (start == end)
		return;
	if (ss->n == ss->cap) {
		size_t cap = ss->cap ? ss->cap * 2 : 32;
		struct sentence *v = realloc(ss->v, cap * sizeof *v);

		if (!v)
			abort();
		ss->v = v;
		ss->cap = cap;
	}
	ss->v[ss->n] = (struct sentence){start, end, ss->n, *new_para, 0.0};
	ss->n++;
	*new_para = false;
}

/* Whether the '.' at s[dot] ends a sentence: it must be followed by
 * whitespace or the end (so 3.14 and example.com stay whole), and not close an
 * abbreviation ("e.g.", "Dr.", a single initial) or precede a lower-case
 * continuation. j is the index after the terminal run. */
static bool dot_ends(const char *s, size_t len, size_t dot, size_t j)
{
	static const char *const abbrev[] = {"dr", "mr", "mrs", "ms", "prof", "sr", "jr",
	                                     "st", "vs", "cf",  "eg", "ie",   "al", "approx"};
	size_t b = dot, wl, k;
	char w[8];

	if (j < len && !is_space((unsigned char)s[j]))
		return false;
	k = j;
	while (k < len && is_space((unsigned char)s[k]))
		k++;
	if (k < len && s[k] >= 'a' && s[k] <= 'z')
		return false;
	while (b > 0 &&
	       ((s[b - 1] >= 'a' && s[b - 1] <= 'z') || (s[b - 1] >= 'A' && s[b - 1] <= 'Z')))
		b--;
	wl = dot - b;
	if (wl == 1 && (s[b] < 'a' || s[b] > 'z'))
		return false; /* an initial: "J. Smith" */
	if (wl == 1 && b > 0 && s[b - 1] == '.')
		return false; /* "e.g." */
	if (wl == 0 || wl >= sizeof w)
		return true;
	for (k = 0; k < wl; k++)
		w[k] = (char)(s[b + k] | 0x20);
	w[wl] = '\0';
	for (k = 0; k < sizeof abbrev / sizeof abbrev[0]; k++)
		if (strcmp(w, abbrev[k]) == 0)
			return false;
	return true;
}

/* Whether the newline at s[nl] only wraps a line inside a sentence: the line
 * ends in a word or a comma and the next one goes on in lower case. */
static bool soft_newline(const char *s, size_t len, size_t from, size_t nl)
{
	size_t p = nl, q = nl + 1;
	unsigned char c;

	while (p > from && is_space((unsigned char)s[p - 1]) && s[p - 1] != '\n')
		p--;
	if (p == from)
		return false;
	c = (unsigned char)s[p - 1];
	if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	      c == ',' || c == ';' || c == ':' || c == '-' || c == '('))
		return false;
	while (q < len && (s[q] == ' ' || s[q] == '\t' || s[q] == '\r'))
		q++;
	return q < len && ((s[q] >= 'a' && s[q] <= 'z') || s[q] == '(');
}

static void split_sentences(const char *text, size_t len, struct sentences *ss)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t i = 0, start = 0, k, j;
	bool new_para = true;
	uint32_t cp;

	while (i < len) {
		k = utf8_next(s, len, i, &cp);
		if (is_terminal(cp)) {
			j = i + k;
			while (j < len) {
				uint32_t c2;
				size_t k2 = utf8_next(s, len, j, &c2);

				if (!is_terminal(c2) && !is_closer(c2))
					break;
				j += k2;
			}
			if (cp != '.' || dot_ends(text, len, i, j)) {
				sentences_push(ss, text, start, j, &new_para);
				start = j;
			}
			i = j;
			continue;
		}
		if (cp == '\n' && !soft_newline(text, len, start, i)) {
			sentences_push(ss, text, start, i, &new_para);
			new_para = true;
			start = i + 1;
		}
		i += k;
	}
	sentences_push(ss, text, start, len, &new_para);
}

static bool word_boundary(const char *s, size_t len, size_t i)
{
	unsigned char c;

	if (i == 0 || i >= len)
		return true;
	c = (unsigned char)s[i];
	return !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'));
}

/* Whether the sentence holds a summary cue ("in conclusion", "总之"). */
static bool has_cue(const char *s, size_t len)
{
	static const char *const cues_en[] = {"in summary",   "in conclusion", "overall",
	                                      "to summarize", "to sum up",     "in short",
	                                      "in brief",     "therefore",     "as a result"};
	static const char *const cues_zh[] = {"总之",     "综上",     "因此",     "总而言之",
	                                      "总的来说", "概括来说", "由此可见", "所以说"};
	size_t i, c, n;

	for (c = 0; c < sizeof cues_zh / sizeof cues_zh[0]; c++)
		if (memmem(s, len, cues_zh[c], strlen(cues_zh[c])))
			return true;
	for (c = 0; c < sizeof cues_en / sizeof cues_en[0]; c++) {
		n = strlen(cues_en[c]);
		for (i = 0; i + n <= len; i++)
			if ((i == 0 || word_boundary(s, len, i - 1)) &&
			    strncasecmp(s + i, cues_en[c], n) == 0 && word_boundary(s, len, i + n))
				return true;
	}
	return false;
}

static int sentence_rank_cmp(const void *x, const void *y)
{
	const struct sentence *p = x, *q = y;

	if (p->score > q->score)
		return -1;
	if (p->score < q->score)
		return 1;
	return p->index < q->index ? -1 : p->index > q->index;
}

static int sentence_pos_cmp(const void *x, const void *y)
{
	const struct sentence *p = x, *q = y;

	return p->index < q->index ? -1 : p->index > q->index;
}

/* Scores every sentence; those without any token (headings too) get
 * -INFINITY and are never chosen. */
static void score_sentences(struct arena *a, const char *text, size_t len, struct sentences *ss)
{
	struct toks all = {0}, st = {0};
	struct term_count *top;
	size_t ntop = 0;
	double *cov, cov_max = 0.0;

	tokenize(a, text, len, &all);
	top = score_terms(&all, NULL, NULL, 0, &ntop);
	if (ntop > SUMMARY_TOP_TERMS)
		ntop = SUMMARY_TOP_TERMS;
	cov = calloc(ss->n ? ss->n : 1, sizeof *cov);
	if (!cov)
		abort();
	for (size_t i = 0; i < ss->n; i++) {
		struct sentence *x = &ss->v[i];
		double sum = 0.0;

		st.n = 0;
		tokenize(a, text + x->start, x->end - x->start, &st);
		if (st.n == 0 || text[x->start] == '#') {
			x->score = -INFINITY;
			continue;
		}
		for (size_t t = 0; t < ntop; t++)
			for (size_t j = 0; j < st.n; j++)
				if (strcmp(top[t].term, st.v[j]) == 0) {
					sum += top[t].score;
					break;
				}
		cov[i] = sum / (double)(st.n > SUMMARY_LEN_FLOOR ? st.n : SUMMARY_LEN_FLOOR);
		if (cov[i] > cov_max)
			cov_max = cov[i];
		x->score = 0.0;
		if (i == 0)
			x->score += 1.0;
		else if (x->para_first)
			x->score += 0.6;
		if (has_cue(text + x->start, x->end - x->start))
			x->score += 1.0;
		if (st.n < SUMMARY_SHORT)
			x->score -= 1.5;
	}
	for (size_t i = 0; i < ss->n; i++)
		if (ss->v[i].score != -INFINITY && cov_max > 0.0)
			ss->v[i].score += 2.0 * cov[i] / cov_max;
	free(cov);
	free(top);
	toks_release(&st);
	toks_release(&all);
}

/* The last character of s[0..n) (n > 0) is CJK: Han or full-width punctuation. */
static bool ends_cjk(const char *s, size_t n)
{
	size_t b = n - 1;
	uint32_t cp;

	while (b > 0 && ((unsigned char)s[b] & 0xC0) == 0x80)
		b--;
	utf8_next((const unsigned char *)s, n, b, &cp);
	return cp != CP_BAD && cp >= 0x2E80;
}

/* Copies s[0..n) to out collapsing whitespace runs to one space. */
static size_t copy_collapsed(char *out, const char *s, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (is_space((unsigned char)s[i])) {
			if (o && out[o - 1] != ' ')
				out[o++] = ' ';
			continue;
		}
		out[o++] = s[i];
	}
	return o;
}

/* nlp_summary that also reports how many sentences it chose. */
char *nlp_summary_n(struct arena *a, const char *text, size_t count, size_t *chosen)
{
	struct sentences ss = {0};
	size_t len, k = 0, total = 0, o = 0;
	char *out;

	if (chosen)
		*chosen = 0;
	if (!text || !count)
		return arena_strdup(a, "");
	len = strlen(text);
	split_sentences(text, len, &ss);
	score_sentences(a, text, len, &ss);
	if (ss.n)
		qsort(ss.v, ss.n, sizeof *ss.v, sentence_rank_cmp);
	while (k < ss.n && k < count && ss.v[k].score != -INFINITY)
		k++;
	if (!k) {
		free(ss.v);
		return arena_strdup(a, "");
	}
	qsort(ss.v, k, sizeof *ss.v, sentence_pos_cmp);
	for (size_t i = 0; i < k; i++)
		total += ss.v[i].end - ss.v[i].start + 1;
	out = arena_alloc(a, total + 1);
	for (size_t i = 0; i < k; i++) {
		const char *p = text + ss.v[i].start;
		size_t n = ss.v[i].end - ss.v[i].start;

		if (i && !ends_cjk(text + ss.v[i - 1].start, ss.v[i - 1].end - ss.v[i - 1].start))
			out[o++] = ' ';
		o += copy_collapsed(out + o, p, n);
	}
	out[o] = '\0';
	if (chosen)
		*chosen = k;
	free(ss.v);
	return out;
}

/* At most count top-ranked sentences of text in document order (arena). */
char *nlp_summary(struct arena *a, const char *text, size_t count)
{
	return nlp_summary_n(a, text, count, NULL);
}

/* ---- index text ---- */

/* Words (lower-cased) and Han bigrams separated by single spaces (arena). */
char *nlp_index_text(struct arena *a, const char *text)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t len, i = 0, k, o = 0, han_run = 0;
	uint32_t cp, lc, han_prev = 0;
	bool in_word = false;
	char *out;

	if (!text)
		return arena_strdup(a, "");
	len = strlen(text);
	/* Each Han character (3 bytes) yields at most 6 bytes + 1 space twice
	 * over; a word character never grows when lower-cased. */
	out = arena_alloc(a, len * 3 + 8);
	while (i < len) {
		k = utf8_next(s, len, i, &cp);
		if (cp != CP_BAD && is_han(cp)) {
			if (han_run) {
				if (o)
					out[o++] = ' ';
				o += utf8_put(out + o, han_prev);
				o += utf8_put(out + o, cp);
			}
			han_prev = cp;
			han_run++;
		} else {
			if (han_run == 1) {
				if (o)
					out[o++] = ' ';
				o += utf8_put(out + o, han_prev);
			}
			han_run = 0;
		}
		lc = cp == CP_BAD ? 0 : word_char(cp);
		if (lc) {
			if (!in_word && o)
				out[o++] = ' ';
			o += utf8_put(out + o, lc);
			in_word = true;
		} else {
			in_word = false;
		}
		i += k;
	}
	if (han_run == 1) {
		if (o)
			out[o++] = ' ';
		o += utf8_put(out + o, han_prev);
	}
	out[o] = '\0';
	return out;
}
