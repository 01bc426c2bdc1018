/* thumbbench - the thumbnails function's image work on one file, timed.
 *
 *   thumbbench FILE [OUTDIR]
 *
 * Reads FILE, sniffs it, reads its EXIF and renders both sizes exactly as
 * the function does (functions/thumbnails/render.c), then prints one JSON
 * line: {"ms":wall milliseconds from reading to both JPEGs encoded,
 * "rss_kb":peak resident set, "thumb":bytes, "display":bytes, "width":..,
 * "height":..}. With OUTDIR it also writes thumb.jpg and display.jpg there.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "img.h"
#include "../../functions/thumbnails/thumbnails.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Whole file into a malloc'd buffer; NULL on failure. */
static unsigned char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
		goto out;
	buf = malloc((size_t)n + 1);
	if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	*len = (size_t)n;
out:
	fclose(f);
	return buf;
}

static int write_file(const char *dir, const char *name, const unsigned char *p, size_t n)
{
	char path[4096];
	FILE *f;
	int rc;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return -1;
	f = fopen(path, "wb");
	if (f == NULL)
		return -1;
	rc = fwrite(p, 1, n, f) == n ? 0 : -1;
	return fclose(f) == 0 ? rc : -1;
}

int main(int argc, char **argv)
{
	struct thumbs_out out = {0};
	struct img_info info;
	struct img_exif ex;
	struct rusage ru;
	unsigned char *data;
	size_t len = 0;
	char err[160] = "";
	double t0, ms;
	int rc = 1;

	if (argc < 2) {
		fprintf(stderr, "usage: thumbbench FILE [OUTDIR]\n");
		return 2;
	}
	t0 = now_ms();
	data = read_file(argv[1], &len);
	if (data == NULL) {
		fprintf(stderr, "thumbbench: cannot read %s\n", argv[1]);
		return 1;
	}
	if (img_sniff(data, len, &info) != 0) {
		fprintf(stderr, "thumbbench: not an image\n");
		goto out;
	}
	img_exif_read(data, len, &ex);
	if (thumbs_render(data, len, &info, ex.orientation, UINT64_C(100000000), &out, err,
	                  sizeof(err)) != 0) {
		fprintf(stderr, "thumbbench: %s\n", err);
		goto out;
	}
	ms = now_ms() - t0;
	getrusage(RUSAGE_SELF, &ru);
	printf("{\"ms\":%.2f,\"rss_kb\":%ld,\"thumb\":%zu,\"display\":%zu,\"width\":%d,"
	       "\"height\":%d}\n",
	       ms, ru.ru_maxrss, out.thumb_len, out.display_len, out.width, out.height);
	if (argc > 2 && (write_file(argv[2], "thumb.jpg", out.thumb, out.thumb_len) != 0 ||
	                 write_file(argv[2], "display.jpg", out.display, out.display_len) != 0)) {
		fprintf(stderr, "thumbbench: cannot write the outputs\n");
		goto out;
	}
	rc = 0;
out:
	thumbs_out_release(&out);
	free(data);
	return rc;
}
