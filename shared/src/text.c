/* text.c - slugs, Markdown to safe HTML, HTML and XML escaping, full-text
 * search terms.
 *
 * Markdown goes through md4c's parser (md_parse) and a small renderer of our
 * own: every piece of text is escaped on output, raw HTML is off
 * (MD_FLAG_NOHTML) and link/image URLs pass a scheme allow-list, so the HTML
 * is safe by construction whatever the source says.
 */
#include "text.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <md4c.h>

#include "arena.h"
#include "log.h"

/* ---- a growing byte buffer (malloc'd, copied into the arena at the end) ---- */

struct tbuf {
	char *p;
	size_t len;
	size_t cap;
};

static void tbuf_add(struct tbuf *b, const char *s, size_t n)
{
	if (n == 0)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (p == NULL) {
			/* Like the arena: running out of memory ends the process. */
			log_error("text: out of memory (%zu bytes)", cap);
			abort();
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void tbuf_str(struct tbuf *b, const char *s)
{
	tbuf_add(b, s, strlen(s));
}

static char *tbuf_finish(struct arena *a, struct tbuf *b)
{
	char *out = arena_memdup(a, b->p ? b->p : "", b->len);

	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
	return out;
}

/* ---- UTF-8 ---- */

#define TEXT_INVALID TEXT_UTF8_INVALID

/* Decodes one code point of s[0..n) (n >= 1) into *cp; returns its length.
 * Invalid sequences (overlong, surrogates, > U+10FFFF, truncated) give
 * TEXT_INVALID and length 1, so a caller never reads past n. */
size_t text_utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
	uint32_t c = s[0], min;
	size_t len;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		len = 2;
		c &= 0x1F;
		min = 0x80;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		c &= 0x0F;
		min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		c &= 0x07;
		min = 0x10000;
	} else {
		*cp = TEXT_INVALID;
		return 1;
	}
	if (len > n) {
		*cp = TEXT_INVALID;
		return 1;
	}
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80) {
			*cp = TEXT_INVALID;
			return 1;
		}
		c = (c << 6) | (s[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
		*cp = TEXT_INVALID;
		return 1;
	}
	*cp = c;
	return len;
}

static void utf8_put(struct tbuf *b, uint32_t c)
{
	char s[4];

	if (c < 0x80) {
		s[0] = (char)c;
		tbuf_add(b, s, 1);
	} else if (c < 0x800) {
		s[0] = (char)(0xC0 | (c >> 6));
		s[1] = (char)(0x80 | (c & 0x3F));
		tbuf_add(b, s, 2);
	} else if (c < 0x10000) {
		s[0] = (char)(0xE0 | (c >> 12));
		s[1] = (char)(0x80 | ((c >> 6) & 0x3F));
		s[2] = (char)(0x80 | (c & 0x3F));
		tbuf_add(b, s, 3);
	} else {
		s[0] = (char)(0xF0 | (c >> 18));
		s[1] = (char)(0x80 | ((c >> 12) & 0x3F));
		s[2] = (char)(0x80 | ((c >> 6) & 0x3F));
		s[3] = (char)(0x80 | (c & 0x3F));
		tbuf_add(b, s, 4);
	}
}

/* ---- slugs ---- */

/* Non-ASCII code points a slug keeps: letters and ideographs. Punctuation,
 * symbols, emoji, spaces, controls, joiners, private use and specials are
 * separators (an approximation of Unicode's letter classes by block). */
static bool slug_keeps(uint32_t c)
{
	/* clang-format off */
	static const uint32_t drop[][2] = {
	        {0x0080, 0x00BF}, /* C1 controls, Latin-1 punctuation and symbols */
	        {0x00D7, 0x00D7}, {0x00F7, 0x00F7},
	        {0x2000, 0x2BFF}, /* punctuation, arrows, maths, shapes, dingbats */
	        {0x2E00, 0x2E7F}, /* supplemental punctuation */
	        {0x3000, 0x303F}, /* CJK symbols and punctuation */
	        {0xD800, 0xF8FF}, /* surrogates, private use */
	        {0xFE00, 0xFE6F}, /* variation selectors, CJK compatibility forms */
	        {0xFEFF, 0xFEFF},
	        {0xFF00, 0xFF0F}, {0xFF1A, 0xFF20}, {0xFF3B, 0xFF40}, {0xFF5B, 0xFF65},
	        {0xFFE0, 0xFFFF}, /* fullwidth symbols, specials */
	        {0x1F000, 0x1FBFF}, /* emoji, pictographs, game symbols */
	        {0xE0000, 0x10FFFF}, /* tags, variation selectors supplement, private use */
	};
	/* clang-format on */

	for (size_t i = 0; i < sizeof(drop) / sizeof(drop[0]); i++) {
		if (c >= drop[i][0] && c <= drop[i][1])
			return false;
	}
	return true;
}

/* Lower-cased ASCII words and kept non-ASCII letters joined by '-', whole
 * characters only, at most max_len bytes. */
char *text_slug(struct arena *a, const char *title, size_t max_len)
{
	const unsigned char *s = (const unsigned char *)(title ? title : "");
	size_t n = strlen((const char *)s), i = 0;
	struct tbuf b = {NULL, 0, 0};
	bool sep = false;

	while (i < n) {
		uint32_t c;
		size_t len = text_utf8_next(s + i, n - i, &c);
		char lower;
		bool keep;

		if (c < 0x80) {
			keep = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			       (c >= 'A' && c <= 'Z');
		} else {
			keep = c != TEXT_INVALID && slug_keeps(c);
		}
		if (!keep) {
			sep = b.len > 0;
			i += len;
			continue;
		}
		/* A word piece only goes in whole, with its separator. */
		if (b.len + (sep ? 1 : 0) + len > max_len)
			break;
		if (sep)
			tbuf_add(&b, "-", 1);
		sep = false;
		if (c >= 'A' && c <= 'Z') {
			lower = (char)(c - 'A' + 'a');
			tbuf_add(&b, &lower, 1);
		} else {
			tbuf_add(&b, (const char *)s + i, len);
		}
		i += len;
	}
	return tbuf_finish(a, &b);
}

/* ---- escaping ---- */

/* Feeds s[0..n) escaped for HTML text and quoted attribute values to emit. */
void text_html_escape_to(const char *s, size_t n,
                         void (*emit)(void *ctx, const char *p, size_t len), void *ctx)
{
	size_t run = 0;

	for (size_t i = 0; i < n; i++) {
		const char *rep;

		switch (s[i]) {
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '"':
			rep = "&quot;";
			break;
		case '\'':
			rep = "&#39;";
			break;
		default:
			continue;
		}
		if (i > run)
			emit(ctx, s + run, i - run);
		emit(ctx, rep, strlen(rep));
		run = i + 1;
	}
	if (n > run)
		emit(ctx, s + run, n - run);
}

static void tbuf_emit(void *ctx, const char *p, size_t len)
{
	tbuf_add(ctx, p, len);
}

/* Appends s[0..n) escaped for HTML text and quoted attribute values. */
static void html_escape_add(struct tbuf *b, const char *s, size_t n)
{
	text_html_escape_to(s, n, tbuf_emit, b);
}

/* s with & < > " ' as entities; NULL gives "". */
char *text_html_escape(struct arena *a, const char *s)
{
	struct tbuf b = {NULL, 0, 0};

	if (s)
		html_escape_add(&b, s, strlen(s));
	return tbuf_finish(a, &b);
}

/* Characters XML 1.0 allows: tab, LF, CR, U+0020-D7FF, U+E000-FFFD,
 * U+10000-10FFFF (text_utf8_next already refuses surrogates). */
static bool xml_char_ok(uint32_t c)
{
	if (c == TEXT_INVALID)
		return false;
	if (c < 0x20)
		return c == '\t' || c == '\n' || c == '\r';
	return c != 0xFFFE && c != 0xFFFF;
}

/* s escaped for XML text and attributes; forbidden characters dropped,
 * invalid UTF-8 as U+FFFD. */
char *text_xml_escape(struct arena *a, const char *s)
{
	const unsigned char *u = (const unsigned char *)(s ? s : "");
	size_t n = strlen((const char *)u), i = 0;
	struct tbuf b = {NULL, 0, 0};

	while (i < n) {
		uint32_t c;
		size_t len = text_utf8_next(u + i, n - i, &c);

		if (c == TEXT_INVALID)
			tbuf_str(&b, "\xEF\xBF\xBD"); /* invalid UTF-8: U+FFFD */
		else if (!xml_char_ok(c))
			; /* dropped */
		else if (c == '&')
			tbuf_str(&b, "&amp;");
		else if (c == '<')
			tbuf_str(&b, "&lt;");
		else if (c == '>')
			tbuf_str(&b, "&gt;");
		else if (c == '"')
			tbuf_str(&b, "&quot;");
		else if (c == '\'')
			tbuf_str(&b, "&apos;");
		else
			tbuf_add(&b, (const char *)u + i, len);
		i += len;
	}
	return tbuf_finish(a, &b);
}

/* s as a CDATA section that no "]]>" inside can end early. */
char *text_xml_cdata(struct arena *a, const char *s)
{
	const unsigned char *u = (const unsigned char *)(s ? s : "");
	size_t n = strlen((const char *)u), i = 0;
	struct tbuf b = {NULL, 0, 0};

	tbuf_str(&b, "<![CDATA[");
	while (i < n) {
		uint32_t c;
		size_t len = text_utf8_next(u + i, n - i, &c);

		if (c == TEXT_INVALID)
			tbuf_str(&b, "\xEF\xBF\xBD");
		else if (!xml_char_ok(c))
			;
		else if (c == ']' && i + 2 < n && u[i + 1] == ']' && u[i + 2] == '>') {
			/* "]]>" would end the section: end it after "]]", go on with ">". */
			tbuf_str(&b, "]]]]><![CDATA[>");
			len = 3;
		} else {
			tbuf_add(&b, (const char *)u + i, len);
		}
		i += len;
	}
	tbuf_str(&b, "]]>");
	return tbuf_finish(a, &b);
}

/* ---- Markdown ---- */

#define MD_FLAGS                                                                                   \
	(MD_FLAG_NOHTML | MD_FLAG_TABLES | MD_FLAG_STRIKETHROUGH | MD_FLAG_PERMISSIVEAUTOLINKS |   \
	 MD_FLAG_TASKLISTS)

/* Links deeper than this are rendered as text (CommonMark links cannot nest,
 * so this is only a guard). */
#define MD_LINK_DEPTH 32

struct md_out {
	struct tbuf b;
	unsigned img_depth; /* > 0 inside an image: only its alt text is written */
	bool img_emitted;   /* the outermost image became an <img> tag */
	unsigned link_depth;
	bool link_open[MD_LINK_DEPTH];
};

/* Named entities decoded in attributes; others stay literal text. */
static const struct {
	const char *name;
	uint32_t cp;
} md_entities[] = {
        {"amp", '&'},       {"lt", '<'},       {"gt", '>'},       {"quot", '"'},
        {"apos", '\''},     {"colon", ':'},    {"sol", '/'},      {"Tab", '\t'},
        {"NewLine", '\n'},  {"nbsp", 0xA0},    {"copy", 0xA9},    {"reg", 0xAE},
        {"hellip", 0x2026}, {"mdash", 0x2014}, {"ndash", 0x2013}, {"lsquo", 0x2018},
        {"rsquo", 0x2019},  {"ldquo", 0x201C}, {"rdquo", 0x201D}, {"laquo", 0xAB},
        {"raquo", 0xBB},    {"middot", 0xB7},  {"times", 0xD7},   {"deg", 0xB0},
        {"euro", 0x20AC},   {"trade", 0x2122}, {"bull", 0x2022},  {"period", '.'},
        {"lpar", '('},      {"rpar", ')'},     {"num", '#'},      {"quest", '?'},
};

/* Decodes one entity "&...;" into b: numeric ones always (invalid -> U+FFFD),
 * named ones from the table, anything else kept as written. */
static void md_entity_decode(struct tbuf *b, const char *s, size_t n)
{
	if (n >= 4 && s[0] == '&' && s[1] == '#' && s[n - 1] == ';') {
		uint32_t c = 0;
		bool hex = s[2] == 'x' || s[2] == 'X';
		size_t i = hex ? 3 : 2;

		if (i >= n - 1)
			goto literal;
		for (; i < n - 1; i++) {
			unsigned d;
			char ch = s[i];

			if (ch >= '0' && ch <= '9')
				d = (unsigned)(ch - '0');
			else if (hex && ch >= 'a' && ch <= 'f')
				d = (unsigned)(ch - 'a' + 10);
			else if (hex && ch >= 'A' && ch <= 'F')
				d = (unsigned)(ch - 'A' + 10);
			else
				goto literal;
			c = c * (hex ? 16 : 10) + d;
			if (c > 0x10FFFF)
				c = 0x110000; /* saturate: invalid */
		}
		if (c == 0 || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
			c = 0xFFFD;
		utf8_put(b, c);
		return;
	}
	if (n >= 3 && s[0] == '&' && s[n - 1] == ';') {
		for (size_t k = 0; k < sizeof(md_entities) / sizeof(md_entities[0]); k++) {
			const char *name = md_entities[k].name;

			if (strlen(name) == n - 2 && memcmp(name, s + 1, n - 2) == 0) {
				utf8_put(b, md_entities[k].cp);
				return;
			}
		}
	}
literal:
	tbuf_add(b, s, n);
}

/* The attribute's text with entities decoded (malloc'd in out). */
static void md_attr_decode(struct tbuf *out, const MD_ATTRIBUTE *attr)
{
	tbuf_add(out, "", 0);
	for (unsigned i = 0; attr->substr_offsets[i] < attr->size; i++) {
		MD_OFFSET off = attr->substr_offsets[i];
		MD_SIZE len = attr->substr_offsets[i + 1] - off;

		switch (attr->substr_types[i]) {
		case MD_TEXT_NULLCHAR:
			utf8_put(out, 0xFFFD);
			break;
		case MD_TEXT_ENTITY:
			md_entity_decode(out, attr->text + off, len);
			break;
		default:
			tbuf_add(out, attr->text + off, len);
			break;
		}
	}
}

static bool prefix_ci(const char *s, size_t n, const char *prefix)
{
	size_t k = strlen(prefix);

	if (n < k)
		return false;
	for (size_t i = 0; i < k; i++) {
		char c = s[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != prefix[i])
			return false;
	}
	return true;
}

/* The scheme allow-list. A URL is relative (allowed) when no ':' comes
 * before its first '/', '?' or '#'. Otherwise its scheme - lower-cased, with
 * the tabs and newlines browsers ignore removed - must be http, https or
 * mailto; images may also be data:image/{png,jpeg,gif,webp}. */
static bool md_url_allowed(const char *u, size_t n, bool image)
{
	char scheme[16];
	size_t sl = 0, i = 0;

	/* Browsers strip leading C0 controls and spaces. */
	while (i < n && (unsigned char)u[i] <= 0x20)
		i++;
	for (; i < n; i++) {
		char c = u[i];

		if (c == '/' || c == '?' || c == '#')
			return true;
		if (c == ':')
			break;
		if (c == '\t' || c == '\n' || c == '\r')
			continue;
		if (sl + 1 >= sizeof(scheme))
			return false; /* no allowed scheme is this long */
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		scheme[sl++] = c;
	}
	if (i == n)
		return true;
	scheme[sl] = '\0';
	if (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0)
		return true;
	if (!image && strcmp(scheme, "mailto") == 0)
		return true;
	if (image && strcmp(scheme, "data") == 0) {
		static const char *const types[] = {"image/png", "image/jpeg", "image/gif",
		                                    "image/webp"};
		const char *rest = u + i + 1;
		size_t rn = n - i - 1;

		for (size_t k = 0; k < sizeof(types) / sizeof(types[0]); k++) {
			size_t tl = strlen(types[k]);

			if (prefix_ci(rest, rn, types[k]) && rn > tl &&
			    (rest[tl] == ';' || rest[tl] == ','))
				return true;
		}
	}
	return false;
}

/* Writes a URL attribute value: safe URL bytes as they are, '&' and '\''
 * HTML-escaped, everything else (spaces, quotes, controls, non-ASCII)
 * percent-encoded. */
static void md_url_write(struct tbuf *b, const char *u, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)u[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr("-_.~!*(),%#@?=;:/+$", c) != NULL) {
			tbuf_add(b, (const char *)&u[i], 1);
		} else if (c == '&') {
			tbuf_str(b, "&amp;");
		} else if (c == '\'') {
			tbuf_str(b, "&#39;");
		} else {
			char e[3] = {'%', hex[c >> 4], hex[c & 15]};

			tbuf_add(b, e, 3);
		}
	}
}

/* ` title="..."` when the attribute is not empty. */
static void md_title_write(struct tbuf *b, const MD_ATTRIBUTE *title)
{
	struct tbuf t = {NULL, 0, 0};

	if (title->size == 0)
		return;
	md_attr_decode(&t, title);
	tbuf_str(b, " title=\"");
	html_escape_add(b, t.p, t.len);
	tbuf_str(b, "\"");
	free(t.p);
}

static int md_enter_block(MD_BLOCKTYPE type, void *detail, void *userdata)
{
	struct md_out *o = userdata;
	struct tbuf *b = &o->b;
	char tmp[48];

	switch (type) {
	case MD_BLOCK_DOC:
	case MD_BLOCK_HTML:
		break;
	case MD_BLOCK_QUOTE:
		tbuf_str(b, "<blockquote>\n");
		break;
	case MD_BLOCK_UL:
		tbuf_str(b, "<ul>\n");
		break;
	case MD_BLOCK_OL: {
		const MD_BLOCK_OL_DETAIL *d = detail;
		int w;

		if (d->start == 1) {
			tbuf_str(b, "<ol>\n");
			break;
		}
		w = snprintf(tmp, sizeof(tmp), "<ol start=\"%u\">\n", d->start);
		if (w < 0 || (size_t)w >= sizeof(tmp))
			return -1;
		tbuf_str(b, tmp);
		break;
	}
	case MD_BLOCK_LI: {
		const MD_BLOCK_LI_DETAIL *d = detail;

		if (d->is_task) {
			tbuf_str(b,
			         "<li class=\"task-list-item\"><input type=\"checkbox\" disabled");
			if (d->task_mark == 'x' || d->task_mark == 'X')
				tbuf_str(b, " checked");
			tbuf_str(b, "> ");
		} else {
			tbuf_str(b, "<li>");
		}
		break;
	}
	case MD_BLOCK_HR:
		tbuf_str(b, "<hr>\n");
		break;
	case MD_BLOCK_H: {
		const MD_BLOCK_H_DETAIL *d = detail;
		unsigned level = d->level >= 1 && d->level <= 6 ? d->level : 6;
		char h[5] = {'<', 'h', (char)('0' + level), '>', '\0'};

		tbuf_str(b, h);
		break;
	}
	case MD_BLOCK_CODE: {
		const MD_BLOCK_CODE_DETAIL *d = detail;

		tbuf_str(b, "<pre><code");
		if (d->lang.size > 0) {
			struct tbuf l = {NULL, 0, 0};

			md_attr_decode(&l, &d->lang);
			tbuf_str(b, " class=\"language-");
			html_escape_add(b, l.p, l.len);
			tbuf_str(b, "\"");
			free(l.p);
		}
		tbuf_str(b, ">");
		break;
	}
	case MD_BLOCK_P:
		tbuf_str(b, "<p>");
		break;
	case MD_BLOCK_TABLE:
		tbuf_str(b, "<table>\n");
		break;
	case MD_BLOCK_THEAD:
		tbuf_str(b, "<thead>\n");
		break;
	case MD_BLOCK_TBODY:
		tbuf_str(b, "<tbody>\n");
		break;
	case MD_BLOCK_TR:
		tbuf_str(b, "<tr>\n");
		break;
	case MD_BLOCK_TH:
	case MD_BLOCK_TD: {
		const MD_BLOCK_TD_DETAIL *d = detail;
		const char *cell = type == MD_BLOCK_TH ? "<th" : "<td";

		tbuf_str(b, cell);
		if (d->align == MD_ALIGN_LEFT)
			tbuf_str(b, " align=\"left\"");
		else if (d->align == MD_ALIGN_CENTER)
			tbuf_str(b, " align=\"center\"");
		else if (d->align == MD_ALIGN_RIGHT)
			tbuf_str(b, " align=\"right\"");
		tbuf_str(b, ">");
		break;
	}
	}
	return 0;
}

static int md_leave_block(MD_BLOCKTYPE type, void *detail, void *userdata)
{
	struct md_out *o = userdata;
	struct tbuf *b = &o->b;

	switch (type) {
	case MD_BLOCK_DOC:
	case MD_BLOCK_HTML:
	case MD_BLOCK_HR:
		break;
	case MD_BLOCK_QUOTE:
		tbuf_str(b, "</blockquote>\n");
		break;
	case MD_BLOCK_UL:
		tbuf_str(b, "</ul>\n");
		break;
	case MD_BLOCK_OL:
		tbuf_str(b, "</ol>\n");
		break;
	case MD_BLOCK_LI:
		tbuf_str(b, "</li>\n");
		break;
	case MD_BLOCK_H: {
		const MD_BLOCK_H_DETAIL *d = detail;
		unsigned level = d->level >= 1 && d->level <= 6 ? d->level : 6;
		char h[7] = {'<', '/', 'h', (char)('0' + level), '>', '\n', '\0'};

		tbuf_str(b, h);
		break;
	}
	case MD_BLOCK_CODE:
		tbuf_str(b, "</code></pre>\n");
		break;
	case MD_BLOCK_P:
		tbuf_str(b, "</p>\n");
		break;
	case MD_BLOCK_TABLE:
		tbuf_str(b, "</table>\n");
		break;
	case MD_BLOCK_THEAD:
		tbuf_str(b, "</thead>\n");
		break;
	case MD_BLOCK_TBODY:
		tbuf_str(b, "</tbody>\n");
		break;
	case MD_BLOCK_TR:
		tbuf_str(b, "</tr>\n");
		break;
	case MD_BLOCK_TH:
		tbuf_str(b, "</th>\n");
		break;
	case MD_BLOCK_TD:
		tbuf_str(b, "</td>\n");
		break;
	}
	return 0;
}

static const char *md_span_tag(MD_SPANTYPE type, bool open)
{
	switch (type) {
	case MD_SPAN_EM:
		return open ? "<em>" : "</em>";
	case MD_SPAN_STRONG:
		return open ? "<strong>" : "</strong>";
	case MD_SPAN_CODE:
		return open ? "<code>" : "</code>";
	case MD_SPAN_DEL:
		return open ? "<del>" : "</del>";
	case MD_SPAN_U:
		return open ? "<u>" : "</u>";
	default:
		return "";
	}
}

static int md_enter_span(MD_SPANTYPE type, void *detail, void *userdata)
{
	struct md_out *o = userdata;
	struct tbuf *b = &o->b;

	if (type == MD_SPAN_IMG) {
		const MD_SPAN_IMG_DETAIL *d = detail;

		if (o->img_depth++ > 0)
			return 0;
		struct tbuf src = {NULL, 0, 0};

		md_attr_decode(&src, &d->src);
		o->img_emitted = md_url_allowed(src.p, src.len, true);
		if (o->img_emitted) {
			tbuf_str(b, "<img src=\"");
			md_url_write(b, src.p, src.len);
			tbuf_str(b, "\" alt=\"");
		}
		free(src.p);
		return 0;
	}
	if (o->img_depth > 0)
		return 0; /* inside alt text: no markup */
	if (type == MD_SPAN_A) {
		const MD_SPAN_A_DETAIL *d = detail;
		struct tbuf href = {NULL, 0, 0};
		bool ok;

		md_attr_decode(&href, &d->href);
		ok = o->link_depth < MD_LINK_DEPTH && md_url_allowed(href.p, href.len, false);
		if (ok) {
			tbuf_str(b, "<a href=\"");
			md_url_write(b, href.p, href.len);
			tbuf_str(b, "\"");
			md_title_write(b, &d->title);
			tbuf_str(b, ">");
		}
		free(href.p);
		if (o->link_depth < MD_LINK_DEPTH)
			o->link_open[o->link_depth] = ok;
		o->link_depth++;
		return 0;
	}
	tbuf_str(b, md_span_tag(type, true));
	return 0;
}

static int md_leave_span(MD_SPANTYPE type, void *detail, void *userdata)
{
	struct md_out *o = userdata;
	struct tbuf *b = &o->b;

	if (type == MD_SPAN_IMG) {
		const MD_SPAN_IMG_DETAIL *d = detail;

		if (o->img_depth == 0 || --o->img_depth > 0)
			return 0;
		if (o->img_emitted) {
			tbuf_str(b, "\"");
			md_title_write(b, &d->title);
			tbuf_str(b, ">");
		}
		o->img_emitted = false;
		return 0;
	}
	if (o->img_depth > 0)
		return 0;
	if (type == MD_SPAN_A) {
		if (o->link_depth == 0)
			return 0;
		o->link_depth--;
		if (o->link_depth < MD_LINK_DEPTH && o->link_open[o->link_depth])
			tbuf_str(b, "</a>");
		return 0;
	}
	tbuf_str(b, md_span_tag(type, false));
	return 0;
}

/* An entity as md4c reports it is "&name;", "&#123;" or "&#x1F;": safe to
 * pass through as written in text and quoted attributes. */
static bool md_entity_syntax_ok(const char *s, size_t n)
{
	if (n < 3 || s[0] != '&' || s[n - 1] != ';')
		return false;
	for (size_t i = 1; i < n - 1; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      (c == '#' && i == 1)))
			return false;
	}
	return true;
}

static int md_text(MD_TEXTTYPE type, const MD_CHAR *text, MD_SIZE size, void *userdata)
{
	struct md_out *o = userdata;
	struct tbuf *b = &o->b;
	bool in_alt = o->img_depth > 0;

	switch (type) {
	case MD_TEXT_NULLCHAR:
		tbuf_str(b, "\xEF\xBF\xBD");
		break;
	case MD_TEXT_BR:
		tbuf_str(b, in_alt ? " " : "<br>\n");
		break;
	case MD_TEXT_SOFTBR:
		tbuf_str(b, in_alt ? " " : "\n");
		break;
	case MD_TEXT_ENTITY:
		if (md_entity_syntax_ok(text, size))
			tbuf_add(b, text, size);
		else
			html_escape_add(b, text, size);
		break;
	default:
		/* Normal text, code, and raw HTML (never live: NOHTML). */
		html_escape_add(b, text, size);
		break;
	}
	return 0;
}

/* Safe HTML for md[0..len): md4c's parser, our escaping renderer. */
char *text_markdown_html(struct arena *a, const char *md, size_t len)
{
	MD_PARSER parser;
	struct md_out o;
	char *out = NULL;

	if (md == NULL || len > UINT32_MAX) {
		log_error("text_markdown_html: no input or input too large");
		return NULL;
	}
	memset(&parser, 0, sizeof(parser));
	memset(&o, 0, sizeof(o));
	parser.flags = MD_FLAGS;
	parser.enter_block = md_enter_block;
	parser.leave_block = md_leave_block;
	parser.enter_span = md_enter_span;
	parser.leave_span = md_leave_span;
	parser.text = md_text;
	if (md_parse(md, (MD_SIZE)len, &parser, &o) != 0) {
		log_error("text_markdown_html: markdown rendering failed");
		goto out;
	}
	out = tbuf_finish(a, &o.b);
out:
	free(o.b.p);
	return out;
}

/* ---- full-text search terms (keep in step with sql/004_search.sql) ---- */

/* The Han ranges of search_index_text() in 004_search.sql. */
static bool search_is_han(uint32_t c)
{
	return (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x4E00 && c <= 0x9FFF) ||
	       (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x20000 && c <= 0x2FA1F);
}

static bool search_is_word_ascii(uint32_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

struct search_terms {
	struct text_term *v;
	size_t n;
	size_t cap;
};

static void search_terms_add(struct arena *a, struct search_terms *t, char *text, size_t len,
                             bool prefix, bool ascii)
{
	if (t->n == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 16;
		struct text_term *v = arena_alloc(a, ncap * sizeof(*v));

		if (t->n)
			memcpy(v, t->v, t->n * sizeof(*v));
		t->v = v;
		t->cap = ncap;
	}
	t->v[t->n].text = text;
	t->v[t->n].len = len;
	t->v[t->n].prefix = prefix;
	t->v[t->n].ascii = ascii;
	t->n++;
}

/* ASCII words lower-cased (prefix terms), Han runs as overlapping bigrams, a
 * one-character Han run as a prefix term; everything else separates. */
size_t text_search_terms(struct arena *a, const char *q, struct text_term **out)
{
	const unsigned char *s = (const unsigned char *)q;
	struct search_terms t = {NULL, 0, 0};
	size_t n = q ? strlen(q) : 0, i = 0;

	while (i < n) {
		uint32_t c;
		size_t len = text_utf8_next(s + i, n - i, &c);

		if (search_is_word_ascii(c)) {
			size_t start = i, k;
			char *w;

			while (i < n && search_is_word_ascii(s[i]))
				i++;
			w = arena_strndup(a, q + start, i - start);
			for (k = 0; w[k]; k++) {
				if (w[k] >= 'A' && w[k] <= 'Z')
					w[k] = (char)(w[k] - 'A' + 'a');
			}
			search_terms_add(a, &t, w, k, true, true);
		} else if (search_is_han(c)) {
			size_t start = i, chars = 0, prev = i;

			while (i < n) {
				uint32_t h;
				size_t hl = text_utf8_next(s + i, n - i, &h);

				if (!search_is_han(h))
					break;
				if (chars >= 1) /* bigram: the previous character and this one */
					search_terms_add(a, &t,
					                 arena_strndup(a, q + prev, i + hl - prev),
					                 i + hl - prev, false, false);
				prev = i;
				i += hl;
				chars++;
			}
			if (chars == 1)
				search_terms_add(a, &t, arena_strndup(a, q + start, i - start),
				                 i - start, true, false);
		} else {
			i += len;
		}
	}
	*out = t.v;
	return t.n;
}

/* Quoted lexemes ANDed, prefix terms with ":*"; lexemes hold only [a-z0-9]
 * and Han characters, so nothing in them needs escaping. */
char *text_tsquery(struct arena *a, const char *q)
{
	struct text_term *v;
	size_t n, total = 1;
	char *out, *p;

	if (q == NULL)
		return NULL;
	n = text_search_terms(a, q, &v);
	if (n == 0)
		return NULL;
	/* Each term: 'lexeme':* plus " & ". */
	for (size_t i = 0; i < n; i++)
		total += v[i].len + 7;
	out = p = arena_alloc(a, total);
	for (size_t i = 0; i < n; i++) {
		if (i) {
			memcpy(p, " & ", 3);
			p += 3;
		}
		*p++ = '\'';
		memcpy(p, v[i].text, v[i].len);
		p += v[i].len;
		*p++ = '\'';
		if (v[i].prefix) {
			memcpy(p, ":*", 2);
			p += 2;
		}
	}
	*p = '\0';
	return out;
}
