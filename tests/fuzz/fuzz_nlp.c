/* fuzz_nlp.c - libFuzzer target: arbitrary bytes through the text analysers
 * (tokenizer, keywords, summary, index text). Build: make fuzz. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "arena.h"
#include "nlp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = arena_new();
	char *text = arena_memdup(a, data, size); /* NUL-terminated, may hold NULs */
	struct nlp_keyword kw[10];
	size_t n;

	nlp_terms(a, text, &n);
	nlp_keywords(a, text, 10, NULL, NULL, 0, kw);
	nlp_summary(a, text, 3);
	nlp_index_text(a, text);
	arena_free(a);
	return 0;
}
