/* text.h - slugs, Markdown and escaping for the blog.
 *
 * Markdown is rendered with md4c, raw HTML disabled (MD_FLAG_NOHTML), so
 * article HTML is safe by construction: any markup in the source comes out
 * escaped, and link/image URLs with javascript:, vbscript: or data: (other
 * than data:image/) schemes are dropped.
 */
#ifndef TEXT_H
#define TEXT_H

#include <stddef.h>

struct arena;

/* A slug from a title: ASCII letters lower-cased, digits kept, non-ASCII
 * letters (e.g. Chinese) kept as they are, everything else a separator;
 * words joined by '-', at most max_len bytes (cut at a character boundary).
 * "" when nothing is left (callers fall back to an id). Arena-owned. */
char *text_slug(struct arena *a, const char *title, size_t max_len);

/* HTML for Markdown source (arena); NULL on a rendering failure. */
char *text_markdown_html(struct arena *a, const char *md, size_t len);

/* s escaped for HTML text and attribute values (& < > " '). Arena-owned. */
char *text_html_escape(struct arena *a, const char *s);
/* s escaped for XML 1.0 (feeds, sitemap): as HTML, and characters XML
 * forbids (C0 controls but tab/LF/CR, U+FFFE/FFFF) dropped. */
char *text_xml_escape(struct arena *a, const char *s);
/* s as one XML CDATA section "<![CDATA[...]]>" (for RSS content:encoded):
 * characters XML forbids dropped as in text_xml_escape, invalid UTF-8 as
 * U+FFFD, and every "]]>" inside split across two sections. Arena-owned. */
char *text_xml_cdata(struct arena *a, const char *s);

#endif
