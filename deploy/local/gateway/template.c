/* template.c - deploy/template.yaml (an AWS SAM template) read with libyaml.
 *
 * The whole file is loaded as a libyaml document tree, then walked: Globals
 * (Function, HttpApi.CorsConfiguration), then every resource of Type
 * AWS::Serverless::Function with its HttpApi, S3 and Schedule events. Keys the
 * gateway has no use for (Parameters, Outputs, Policies, Architectures, ...)
 * are ignored, as `sam local` does. Every error names the file and the line
 * of the node at fault: "deploy/template.yaml:12: Timeout must be ...".
 *
 * Intrinsic functions (!Ref, !Sub, !GetAtt, or the long form {Ref: X}) are
 * not literals: an environment value written with one is NULL (the gateway
 * takes it from its own environment), and an S3 event's Bucket: !Ref X is the
 * logical id "X". All strings live in one arena freed by tpl_free().
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <yaml.h>

#include "arena.h"
#include "gateway.h"

#define SAM_TRANSFORM "AWS::Serverless-2016-10-31"
#define SAM_FUNCTION  "AWS::Serverless::Function"
#define S3_BUCKET     "AWS::S3::Bucket"

/* struct tpl plus the arena that owns everything it points to. */
struct tpl_owned {
	struct tpl pub;
	struct arena *a;
};

/* Function-wide defaults: SAM's, overridden by Globals.Function. */
struct defaults {
	int timeout_s;
	int memory_mb;
	int reserved;
	struct tpl_env *env;
	size_t n_env;
};

struct ctx {
	yaml_document_t *doc;
	struct arena *a;
	const char *path;
	char *err;
	size_t errlen;
	yaml_node_t *resources;
};

/* Records "path:line: message" once (the first error wins); returns -1. */
__attribute__((format(printf, 3, 4))) static int fail(struct ctx *c, const yaml_node_t *n,
                                                      const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->err && c->errlen && !c->err[0])
		snprintf(c->err, c->errlen, "%s:%lu: %s", c->path,
		         n ? (unsigned long)n->start_mark.line + 1 : 1UL, msg);
	return -1;
}

static yaml_node_t *node_at(struct ctx *c, int id)
{
	return yaml_document_get_node(c->doc, id);
}

static bool is_scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE;
}

static bool is_map(const yaml_node_t *n)
{
	return n && n->type == YAML_MAPPING_NODE;
}

static bool is_seq(const yaml_node_t *n)
{
	return n && n->type == YAML_SEQUENCE_NODE;
}

static const char *scalar(const yaml_node_t *n)
{
	return is_scalar(n) ? (const char *)n->data.scalar.value : NULL;
}

/* A plain value: a scalar with a standard tag, not !Ref / !Sub / ... */
static bool is_literal(const yaml_node_t *n)
{
	const char *tag;

	if (!is_scalar(n))
		return false;
	tag = (const char *)n->tag;
	return !tag || strncmp(tag, "tag:yaml.org,2002:", 18) == 0;
}

/* The long form of an intrinsic function: a one-key map {Ref: X} or {Fn::...}. */
static bool is_long_intrinsic(struct ctx *c, const yaml_node_t *n)
{
	const char *k;

	if (!is_map(n) || n->data.mapping.pairs.top - n->data.mapping.pairs.start != 1)
		return false;
	k = scalar(node_at(c, n->data.mapping.pairs.start->key));
	return k && (strcmp(k, "Ref") == 0 || strncmp(k, "Fn::", 4) == 0);
}

static size_t map_len(const yaml_node_t *n)
{
	return is_map(n) ? (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start) : 0;
}

static size_t seq_len(const yaml_node_t *n)
{
	return is_seq(n) ? (size_t)(n->data.sequence.items.top - n->data.sequence.items.start) : 0;
}

static yaml_node_pair_t *map_pair(const yaml_node_t *n, size_t i)
{
	return &n->data.mapping.pairs.start[i];
}

static yaml_node_t *seq_item(struct ctx *c, const yaml_node_t *n, size_t i)
{
	return node_at(c, n->data.sequence.items.start[i]);
}

/* Value for key in map n, or NULL; fails on a repeated key (YAML forbids it
 * and CloudFormation rejects it, but libyaml would silently keep both). */
static int map_get(struct ctx *c, const yaml_node_t *n, const char *key, yaml_node_t **out)
{
	yaml_node_t *found = NULL;

	*out = NULL;
	for (size_t i = 0; i < map_len(n); i++) {
		yaml_node_t *k = node_at(c, map_pair(n, i)->key);
		const char *s = scalar(k);

		if (!s || strcmp(s, key) != 0)
			continue;
		if (found)
			return fail(c, k, "duplicate key %s", key);
		found = node_at(c, map_pair(n, i)->value);
	}
	*out = found;
	return 0;
}

/* Like map_get, but the value must be a mapping when present. */
static int map_get_map(struct ctx *c, const yaml_node_t *n, const char *key, yaml_node_t **out)
{
	if (map_get(c, n, key, out) < 0)
		return -1;
	if (*out && !is_map(*out))
		return fail(c, *out, "%s must be a mapping", key);
	return 0;
}

/* A literal string value; NULL (and -1) when absent is not allowed. */
static int get_str(struct ctx *c, const yaml_node_t *map, const char *key, bool required,
                   const char **out)
{
	yaml_node_t *v;

	*out = NULL;
	if (map_get(c, map, key, &v) < 0)
		return -1;
	if (!v) {
		if (required)
			return fail(c, map, "%s is required", key);
		return 0;
	}
	if (!is_literal(v))
		return fail(c, v, "%s must be a plain string", key);
	*out = arena_strdup(c->a, scalar(v));
	return 0;
}

static int parse_long(const char *s, long *out)
{
	char *end;
	long v;

	if (!s || !*s)
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s)
		return -1;
	*out = v;
	return 0;
}

/* An integer key in [lo, hi]; *out untouched when absent. */
static int get_int(struct ctx *c, const yaml_node_t *map, const char *key, long lo, long hi,
                   int *out)
{
	yaml_node_t *v;
	long n;

	if (map_get(c, map, key, &v) < 0)
		return -1;
	if (!v)
		return 0;
	if (!is_literal(v) || parse_long(scalar(v), &n) < 0)
		return fail(c, v, "%s must be an integer", key);
	if (n < lo || n > hi)
		return fail(c, v, "%s must be between %ld and %ld, not %ld", key, lo, hi, n);
	*out = (int)n;
	return 0;
}

static int get_bool(struct ctx *c, const yaml_node_t *map, const char *key, bool *out)
{
	yaml_node_t *v;
	const char *s;

	if (map_get(c, map, key, &v) < 0)
		return -1;
	if (!v)
		return 0;
	s = is_literal(v) ? scalar(v) : NULL;
	if (s && strcasecmp(s, "true") == 0)
		*out = true;
	else if (s && strcasecmp(s, "false") == 0)
		*out = false;
	else
		return fail(c, v, "%s must be true or false", key);
	return 0;
}

/* Appends one zeroed element to an arena array (the old copy is left behind:
 * templates are small). */
static void *grow(struct arena *a, void *old, size_t n, size_t size)
{
	void *p = arena_alloc(a, (n + 1) * size);

	if (n)
		memcpy(p, old, n * size);
	return p;
}

/* ---- Environment.Variables ---- */

static bool env_name_ok(const char *s)
{
	if (!s || !((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
		return false;
	for (s++; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

/* Merges props.Environment.Variables into env: a name already there takes
 * the new value in place (a function's variable overrides Globals'). */
static int parse_env(struct ctx *c, const yaml_node_t *props, struct tpl_env **env, size_t *n_env)
{
	yaml_node_t *e, *vars;

	if (map_get_map(c, props, "Environment", &e) < 0)
		return -1;
	if (!e)
		return 0;
	if (map_get_map(c, e, "Variables", &vars) < 0)
		return -1;
	for (size_t i = 0; i < map_len(vars); i++) {
		yaml_node_t *k = node_at(c, map_pair(vars, i)->key);
		yaml_node_t *v = node_at(c, map_pair(vars, i)->value);
		const char *name = scalar(k);
		const char *value = NULL;
		size_t j;

		if (!is_literal(k) || !env_name_ok(name))
			return fail(c, k, "bad environment variable name %s", name ? name : "");
		if (is_literal(v))
			value = arena_strdup(c->a, scalar(v));
		else if (!is_scalar(v) && !is_long_intrinsic(c, v) &&
		         !(is_seq(v) && v->tag && v->tag[0] == '!'))
			return fail(c, v, "environment variable %s must be a string", name);
		for (j = 0; j < *n_env; j++)
			if (strcmp((*env)[j].name, name) == 0)
				break;
		if (j == *n_env) {
			*env = grow(c->a, *env, *n_env, sizeof(**env));
			(*env)[j].name = arena_strdup(c->a, name);
			(*n_env)++;
		}
		(*env)[j].value = value;
	}
	return 0;
}

/* ---- Globals ---- */

static int parse_str_list(struct ctx *c, const yaml_node_t *map, const char *key, const char ***out,
                          size_t *n)
{
	yaml_node_t *v;

	if (map_get(c, map, key, &v) < 0)
		return -1;
	if (!v)
		return 0;
	if (!is_seq(v))
		return fail(c, v, "%s must be a list", key);
	*n = seq_len(v);
	*out = arena_alloc(c->a, (*n + 1) * sizeof(**out));
	for (size_t i = 0; i < *n; i++) {
		yaml_node_t *item = seq_item(c, v, i);

		if (!is_literal(item))
			return fail(c, item, "%s entries must be plain strings", key);
		(*out)[i] = arena_strdup(c->a, scalar(item));
	}
	return 0;
}

static int parse_cors(struct ctx *c, const yaml_node_t *cfg, struct tpl_cors *cors)
{
	static const char *star[] = {"*"};

	cors->max_age = -1;
	if (is_literal(cfg)) {
		/* SAM also takes a boolean (true: any origin) or one origin. */
		const char *s = scalar(cfg);

		if (strcasecmp(s, "false") == 0)
			return 0;
		cors->enabled = true;
		cors->methods = cors->headers = star;
		cors->n_methods = cors->n_headers = 1;
		cors->n_origins = 1;
		cors->origins = arena_alloc(c->a, sizeof(*cors->origins));
		cors->origins[0] = strcasecmp(s, "true") == 0 ? "*" : arena_strdup(c->a, s);
		return 0;
	}
	if (!is_map(cfg))
		return fail(c, cfg, "CorsConfiguration must be a mapping or true");
	cors->enabled = true;
	if (parse_str_list(c, cfg, "AllowOrigins", &cors->origins, &cors->n_origins) < 0 ||
	    parse_str_list(c, cfg, "AllowMethods", &cors->methods, &cors->n_methods) < 0 ||
	    parse_str_list(c, cfg, "AllowHeaders", &cors->headers, &cors->n_headers) < 0 ||
	    parse_str_list(c, cfg, "ExposeHeaders", &cors->expose, &cors->n_expose) < 0 ||
	    get_int(c, cfg, "MaxAge", 0, 86400, &cors->max_age) < 0 ||
	    get_bool(c, cfg, "AllowCredentials", &cors->credentials) < 0)
		return -1;
	return 0;
}

static int parse_function_props(struct ctx *c, const yaml_node_t *props, int *timeout, int *memory,
                                int *reserved)
{
	if (get_int(c, props, "Timeout", 1, 900, timeout) < 0 ||
	    get_int(c, props, "MemorySize", 128, 10240, memory) < 0 ||
	    get_int(c, props, "ReservedConcurrentExecutions", 0, 1000000, reserved) < 0)
		return -1;
	return 0;
}

static int parse_globals(struct ctx *c, const yaml_node_t *root, struct defaults *d,
                         struct tpl_cors *cors)
{
	yaml_node_t *g, *fn, *api, *cfg;

	cors->max_age = -1;
	if (map_get_map(c, root, "Globals", &g) < 0)
		return -1;
	if (!g)
		return 0;
	if (map_get_map(c, g, "Function", &fn) < 0)
		return -1;
	if (fn) {
		if (parse_function_props(c, fn, &d->timeout_s, &d->memory_mb, &d->reserved) < 0 ||
		    parse_env(c, fn, &d->env, &d->n_env) < 0)
			return -1;
	}
	if (map_get_map(c, g, "HttpApi", &api) < 0)
		return -1;
	if (!api)
		return 0;
	if (map_get(c, api, "CorsConfiguration", &cfg) < 0)
		return -1;
	return cfg ? parse_cors(c, cfg, cors) : 0;
}

/* ---- events ---- */

static const char *const methods[] = {"GET",    "POST", "PUT",     "PATCH",
                                      "DELETE", "HEAD", "OPTIONS", "ANY"};

/* "/a/{id}/b/{proxy+}": starts with '/', no empty {}, greedy only last. */
static bool path_ok(const char *p)
{
	if (p[0] != '/')
		return false;
	for (const char *s = p; *s; s++) {
		if (*s == '}' || *s == '?' || *s == '#' || *s == ' ' || *s == '\t')
			return false;
		if (*s != '{')
			continue;
		if (s[-1] != '/')
			return false;
		const char *end = strchr(s, '}');
		if (!end || end == s + 1)
			return false;
		for (const char *q = s + 1; q < end; q++) {
			bool word = (*q >= 'A' && *q <= 'Z') || (*q >= 'a' && *q <= 'z') ||
			            (*q >= '0' && *q <= '9') || *q == '_' || *q == '-';
			if (!word && !(*q == '+' && q + 1 == end && end[1] == '\0'))
				return false;
		}
		if (end[1] && end[1] != '/')
			return false;
		s = end;
	}
	return true;
}

static int parse_http(struct ctx *c, struct tpl_function *f, const yaml_node_t *props)
{
	const char *path, *method;
	yaml_node_t *mn, *pn;
	char up[16];
	size_t i, len;

	if (!props)
		return fail(c, NULL, "an HttpApi event of %s needs Properties", f->logical_id);
	if (get_str(c, props, "Path", true, &path) < 0 ||
	    get_str(c, props, "Method", true, &method) < 0 ||
	    map_get(c, props, "Method", &mn) < 0 || map_get(c, props, "Path", &pn) < 0)
		return -1;
	if (!path_ok(path))
		return fail(c, pn, "bad Path %s (it starts with '/'; {name} segments)", path);
	len = strlen(method);
	if (len >= sizeof(up))
		return fail(c, mn, "bad Method %s", method);
	for (i = 0; i <= len; i++)
		up[i] = (char)((method[i] >= 'a' && method[i] <= 'z') ? method[i] - 32 : method[i]);
	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(up, methods[i]) == 0)
			break;
	if (i == sizeof(methods) / sizeof(methods[0]))
		return fail(c, mn, "bad Method %s", method);
	f->http = grow(c->a, f->http, f->n_http, sizeof(*f->http));
	f->http[f->n_http].method = methods[i];
	f->http[f->n_http].path = path;
	f->n_http++;
	return 0;
}

/* Bucket: !Ref X, {Ref: X} or a plain name; a reference must name an
 * AWS::S3::Bucket resource of this template (SAM requires it). */
static int parse_bucket(struct ctx *c, const yaml_node_t *props, const char **out)
{
	yaml_node_t *v, *ref = NULL, *res = NULL, *type = NULL;
	const char *id;

	if (map_get(c, props, "Bucket", &v) < 0)
		return -1;
	if (!v)
		return fail(c, props, "Bucket is required");
	if (is_literal(v)) {
		*out = arena_strdup(c->a, scalar(v));
		return 0;
	}
	if (is_scalar(v) && v->tag && strcmp((const char *)v->tag, "!Ref") == 0)
		ref = v;
	else if (is_long_intrinsic(c, v) && map_get(c, v, "Ref", &ref) == 0 && is_scalar(ref))
		;
	else
		return fail(c, v, "Bucket must be !Ref to an " S3_BUCKET " resource");
	id = scalar(ref);
	if (map_get(c, c->resources, id, &res) < 0)
		return -1;
	if (res && is_map(res) && map_get(c, res, "Type", &type) < 0)
		return -1;
	if (!type || !scalar(type) || strcmp(scalar(type), S3_BUCKET) != 0)
		return fail(c, v, "Bucket: %s is not an " S3_BUCKET " resource", id);
	*out = arena_strdup(c->a, id);
	return 0;
}

static int parse_s3(struct ctx *c, struct tpl_function *f, const yaml_node_t *props)
{
	yaml_node_t *ev, *filter = NULL, *key = NULL, *rules = NULL;
	const char *bucket = NULL, *prefix = "", *suffix = "";
	size_t n;

	if (!props)
		return fail(c, NULL, "an S3 event of %s needs Properties", f->logical_id);
	if (parse_bucket(c, props, &bucket) < 0 || map_get(c, props, "Events", &ev) < 0)
		return -1;
	if (!ev)
		return fail(c, props, "Events is required");
	if (!is_literal(ev) && !is_seq(ev))
		return fail(c, ev, "Events must be a string or a list");
	if (map_get_map(c, props, "Filter", &filter) < 0 ||
	    (filter && map_get_map(c, filter, "S3Key", &key) < 0) ||
	    (key && map_get(c, key, "Rules", &rules) < 0))
		return -1;
	if (rules && !is_seq(rules))
		return fail(c, rules, "Rules must be a list");
	for (size_t i = 0; i < seq_len(rules); i++) {
		yaml_node_t *r = seq_item(c, rules, i);
		const char *name, *value;

		if (!is_map(r))
			return fail(c, r, "a rule is a mapping {Name, Value}");
		if (get_str(c, r, "Name", true, &name) < 0 ||
		    get_str(c, r, "Value", true, &value) < 0)
			return -1;
		if (strcasecmp(name, "prefix") == 0)
			prefix = value;
		else if (strcasecmp(name, "suffix") == 0)
			suffix = value;
		else
			return fail(c, r, "rule Name must be prefix or suffix, not %s", name);
	}
	n = is_seq(ev) ? seq_len(ev) : 1;
	if (n == 0)
		return fail(c, ev, "Events is empty");
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *item = is_seq(ev) ? seq_item(c, ev, i) : ev;
		const char *name = is_literal(item) ? scalar(item) : NULL;
		struct tpl_s3 *s;

		if (!name || strncmp(name, "s3:", 3) != 0)
			return fail(c, item, "bad S3 event %s (e.g. s3:ObjectCreated:*)",
			            name ? name : "");
		f->s3 = grow(c->a, f->s3, f->n_s3, sizeof(*f->s3));
		s = &f->s3[f->n_s3++];
		s->bucket = bucket;
		s->event = arena_strdup(c->a, name);
		s->prefix = prefix;
		s->suffix = suffix;
	}
	return 0;
}

static int parse_schedule(struct ctx *c, struct tpl_function *f, const char *name,
                          const yaml_node_t *props)
{
	struct tpl_schedule s = {.name = name, .enabled = true};
	const char *state = NULL;
	yaml_node_t *sn;
	size_t len;

	if (!props)
		return fail(c, NULL, "a Schedule event of %s needs Properties", f->logical_id);
	if (get_str(c, props, "Schedule", true, &s.expression) < 0 ||
	    get_str(c, props, "Input", false, &s.input) < 0 ||
	    get_bool(c, props, "Enabled", &s.enabled) < 0 ||
	    get_str(c, props, "State", false, &state) < 0 || map_get(c, props, "Schedule", &sn) < 0)
		return -1;
	len = strlen(s.expression);
	if ((strncmp(s.expression, "rate(", 5) != 0 && strncmp(s.expression, "cron(", 5) != 0) ||
	    s.expression[len - 1] != ')')
		return fail(c, sn, "Schedule must be rate(...) or cron(...), not %s", s.expression);
	if (state && strcmp(state, "DISABLED") == 0)
		s.enabled = false;
	else if (state && strcmp(state, "ENABLED") != 0)
		return fail(c, props, "State must be ENABLED or DISABLED");
	if (s.input) {
		cJSON *j = cJSON_Parse(s.input);

		if (!j) {
			yaml_node_t *in = NULL;

			map_get(c, props, "Input", &in);
			return fail(c, in, "Input must be JSON text");
		}
		cJSON_Delete(j);
	}
	f->schedules = grow(c->a, f->schedules, f->n_schedules, sizeof(*f->schedules));
	f->schedules[f->n_schedules++] = s;
	return 0;
}

static int parse_events(struct ctx *c, struct tpl_function *f, const yaml_node_t *props)
{
	yaml_node_t *events;

	if (map_get_map(c, props, "Events", &events) < 0)
		return -1;
	for (size_t i = 0; i < map_len(events); i++) {
		yaml_node_t *k = node_at(c, map_pair(events, i)->key);
		yaml_node_t *ev = node_at(c, map_pair(events, i)->value);
		yaml_node_t *tn, *ep;
		const char *type;

		if (!is_literal(k))
			return fail(c, k, "an event name must be a plain string");
		for (size_t j = 0; j < i; j++)
			if (strcmp(scalar(node_at(c, map_pair(events, j)->key)), scalar(k)) == 0)
				return fail(c, k, "duplicate event %s", scalar(k));
		if (!is_map(ev))
			return fail(c, ev, "event %s must be a mapping", scalar(k));
		if (map_get(c, ev, "Type", &tn) < 0 || map_get_map(c, ev, "Properties", &ep) < 0)
			return -1;
		type = is_literal(tn) ? scalar(tn) : NULL;
		if (!type)
			return fail(c, ev, "event %s needs a Type", scalar(k));
		if (strcmp(type, "HttpApi") == 0) {
			if (parse_http(c, f, ep ? ep : ev) < 0)
				return -1;
		} else if (strcmp(type, "S3") == 0) {
			if (parse_s3(c, f, ep) < 0)
				return -1;
		} else if (strcmp(type, "Schedule") == 0) {
			if (parse_schedule(c, f, arena_strdup(c->a, scalar(k)), ep) < 0)
				return -1;
		} else {
			return fail(c, tn, "unknown event Type %s (HttpApi, S3 or Schedule)", type);
		}
	}
	return 0;
}

/* ---- functions ---- */

/* "build/lambda/articles/" -> "articles"; NULL when empty or not a name. */
static const char *code_name(struct arena *a, const char *uri)
{
	size_t len = strlen(uri);
	const char *start;

	while (len > 0 && uri[len - 1] == '/')
		len--;
	start = uri + len;
	while (start > uri && start[-1] != '/')
		start--;
	if (start == uri + len)
		return NULL;
	for (const char *s = start; s < uri + len; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
			return NULL;
	return arena_strndup(a, start, (size_t)(uri + len - start));
}

static int parse_function(struct ctx *c, const yaml_node_t *key, const yaml_node_t *res,
                          const struct defaults *d, struct tpl_function *f)
{
	yaml_node_t *props, *cu;

	f->logical_id = arena_strdup(c->a, scalar(key));
	f->timeout_s = d->timeout_s;
	f->memory_mb = d->memory_mb;
	f->reserved = d->reserved;
	if (map_get_map(c, res, "Properties", &props) < 0)
		return -1;
	if (!props || map_get(c, props, "CodeUri", &cu) < 0 || !cu)
		return fail(c, key, "function %s has no CodeUri", f->logical_id);
	if (!is_literal(cu))
		return fail(c, cu, "CodeUri of %s must be a local folder", f->logical_id);
	f->code_uri = arena_strdup(c->a, scalar(cu));
	f->name = code_name(c->a, f->code_uri);
	if (!f->name)
		return fail(c, cu, "CodeUri %s does not end in a function name", f->code_uri);
	if (parse_function_props(c, props, &f->timeout_s, &f->memory_mb, &f->reserved) < 0)
		return -1;
	if (d->n_env) {
		f->env = arena_alloc(c->a, d->n_env * sizeof(*f->env));
		memcpy(f->env, d->env, d->n_env * sizeof(*f->env));
		f->n_env = d->n_env;
	}
	if (parse_env(c, props, &f->env, &f->n_env) < 0)
		return -1;
	return parse_events(c, f, props);
}

/* The Path node of f's HttpApi event for h (for the error's line), else res. */
static const yaml_node_t *route_node(struct ctx *c, const yaml_node_t *res,
                                     const struct tpl_http *h)
{
	yaml_node_t *props = NULL, *events = NULL;

	if (map_get(c, res, "Properties", &props) < 0 || map_get(c, props, "Events", &events) < 0)
		return res;
	for (size_t i = 0; i < map_len(events); i++) {
		yaml_node_t *ev = node_at(c, map_pair(events, i)->value);
		yaml_node_t *ep = NULL, *path = NULL, *method = NULL;

		if (map_get(c, ev, "Properties", &ep) < 0 || map_get(c, ep, "Path", &path) < 0 ||
		    map_get(c, ep, "Method", &method) < 0)
			continue;
		if (scalar(path) && scalar(method) && strcmp(scalar(path), h->path) == 0 &&
		    strcasecmp(scalar(method), h->method) == 0)
			return path;
	}
	return res;
}

/* "GET /a/{id}" and "GET /a/{slug}" are the same route to API Gateway. */
static void route_key(const struct tpl_http *h, char *buf, size_t len)
{
	size_t n = (size_t)snprintf(buf, len, "%s ", h->method);

	for (const char *s = h->path; *s && n + 4 < len; s++) {
		buf[n++] = *s;
		if (*s == '{') {
			const char *end = strchr(s, '}');

			if (end[-1] == '+')
				buf[n++] = '+';
			buf[n++] = '}';
			s = end;
		}
	}
	buf[n] = '\0';
}

static int check_unique(struct ctx *c, const struct tpl *t, const yaml_node_t *resources)
{
	char a[1024], b[1024];

	for (size_t i = 0; i < t->n_functions; i++) {
		const struct tpl_function *f = &t->functions[i];
		yaml_node_t *res = NULL;

		if (map_get(c, resources, f->logical_id, &res) < 0)
			return -1;
		for (size_t j = 0; j < i; j++)
			if (strcmp(f->name, t->functions[j].name) == 0)
				return fail(c, res, "%s and %s have the same CodeUri name %s",
				            t->functions[j].logical_id, f->logical_id, f->name);
		for (size_t k = 0; k < f->n_http; k++) {
			route_key(&f->http[k], a, sizeof(a));
			for (size_t j = 0; j <= i; j++) {
				const struct tpl_function *g = &t->functions[j];
				size_t end = j == i ? k : g->n_http;

				for (size_t m = 0; m < end; m++) {
					route_key(&g->http[m], b, sizeof(b));
					if (strcmp(a, b) == 0)
						return fail(c, route_node(c, res, &f->http[k]),
						            "route %s %s of %s is already %s's",
						            f->http[k].method, f->http[k].path,
						            f->logical_id, g->logical_id);
				}
			}
		}
	}
	return 0;
}

static int check_transform(struct ctx *c, const yaml_node_t *root)
{
	yaml_node_t *t;

	if (map_get(c, root, "Transform", &t) < 0)
		return -1;
	if (is_literal(t) && strcmp(scalar(t), SAM_TRANSFORM) == 0)
		return 0;
	for (size_t i = 0; i < seq_len(t); i++) {
		yaml_node_t *item = seq_item(c, t, i);

		if (is_literal(item) && strcmp(scalar(item), SAM_TRANSFORM) == 0)
			return 0;
	}
	return fail(c, t ? t : root, "Transform: " SAM_TRANSFORM " is required");
}

static int load_tree(struct ctx *c, struct tpl *t)
{
	struct defaults d = {.timeout_s = 3, .memory_mb = 128, .reserved = -1};
	yaml_node_t *root = yaml_document_get_root_node(c->doc);
	size_t n = 0;

	if (!root)
		return fail(c, NULL, "the template is empty");
	if (!is_map(root))
		return fail(c, root, "the template must be a mapping");
	if (check_transform(c, root) < 0 || parse_globals(c, root, &d, &t->cors) < 0 ||
	    map_get_map(c, root, "Resources", &c->resources) < 0)
		return -1;
	if (!c->resources)
		return fail(c, root, "Resources is required");
	for (size_t i = 0; i < map_len(c->resources); i++) {
		yaml_node_t *k = node_at(c, map_pair(c->resources, i)->key);
		yaml_node_t *r = node_at(c, map_pair(c->resources, i)->value);
		yaml_node_t *type;

		if (!is_literal(k))
			return fail(c, k, "a resource's logical id must be a plain string");
		for (size_t j = 0; j < i; j++)
			if (strcmp(scalar(node_at(c, map_pair(c->resources, j)->key)), scalar(k)) ==
			    0)
				return fail(c, k, "duplicate resource %s", scalar(k));
		if (!is_map(r))
			return fail(c, r, "resource %s must be a mapping", scalar(k));
		if (map_get(c, r, "Type", &type) < 0)
			return -1;
		if (!is_literal(type))
			return fail(c, r, "resource %s needs a Type", scalar(k));
		if (strcmp(scalar(type), SAM_FUNCTION) == 0)
			n++;
	}
	t->functions = arena_alloc(c->a, (n + 1) * sizeof(*t->functions));
	for (size_t i = 0; i < map_len(c->resources); i++) {
		yaml_node_t *k = node_at(c, map_pair(c->resources, i)->key);
		yaml_node_t *r = node_at(c, map_pair(c->resources, i)->value);
		yaml_node_t *type;

		map_get(c, r, "Type", &type);
		if (strcmp(scalar(type), SAM_FUNCTION) != 0)
			continue;
		if (parse_function(c, k, r, &d, &t->functions[t->n_functions]) < 0)
			return -1;
		t->n_functions++;
	}
	return check_unique(c, t, c->resources);
}

struct tpl *tpl_load(const char *path, char *err, size_t errlen)
{
	struct tpl_owned *o = NULL;
	yaml_parser_t parser;
	yaml_document_t doc;
	bool parser_ok = false, doc_ok = false;
	struct ctx c = {.doc = &doc, .path = path, .err = err, .errlen = errlen};
	struct tpl *ret = NULL;
	FILE *f;

	if (err && errlen)
		err[0] = '\0';
	f = fopen(path, "rb");
	if (!f) {
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (!yaml_parser_initialize(&parser)) {
		fail(&c, NULL, "out of memory");
		goto out;
	}
	parser_ok = true;
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		if (err && errlen)
			snprintf(err, errlen, "%s:%lu: %s%s%s", path,
			         (unsigned long)parser.problem_mark.line + 1,
			         parser.problem ? parser.problem : "YAML error",
			         parser.context ? " " : "", parser.context ? parser.context : "");
		goto out;
	}
	doc_ok = true;
	o = calloc(1, sizeof(*o));
	if (!o) {
		fail(&c, NULL, "out of memory");
		goto out;
	}
	o->a = arena_new();
	c.a = o->a;
	if (load_tree(&c, &o->pub) < 0)
		goto out;
	ret = &o->pub;
	o = NULL;
out:
	if (o) {
		arena_free(o->a);
		free(o);
	}
	if (doc_ok)
		yaml_document_delete(&doc);
	if (parser_ok)
		yaml_parser_delete(&parser);
	fclose(f);
	return ret;
}

void tpl_free(struct tpl *t)
{
	struct tpl_owned *o;

	if (!t)
		return;
	o = (struct tpl_owned *)((char *)t - offsetof(struct tpl_owned, pub));
	arena_free(o->a);
	free(o);
}

const struct tpl_function *tpl_function(const struct tpl *t, const char *name)
{
	for (size_t i = 0; t && name && i < t->n_functions; i++)
		if (strcmp(t->functions[i].name, name) == 0)
			return &t->functions[i];
	return NULL;
}
