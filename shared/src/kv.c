/* kv.c - ordered name/value lists in an arena, and the URL-encoded and
 * Cookie parsers that fill them. */
#include "kv.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "arena.h"

#define KV_FIRST_CAP 8

/* Makes room for one more entry; the old array stays in the arena. */
static void kv_grow(struct arena *a, struct kvlist *l)
{
	size_t cap;
	struct kv *items;

	if (l->n < l->cap)
		return;
	cap = l->cap == 0 ? KV_FIRST_CAP : l->cap * 2;
	items = arena_alloc(a, cap * sizeof(*items));
	if (l->n > 0)
		memcpy(items, l->items, l->n * sizeof(*items));
	l->items = items;
	l->cap = cap;
}

/* Appends without copying: name and value must outlive the list. */
void kv_add_ref(struct arena *a, struct kvlist *l, const char *name, const char *value)
{
	kv_grow(a, l);
	l->items[l->n].name = name;
	l->items[l->n].value = value != NULL ? value : "";
	l->n++;
}

/* Appends arena copies of name and value (a NULL value becomes ""). */
void kv_add(struct arena *a, struct kvlist *l, const char *name, const char *value)
{
	kv_add_ref(a, l, arena_strdup(a, name), arena_strdup(a, value != NULL ? value : ""));
}

/* First value for name (ASCII case-insensitive), or NULL. */
const char *kv_get(const struct kvlist *l, const char *name)
{
	size_t i;

	if (l == NULL || name == NULL)
		return NULL;
	for (i = 0; i < l->n; i++)
		if (strcasecmp(l->items[i].name, name) == 0)
			return l->items[i].value;
	return NULL;
}

/* The first entry for name keeps its place with the new value; later ones go. */
void kv_set(struct arena *a, struct kvlist *l, const char *name, const char *value)
{
	size_t i, j = 0;
	bool found = false;

	for (i = 0; i < l->n; i++) {
		if (strcasecmp(l->items[i].name, name) == 0) {
			if (found)
				continue;
			found = true;
			l->items[i].name = arena_strdup(a, name);
			l->items[i].value = arena_strdup(a, value != NULL ? value : "");
		}
		l->items[j++] = l->items[i];
	}
	l->n = j;
	if (!found)
		kv_add(a, l, name, value);
}

/* Number of entries for name (case-insensitive). */
size_t kv_count(const struct kvlist *l, const char *name)
{
	size_t i, n = 0;

	if (l == NULL || name == NULL)
		return 0;
	for (i = 0; i < l->n; i++)
		if (strcasecmp(l->items[i].name, name) == 0)
			n++;
	return n;
}

static int kv_hex(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *kv_escape(struct arena *a, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	char *out = arena_alloc(a, strlen(s) * 3 + 1);

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.' || *p == '~') {
			out[o++] = (char)*p;
		} else {
			out[o++] = '%';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		}
	}
	out[o] = '\0';
	return out;
}

/* Percent-decodes s[0..len); NULL on a malformed escape or a NUL byte. */
char *kv_unescape(struct arena *a, const char *s, size_t len, bool plus_is_space)
{
	char *out;
	size_t i, o = 0;
	int hi, lo;
	unsigned char c;

	if (s == NULL || len == SIZE_MAX)
		return NULL;
	out = arena_alloc(a, len + 1);
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c == '%') {
			if (len - i < 3)
				return NULL;
			hi = kv_hex((unsigned char)s[i + 1]);
			lo = kv_hex((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0)
				return NULL;
			c = (unsigned char)(hi * 16 + lo);
			i += 2;
		} else if (c == '+' && plus_is_space) {
			c = ' ';
		}
		if (c == '\0')
			return NULL;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return out;
}

/* Parses "a=1&b=two%20x" into l; -1 (and nothing added) on a bad escape.
 * Empty pairs and pairs with an empty name are skipped; "a" means a="". */
int kv_parse_urlencoded(struct arena *a, struct kvlist *l, const char *s, size_t len)
{
	struct kvlist tmp = {0};
	const char *p, *end, *amp, *eq;
	char *name, *value;
	size_t i;

	if (s == NULL)
		return 0;
	p = s;
	end = s + len;
	while (p < end) {
		amp = memchr(p, '&', (size_t)(end - p));
		if (amp == NULL)
			amp = end;
		eq = memchr(p, '=', (size_t)(amp - p));
		if (eq == NULL)
			eq = amp;
		if (eq > p) {
			name = kv_unescape(a, p, (size_t)(eq - p), true);
			value = eq < amp ? kv_unescape(a, eq + 1, (size_t)(amp - eq - 1), true)
			                 : arena_strdup(a, "");
			if (name == NULL || value == NULL)
				return -1;
			kv_add_ref(a, &tmp, name, value);
		} else if (eq < amp) {
			/* "=value": nameless, skipped, but a bad escape still fails. */
			if (kv_unescape(a, eq + 1, (size_t)(amp - eq - 1), true) == NULL)
				return -1;
		}
		p = amp + 1;
	}
	for (i = 0; i < tmp.n; i++)
		kv_add_ref(a, l, tmp.items[i].name, tmp.items[i].value);
	return 0;
}

static bool kv_is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* Parses "a=1; b=\"2\"" into l: names and values trimmed, one pair of
 * surrounding double quotes removed; pairs without '=' or name skipped. */
void kv_parse_cookies(struct arena *a, struct kvlist *l, const char *header)
{
	const char *p, *semi, *eq, *ns, *ne, *vs, *ve;

	if (header == NULL)
		return;
	p = header;
	while (*p != '\0') {
		semi = strchr(p, ';');
		if (semi == NULL)
			semi = p + strlen(p);
		eq = memchr(p, '=', (size_t)(semi - p));
		if (eq != NULL) {
			ns = p;
			ne = eq;
			while (ns < ne && kv_is_space(*ns))
				ns++;
			while (ne > ns && kv_is_space(ne[-1]))
				ne--;
			vs = eq + 1;
			ve = semi;
			while (vs < ve && kv_is_space(*vs))
				vs++;
			while (ve > vs && kv_is_space(ve[-1]))
				ve--;
			if (ve - vs >= 2 && *vs == '"' && ve[-1] == '"') {
				vs++;
				ve--;
			}
			if (ne > ns)
				kv_add_ref(a, l, arena_strndup(a, ns, (size_t)(ne - ns)),
				           arena_strndup(a, vs, (size_t)(ve - vs)));
		}
		p = *semi == ';' ? semi + 1 : semi;
	}
}
