/* text.h - slugs, Markdown and escaping for the blog; full-text search
 * terms (articles and photo search).
 *
 * Markdown is rendered with md4c, raw HTML disabled (MD_FLAG_NOHTML), so
 * article HTML is safe by construction: any markup in the source comes out
 * escaped, and link/image URLs with javascript:, vbscript: or data: (other
 * than data:image/) schemes are dropped.
 */
#ifndef TEXT_H
#define TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arena;

/* A slug from a title: ASCII letters lower-cased, digits kept, non-ASCII
 * letters (e.g. Chinese) kept as they are, everything else a separator;
 * words joined by '-', at most max_len bytes (cut at a character boundary).
 * "" when nothing is left (callers fall back to an id). Arena-owned. */
char *text_slug(struct arena *a, const char *title, size_t max_len);

/* The code point at s[0..n) (n >= 1) into *cp; returns its length in
 * bytes. Invalid UTF-8 (overlong, surrogate, > U+10FFFF, truncated) is one
 * byte long with *cp = TEXT_UTF8_INVALID, so a caller never reads past n. */
#define TEXT_UTF8_INVALID 0xFFFFFFFFu
size_t text_utf8_next(const unsigned char *s, size_t n, uint32_t *cp);

/* HTML for Markdown source (arena); NULL on a rendering failure. */
char *text_markdown_html(struct arena *a, const char *md, size_t len);

/* s escaped for HTML text and attribute values (& < > " '). Arena-owned. */
char *text_html_escape(struct arena *a, const char *s);
/* The same escaping for a writer with its own buffer: s[0..n) goes to emit
 * in pieces, the runs between specials as they are, each special as its
 * entity. */
void text_html_escape_to(const char *s, size_t n,
                         void (*emit)(void *ctx, const char *p, size_t len), void *ctx);
/* s escaped for XML 1.0 (feeds, sitemap): as HTML, and characters XML
 * forbids (C0 controls but tab/LF/CR, U+FFFE/FFFF) dropped. */
char *text_xml_escape(struct arena *a, const char *s);
/* s as one XML CDATA section "<![CDATA[...]]>" (for RSS content:encoded):
 * characters XML forbids dropped as in text_xml_escape, invalid UTF-8 as
 * U+FFFD, and every "]]>" inside split across two sections. Arena-owned. */
char *text_xml_cdata(struct arena *a, const char *s);

/* Full-text search in English and Chinese. The SQL function
 * search_index_text() (sql/004_search.sql) indexes ASCII words lower-cased
 * and Han runs as overlapping character bigrams; a query is cut with the
 * very same rules, so a bigram of the query is a bigram of the text. */
struct text_term {
	const char *text;  /* lexeme: [a-z0-9]+, or one or two Han characters */
	size_t len;
	bool prefix;       /* match as a prefix (English words, lone Han characters) */
	bool ascii;        /* an English word (else Han) */
};

/* The search terms of q in order: ASCII words lower-cased (prefix terms),
 * Han runs as bigrams, a one-character Han run as a prefix term; anything
 * else separates. *out (arena) holds the count returned; q NULL gives 0. */
size_t text_search_terms(struct arena *a, const char *q, struct text_term **out);
/* q's terms as to_tsquery('simple') text, all ANDed ("'tea':* & '故宫'"),
 * to bind as a parameter; NULL when q has no term. Arena-owned. */
char *text_tsquery(struct arena *a, const char *q);

#endif
