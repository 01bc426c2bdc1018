/* replay.c - runs a fuzz target over files (a corpus) without libFuzzer, so
 * `make test` replays every saved input under the sanitizers. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		if (!f) {
			perror(argv[i]);
			return 1;
		}
		static uint8_t buf[1 << 20];
		size_t n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		uint8_t *copy = malloc(n ? n : 1);
		if (!copy)
			return 1;
		for (size_t j = 0; j < n; j++)
			copy[j] = buf[j];
		LLVMFuzzerTestOneInput(copy, n);
		free(copy);
		printf("ok %d - %s\n", i, argv[i]);
	}
	printf("1..%d\n", argc - 1);
	return 0;
}
