/* tmpl.h - a small logic-less HTML template renderer (a Mustache subset)
 * over cJSON data, for server-rendered pages.
 *
 * Syntax:
 *   {{name}} {{a.b}} {{.}}   the value, HTML-escaped (& < > " '); strings,
 *                            numbers (integers without ".0"), true/false;
 *                            null or missing prints nothing
 *   {{{name_html}}}          the value unescaped - only for names whose last
 *                            segment ends in "_html" (compiling anything
 *                            else fails), which the C side fills only with
 *                            already-safe HTML (the Markdown renderer's)
 *   {{#name}}..{{/name}}     an array: once per item, the item on top of the
 *                            context stack; an object or other truthy value
 *                            (true, non-empty string, non-zero number): once,
 *                            with it on top; false/null/missing/"" /0/[]:
 *                            skipped
 *   {{^name}}..{{/name}}     once when name is falsy as above, else skipped
 *   {{> partial}}            another template of the same set, same context
 *   {{! comment}}            nothing
 * A name is looked up from the top of the context stack down (Mustache
 * rules); dotted names resolve their first segment that way, then descend.
 *
 * Templates are compiled once (at cold start) into a set; rendering appends
 * to an arena string and fails only on memory or past its limits (16 MiB of
 * output or 2 million node visits: nested loops over large data), with NULL.
 */
#ifndef TMPL_H
#define TMPL_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "arena.h"

/* One named template's text; arrays of these end with {NULL, NULL}. */
struct tmpl_source {
	const char *name;
	const char *text;
};

struct tmpl_set;

/* Compiles every source (texts are copied). NULL on a syntax error, an
 * unknown partial, a raw tag on a name not ending in _html or a duplicate
 * name, with "<template>:<line>: <reason>" in err. Caller frees with
 * tmpl_set_free(). */
struct tmpl_set *tmpl_set_new(const struct tmpl_source *sources, char *err, size_t errlen);
void tmpl_set_free(struct tmpl_set *s);

/* True when the set has a template of that name. */
int tmpl_has(const struct tmpl_set *s, const char *name);

/* Renders template name over data (the bottom of the context stack) into a
 * NUL-terminated arena string, its length in *len when len is not NULL.
 * NULL when there is no such template or memory ran out. Partials nest at
 * most 16 deep (deeper ones render nothing). */
char *tmpl_render(const struct tmpl_set *s, const char *name, const cJSON *data,
                  struct arena *a, size_t *len);

/* A time for templates: {"iso": "2026-11-27T09:30:00Z", "human": "27
 * November 2026"} from an RFC 3339 UTC time as db_row_json writes it (put
 * iso in <time datetime>); a JSON null for NULL or anything else. Caller
 * owns the result (hand it to a parent object). */
cJSON *tmpl_date(const char *rfc3339);

#endif
