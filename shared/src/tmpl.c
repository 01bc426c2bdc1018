/* tmpl.c - a logic-less template renderer (a Mustache subset) over cJSON.
 *
 * Each source is compiled once into a flat node list: text runs, variables,
 * raw variables, sections, inverted sections and partials. A section's node
 * records where its body ends, so rendering walks index ranges and never
 * re-parses. Names are split on '.' at compile time. Everything a set holds
 * (the text copies, names, nodes) lives in one arena of its own.
 *
 * Rendering keeps a stack of const cJSON * (at most TMPL_MAX_CONTEXT deep;
 * a section that would go deeper renders nothing) and appends to one
 * malloc'd buffer that grows by doubling and joins the caller's arena at the
 * end, so output is linear in its size. Hostile data can only make output
 * big or loops long: a render stops with NULL, like an allocation failure,
 * past TMPL_MAX_OUTPUT bytes or TMPL_MAX_STEPS node visits.
 */
#include "tmpl.h"
#include "text.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Sections open at once in one template (a compile error beyond). */
#define TMPL_MAX_NEST 64
/* Context stack depth at render time (deeper sections render nothing). */
#define TMPL_MAX_CONTEXT 64
/* Partials inside partials (deeper ones render nothing). */
#define TMPL_MAX_PARTIAL 16
/* A render fails (NULL) past this many output bytes ... */
#define TMPL_MAX_OUTPUT (16u * 1024u * 1024u)
/* ... or this many nodes visited (nested loops over big arrays). */
#define TMPL_MAX_STEPS (1u << 21)

enum tmpl_kind {
	TMPL_TEXT,     /* literal bytes */
	TMPL_VAR,      /* {{name}}: escaped */
	TMPL_RAW,      /* {{{name_html}}} or {{& name_html}}: as is */
	TMPL_SECTION,  /* {{#name}} */
	TMPL_INVERTED, /* {{^name}} */
	TMPL_PARTIAL,  /* {{> name}} */
};

struct tmpl_node {
	enum tmpl_kind kind;
	unsigned line;    /* where the tag starts (error messages) */
	const char *str;  /* TEXT: its bytes; else the name as written */
	size_t len;       /* length of str */
	const char **seg; /* name split on '.'; nseg 0 for "." */
	size_t nseg;
	size_t end;     /* SECTION/INVERTED: index of the node after the body */
	size_t partial; /* PARTIAL: index of the template in the set */
};

struct tmpl {
	const char *name;
	struct tmpl_node *nodes;
	size_t n;
};

struct tmpl_set {
	struct arena *mem; /* owns everything below */
	struct tmpl *t;
	size_t n;
};

/* Compile state for one template. */
struct parse {
	struct arena *mem;
	const char *tname;
	struct tmpl_node *v; /* malloc'd while parsing, copied to mem at the end */
	size_t n, cap;
	size_t open[TMPL_MAX_NEST]; /* indexes of the sections not yet closed */
	size_t nopen;
	char *err;
	size_t errlen;
};

/* Render state. */
struct render {
	const struct tmpl_set *set;
	char *buf;
	size_t len, cap;
	const cJSON *ctx[TMPL_MAX_CONTEXT];
	size_t depth;
	size_t steps;
	bool failed; /* out of memory or over a limit: stop everything */
};

static void set_err(char *err, size_t errlen, const char *tname, unsigned line, const char *fmt,
                    ...) __attribute__((format(printf, 5, 6)));

/* "<template>:<line>: <reason>" into err (when there is room for it). */
static void set_err(char *err, size_t errlen, const char *tname, unsigned line, const char *fmt,
                    ...)
{
	va_list ap;
	int n;

	if (err == NULL || errlen == 0)
		return;
	n = snprintf(err, errlen, "%s:%u: ", tname ? tname : "", line);
	if (n < 0) {
		err[0] = '\0';
		return;
	}
	if ((size_t)n >= errlen)
		return; /* truncated, still NUL-terminated */
	va_start(ap, fmt);
	if (vsnprintf(err + n, errlen - (size_t)n, fmt, ap) < 0)
		err[n] = '\0';
	va_end(ap);
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static unsigned count_lines(const char *s, size_t n)
{
	unsigned k = 0;

	for (size_t i = 0; i < n; i++)
		k += s[i] == '\n';
	return k;
}

static struct tmpl_node *parse_push(struct parse *p, enum tmpl_kind kind, unsigned line)
{
	struct tmpl_node *nd;

	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 32;
		struct tmpl_node *v = realloc(p->v, cap * sizeof(*v));

		if (v == NULL)
			return NULL;
		p->v = v;
		p->cap = cap;
	}
	nd = &p->v[p->n++];
	memset(nd, 0, sizeof(*nd));
	nd->kind = kind;
	nd->line = line;
	return nd;
}

/* Fills nd's name from s[0..n) (already trimmed): "." or segments joined by
 * '.', none empty, no whitespace or braces. -1 with err set otherwise. */
static int parse_name(struct parse *p, struct tmpl_node *nd, const char *s, size_t n)
{
	char *copy;
	size_t k = 1;

	if (n == 0) {
		set_err(p->err, p->errlen, p->tname, nd->line, "empty tag name");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f || c == ' ' || c == '{' || c == '}') {
			set_err(p->err, p->errlen, p->tname, nd->line, "bad tag name '%.*s'",
			        (int)n, s);
			return -1;
		}
		k += c == '.';
	}
	copy = arena_strndup(p->mem, s, n);
	nd->str = copy;
	nd->len = n;
	if (n == 1 && s[0] == '.') {
		nd->nseg = 0;
		return 0;
	}
	nd->seg = arena_alloc(p->mem, k * sizeof(*nd->seg));
	/* Split a second copy in place: "a.b" -> "a\0b". */
	copy = arena_strndup(p->mem, s, n);
	nd->nseg = 0;
	for (char *q = copy;;) {
		char *dot = strchr(q, '.');

		if (dot)
			*dot = '\0';
		if (*q == '\0') {
			set_err(p->err, p->errlen, p->tname, nd->line,
			        "empty segment in name '%.*s'", (int)n, s);
			return -1;
		}
		nd->seg[nd->nseg++] = q;
		if (dot == NULL)
			break;
		q = dot + 1;
	}
	return 0;
}

static bool ends_with_html(const struct tmpl_node *nd)
{
	const char *last;
	size_t n;

	if (nd->nseg == 0)
		return false;
	last = nd->seg[nd->nseg - 1];
	n = strlen(last);
	return n >= 5 && memcmp(last + n - 5, "_html", 5) == 0;
}

/* One tag's inside s[0..n) (between the braces, untrimmed), starting at
 * line; raw3 for the {{{ }}} form. */
static int parse_tag(struct parse *p, const char *s, size_t n, unsigned line, bool raw3)
{
	struct tmpl_node *nd;
	enum tmpl_kind kind = TMPL_VAR;
	char sigil = 0;

	while (n > 0 && is_space(s[0])) {
		s++;
		n--;
	}
	while (n > 0 && is_space(s[n - 1]))
		n--;
	if (raw3) {
		kind = TMPL_RAW;
	} else if (n > 0 && strchr("#^/>!&=", s[0]) != NULL) {
		sigil = s[0];
		s++;
		n--;
		while (n > 0 && is_space(s[0])) {
			s++;
			n--;
		}
	}
	switch (sigil) {
	case '!':
		return 0;
	case '=':
		set_err(p->err, p->errlen, p->tname, line, "set delimiters are not supported");
		return -1;
	case '#':
		kind = TMPL_SECTION;
		break;
	case '^':
		kind = TMPL_INVERTED;
		break;
	case '>':
		kind = TMPL_PARTIAL;
		break;
	case '&':
		kind = TMPL_RAW;
		break;
	case '/': {
		struct tmpl_node *open;

		if (p->nopen == 0) {
			set_err(p->err, p->errlen, p->tname, line, "'{{/%.*s}}' closes nothing",
			        (int)n, s);
			return -1;
		}
		open = &p->v[p->open[p->nopen - 1]];
		if (open->len != n || memcmp(open->str, s, n) != 0) {
			set_err(p->err, p->errlen, p->tname, line, "'{{/%.*s}}' closes '%s'",
			        (int)n, s, open->str);
			return -1;
		}
		open->end = p->n;
		p->nopen--;
		return 0;
	}
	default:
		break;
	}

	nd = parse_push(p, kind, line);
	if (nd == NULL) {
		set_err(p->err, p->errlen, p->tname, line, "out of memory");
		return -1;
	}
	if (parse_name(p, nd, s, n) < 0)
		return -1;
	if (kind == TMPL_RAW && !ends_with_html(nd)) {
		set_err(p->err, p->errlen, p->tname, line,
		        "raw tag on '%s' (only names ending in _html are output unescaped)",
		        nd->str);
		return -1;
	}
	if (kind == TMPL_SECTION || kind == TMPL_INVERTED) {
		if (p->nopen == TMPL_MAX_NEST) {
			set_err(p->err, p->errlen, p->tname, line, "sections nested deeper than %d",
			        TMPL_MAX_NEST);
			return -1;
		}
		p->open[p->nopen++] = p->n - 1;
	}
	return 0;
}

/* Compiles text into t (nodes in p->mem). Partials are resolved later. */
static int parse_template(struct parse *p, struct tmpl *t, const char *text)
{
	const char *s = text;
	unsigned line = 1;
	int rc = -1;

	for (;;) {
		const char *open = strstr(s, "{{");
		const char *body, *close;
		bool raw3;
		size_t run = open ? (size_t)(open - s) : strlen(s);

		if (run > 0) {
			struct tmpl_node *nd = parse_push(p, TMPL_TEXT, line);

			if (nd == NULL) {
				set_err(p->err, p->errlen, p->tname, line, "out of memory");
				goto out;
			}
			nd->str = s;
			nd->len = run;
			line += count_lines(s, run);
		}
		if (open == NULL)
			break;
		raw3 = open[2] == '{';
		body = open + (raw3 ? 3 : 2);
		close = strstr(body, raw3 ? "}}}" : "}}");
		if (close == NULL) {
			set_err(p->err, p->errlen, p->tname, line, "unclosed tag");
			goto out;
		}
		if (parse_tag(p, body, (size_t)(close - body), line, raw3) < 0)
			goto out;
		line += count_lines(body, (size_t)(close - body));
		s = close + (raw3 ? 3 : 2);
	}
	if (p->nopen > 0) {
		const struct tmpl_node *nd = &p->v[p->open[p->nopen - 1]];

		set_err(p->err, p->errlen, p->tname, nd->line, "unclosed section '%s'", nd->str);
		goto out;
	}
	t->n = p->n;
	t->nodes = arena_memdup(p->mem, p->v, p->n * sizeof(*p->v));
	rc = 0;
out:
	free(p->v);
	p->v = NULL;
	p->n = p->cap = p->nopen = 0;
	return rc;
}

static long set_find(const struct tmpl_set *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++) {
		if (strcmp(s->t[i].name, name) == 0)
			return (long)i;
	}
	return -1;
}

/* Compiles every source; NULL with "<template>:<line>: <reason>" in err. */
struct tmpl_set *tmpl_set_new(const struct tmpl_source *sources, char *err, size_t errlen)
{
	struct tmpl_set *s = NULL;
	struct parse p;
	size_t count = 0;

	if (err && errlen)
		err[0] = '\0';
	while (sources && sources[count].name)
		count++;
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		set_err(err, errlen, "", 0, "out of memory");
		goto fail;
	}
	s->mem = arena_new();
	s->t = arena_alloc(s->mem, (count ? count : 1) * sizeof(*s->t));
	memset(&p, 0, sizeof(p));
	p.mem = s->mem;
	p.err = err;
	p.errlen = errlen;
	for (size_t i = 0; i < count; i++) {
		const char *name = sources[i].name;
		const char *text = sources[i].text;

		if (*name == '\0') {
			set_err(err, errlen, name, 0, "empty template name");
			goto fail;
		}
		if (set_find(s, name) >= 0) {
			set_err(err, errlen, name, 1, "duplicate template '%s'", name);
			goto fail;
		}
		if (text == NULL) {
			set_err(err, errlen, name, 0, "no text");
			goto fail;
		}
		s->t[i].name = arena_strdup(s->mem, name);
		p.tname = s->t[i].name;
		if (parse_template(&p, &s->t[i], arena_strdup(s->mem, text)) < 0)
			goto fail;
		s->n = i + 1;
	}
	for (size_t i = 0; i < s->n; i++) {
		for (size_t j = 0; j < s->t[i].n; j++) {
			struct tmpl_node *nd = &s->t[i].nodes[j];
			long k;

			if (nd->kind != TMPL_PARTIAL)
				continue;
			k = set_find(s, nd->str);
			if (k < 0) {
				set_err(err, errlen, s->t[i].name, nd->line, "unknown partial '%s'",
				        nd->str);
				goto fail;
			}
			nd->partial = (size_t)k;
		}
	}
	return s;
fail:
	tmpl_set_free(s);
	return NULL;
}

/* Frees the set and everything compiled into it; NULL ok. */
void tmpl_set_free(struct tmpl_set *s)
{
	if (s == NULL)
		return;
	arena_free(s->mem);
	free(s);
}

/* 1 when s has a template called name, else 0. */
int tmpl_has(const struct tmpl_set *s, const char *name)
{
	return s != NULL && name != NULL && set_find(s, name) >= 0;
}

/* Room for n more bytes in r->buf; false (and r->failed) when over the
 * output cap or out of memory. */
static bool out_reserve(struct render *r, size_t n)
{
	size_t cap;
	char *buf;

	if (r->failed)
		return false;
	if (n > TMPL_MAX_OUTPUT - r->len) {
		r->failed = true;
		return false;
	}
	if (r->len + n + 1 <= r->cap)
		return true;
	cap = r->cap ? r->cap : 4096;
	while (cap < r->len + n + 1)
		cap *= 2;
	buf = realloc(r->buf, cap);
	if (buf == NULL) {
		r->failed = true;
		return false;
	}
	r->buf = buf;
	r->cap = cap;
	return true;
}

static void out_add(struct render *r, const char *s, size_t n)
{
	if (n == 0 || !out_reserve(r, n))
		return;
	memcpy(r->buf + r->len, s, n);
	r->len += n;
}

static void out_emit(void *ctx, const char *p, size_t len)
{
	out_add(ctx, p, len);
}

/* s[0..n) with & < > " ' as entities (text_html_escape's rules). */
static void out_escaped(struct render *r, const char *s, size_t n)
{
	text_html_escape_to(s, n, out_emit, r);
}

/* Integral values as integers ("42", "-3", "1700000000"), others %.15g. */
static void out_number(struct render *r, double d)
{
	char num[64];
	int n;

	if (d == 0)
		n = snprintf(num, sizeof(num), "0"); /* -0 too */
	else if (isfinite(d) && d == trunc(d) && fabs(d) < 1e17)
		n = snprintf(num, sizeof(num), "%.0f", d);
	else
		n = snprintf(num, sizeof(num), "%.15g", d);
	if (n > 0 && (size_t)n < sizeof(num))
		out_add(r, num, (size_t)n);
}

static void out_value(struct render *r, const cJSON *v, bool raw)
{
	const char *s = NULL;

	if (v == NULL)
		return;
	if (cJSON_IsString(v) || cJSON_IsRaw(v))
		s = v->valuestring;
	else if (cJSON_IsTrue(v))
		s = "true";
	else if (cJSON_IsFalse(v))
		s = "false";
	else if (cJSON_IsNumber(v))
		out_number(r, v->valuedouble);
	/* null, arrays and objects print nothing */
	if (s == NULL)
		return;
	if (raw)
		out_add(r, s, strlen(s));
	else
		out_escaped(r, s, strlen(s));
}

/* The value a node's name refers to: "." is the top of the stack; the first
 * segment is looked up from the top down, the rest descend from there. */
static const cJSON *lookup(const struct render *r, const struct tmpl_node *nd)
{
	const cJSON *v = NULL;

	if (r->depth == 0)
		return NULL;
	if (nd->nseg == 0)
		return r->ctx[r->depth - 1];
	for (size_t i = r->depth; i-- > 0;) {
		if (cJSON_IsObject(r->ctx[i])) {
			v = cJSON_GetObjectItemCaseSensitive(r->ctx[i], nd->seg[0]);
			if (v != NULL)
				break;
		}
	}
	for (size_t k = 1; v != NULL && k < nd->nseg; k++)
		v = cJSON_IsObject(v) ? cJSON_GetObjectItemCaseSensitive(v, nd->seg[k]) : NULL;
	return v;
}

/* false/null/missing/""/0/[] are falsy; objects (even empty) are truthy. */
static bool truthy(const cJSON *v)
{
	if (v == NULL || cJSON_IsNull(v) || cJSON_IsFalse(v) || cJSON_IsInvalid(v))
		return false;
	if (cJSON_IsString(v) || cJSON_IsRaw(v))
		return v->valuestring != NULL && v->valuestring[0] != '\0';
	if (cJSON_IsNumber(v))
		return v->valuedouble != 0;
	if (cJSON_IsArray(v))
		return v->child != NULL;
	return true;
}

static void render_range(struct render *r, const struct tmpl *t, size_t from, size_t to,
                         unsigned pdepth);

/* The body of section nd (t->nodes[i]) with v on top of the stack; nothing
 * when the stack is full. */
static void render_with(struct render *r, const struct tmpl *t, size_t i, const cJSON *v,
                        unsigned pdepth)
{
	if (r->depth == TMPL_MAX_CONTEXT)
		return;
	r->ctx[r->depth++] = v;
	render_range(r, t, i + 1, t->nodes[i].end, pdepth);
	r->depth--;
}

static void render_range(struct render *r, const struct tmpl *t, size_t from, size_t to,
                         unsigned pdepth)
{
	size_t i = from;

	while (i < to && !r->failed) {
		const struct tmpl_node *nd = &t->nodes[i];
		const cJSON *v;

		if (++r->steps > TMPL_MAX_STEPS) {
			r->failed = true;
			return;
		}
		switch (nd->kind) {
		case TMPL_TEXT:
			out_add(r, nd->str, nd->len);
			break;
		case TMPL_VAR:
		case TMPL_RAW:
			out_value(r, lookup(r, nd), nd->kind == TMPL_RAW);
			break;
		case TMPL_SECTION:
			v = lookup(r, nd);
			if (!truthy(v))
				break;
			if (cJSON_IsArray(v)) {
				for (const cJSON *it = v->child; it != NULL && !r->failed;
				     it = it->next)
					render_with(r, t, i, it, pdepth);
			} else {
				render_with(r, t, i, v, pdepth);
			}
			break;
		case TMPL_INVERTED:
			if (!truthy(lookup(r, nd)))
				render_range(r, t, i + 1, nd->end, pdepth);
			break;
		case TMPL_PARTIAL:
			if (pdepth < TMPL_MAX_PARTIAL) {
				const struct tmpl *pt = &r->set->t[nd->partial];

				render_range(r, pt, 0, pt->n, pdepth + 1);
			}
			break;
		}
		i = nd->kind == TMPL_SECTION || nd->kind == TMPL_INVERTED ? nd->end : i + 1;
	}
}

/* Template name over data into an arena string (length in *len); NULL for
 * an unknown template, or when memory or the output/step caps ran out. */
char *tmpl_render(const struct tmpl_set *s, const char *name, const cJSON *data, struct arena *a,
                  size_t *len)
{
	struct render r;
	long k;

	if (len)
		*len = 0;
	if (s == NULL || name == NULL || a == NULL)
		return NULL;
	k = set_find(s, name);
	if (k < 0)
		return NULL;
	memset(&r, 0, sizeof(r));
	r.set = s;
	if (data != NULL)
		r.ctx[r.depth++] = data;
	render_range(&r, &s->t[k], 0, s->t[k].n, 0);
	if (!out_reserve(&r, 0)) {
		free(r.buf);
		return NULL;
	}
	r.buf[r.len] = '\0';
	arena_defer(a, free, r.buf);
	if (len)
		*len = r.len;
	return r.buf;
}

cJSON *tmpl_date(const char *s)
{
	static const char *const months[] = {"January",   "February", "March",    "April",
	                                     "May",       "June",     "July",     "August",
	                                     "September", "October",  "November", "December"};
	char iso[80], human[80];
	int y, m, d, hh, mm, ss;
	cJSON *o;

	if (s == NULL || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &y, &m, &d, &hh, &mm, &ss) != 6 ||
	    m < 1 || m > 12 || d < 1 || d > 31 || hh > 23 || mm > 59 || ss > 60)
		return cJSON_CreateNull();
	snprintf(iso, sizeof(iso), "%04d-%02d-%02dT%02d:%02d:%02dZ", y, m, d, hh, mm, ss);
	snprintf(human, sizeof(human), "%d %s %04d", d, months[m - 1], y);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "iso", iso);
	cJSON_AddStringToObject(o, "human", human);
	return o;
}
