/* kv.h - ordered name/value lists (headers, query, cookies, path params).
 *
 * Lists live in an arena; names and values are borrowed from it. Repeated
 * names are kept in order. Header names are stored lower-cased by req.c so
 * lookups are case-insensitive either way.
 */
#ifndef KV_H
#define KV_H

#include <stdbool.h>
#include <stddef.h>

struct arena;

struct kv {
	const char *name;
	const char *value;
};

struct kvlist {
	struct kv *items;
	size_t n, cap;
};

/* Appends copies of name and value (arena-owned). */
void kv_add(struct arena *a, struct kvlist *l, const char *name, const char *value);
/* Appends without copying: name and value must outlive the list. */
void kv_add_ref(struct arena *a, struct kvlist *l, const char *name, const char *value);
/* First value for name (ASCII case-insensitive), or NULL. */
const char *kv_get(const struct kvlist *l, const char *name);
/* Replaces every entry for name by one (case-insensitive). */
void kv_set(struct arena *a, struct kvlist *l, const char *name, const char *value);
/* Number of entries for name. */
size_t kv_count(const struct kvlist *l, const char *name);

/* Parses "a=1&b=two%20x" (also '+' as space) into l. Returns 0, or -1 when
 * a percent escape is malformed (nothing is added then). */
int kv_parse_urlencoded(struct arena *a, struct kvlist *l, const char *s, size_t len);
/* Parses a Cookie header ("a=1; b=2") into l. */
void kv_parse_cookies(struct arena *a, struct kvlist *l, const char *header);

/* Percent-decodes s[0..len) into a new arena string; plus_is_space for
 * forms. Returns NULL when an escape is malformed or decodes to NUL. */
char *kv_unescape(struct arena *a, const char *s, size_t len, bool plus_is_space);
/* s with every byte but RFC 3986's unreserved ones (A-Z a-z 0-9 - _ . ~)
 * percent-encoded: a path segment or a query value. Arena-owned. */
char *kv_escape(struct arena *a, const char *s);

#endif
