/* fuzz_tmpl.c - libFuzzer target: template compile and render. The input
 * is split at NUL bytes: the template "main", then JSON data, then a second
 * template "p" (for partials); missing parts are empty. Build: make fuzz. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "arena.h"
#include "tmpl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = arena_new();
	char *buf = arena_memdup(a, data, size); /* NUL-terminated */
	const char *part[3] = {"", "", ""};
	struct tmpl_source src[3] = {{"main", NULL}, {"p", NULL}, {NULL, NULL}};
	struct tmpl_set *set;
	cJSON *json;
	char err[128];
	size_t off = 0, len;

	for (int i = 0; i < 3 && off <= size; i++) {
		part[i] = buf + off;
		off += strlen(buf + off) + 1;
	}
	src[0].text = part[0];
	src[1].text = part[2];
	json = cJSON_ParseWithLength(part[1], strlen(part[1]));
	set = tmpl_set_new(src, err, sizeof(err));
	if (set != NULL) {
		char *out = tmpl_render(set, "main", json, a, &len);

		if (out != NULL && strlen(out) != len)
			__builtin_trap();
		tmpl_render(set, "p", json, a, NULL);
		tmpl_set_free(set);
	} else if (memchr(err, ':', sizeof(err)) == NULL) {
		__builtin_trap(); /* every failure explains itself */
	}
	cJSON_Delete(json);
	arena_free(a);
	return 0;
}
