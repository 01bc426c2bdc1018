/* schedule.c - EventBridge rate() and cron() expressions, and their next
 * fire times (UTC). */
#include "schedule.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define EXPR_MAX      256
#define RATE_MAX      1000000L /* units; keeps rate_s far from overflow */
#define NEXT_MAX_STEP 2000000  /* bounds schedule_next for expressions that never fire */

enum field_id { F_MIN, F_HOUR, F_MDAY, F_MONTH, F_WDAY, F_YEAR, F_COUNT };

struct field_spec {
	const char *name;
	int min, max;
	const char *const *names; /* names[i] is value min + i, or NULL */
};

static const char *const month_names[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL",
                                          "AUG", "SEP", "OCT", "NOV", "DEC", NULL};
static const char *const wday_names[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", NULL};

static const struct field_spec fields[F_COUNT] = {
        [F_MIN] = {"minutes", 0, 59, NULL},
        [F_HOUR] = {"hours", 0, 23, NULL},
        [F_MDAY] = {"day-of-month", 1, 31, NULL},
        [F_MONTH] = {"month", 1, 12, month_names},
        [F_WDAY] = {"day-of-week", 1, 7, wday_names},
        [F_YEAR] = {"year", SCHEDULE_YEAR_MIN, SCHEDULE_YEAR_MAX, NULL},
};

static void set_bit(uint64_t *bits, int i)
{
	bits[i / 64] |= (uint64_t)1 << (i % 64);
}

static int has_bit(const uint64_t *bits, int i)
{
	return (bits[i / 64] >> (i % 64)) & 1;
}

/* One value: a number, or a name when the field has them. -1 if neither. */
static int parse_value(const struct field_spec *f, const char *s, size_t len, int *out)
{
	char buf[8];
	char *end;
	long v;

	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (isdigit((unsigned char)buf[0])) {
		errno = 0;
		v = strtol(buf, &end, 10);
		if (errno != 0 || *end != '\0' || v < f->min || v > f->max)
			return -1;
		*out = (int)v;
		return 0;
	}
	for (int i = 0; f->names && f->names[i]; i++) {
		if (strcasecmp(buf, f->names[i]) == 0) {
			*out = f->min + i;
			return 0;
		}
	}
	return -1;
}

static int fail(char *err, size_t errlen, const char *fmt, const char *a, const char *b)
{
	snprintf(err, errlen, fmt, a, b);
	return -1;
}

/* One comma-separated item: star, a, a-b, each optionally /step. */
static int parse_item(const struct field_spec *f, const char *s, size_t len, uint64_t *bits,
                      char *err, size_t errlen)
{
	char item[32];
	const char *slash = memchr(s, '/', len);
	size_t base_len = slash ? (size_t)(slash - s) : len;
	const char *dash;
	int lo, hi, step = 1;

	snprintf(item, sizeof(item), "%.*s", (int)(len < 31 ? len : 31), s);
	if (memchr(s, '#', len) ||
	    ((f == &fields[F_MDAY] || f == &fields[F_WDAY]) &&
	     (memchr(s, 'L', len) || memchr(s, 'l', len) ||
	      (f == &fields[F_MDAY] && (memchr(s, 'W', len) || memchr(s, 'w', len))))))
		return fail(err, errlen, "cron %s: '%s': L, W and # are not supported", f->name,
		            item);
	if (slash != NULL) {
		char *end;
		long v;

		errno = 0;
		v = strtol(slash + 1, &end, 10);
		if (slash + 1 == s + len || !isdigit((unsigned char)slash[1]) || errno != 0 ||
		    end != s + len || v < 1 || v > f->max)
			return fail(err, errlen, "cron %s: '%s': bad step", f->name, item);
		step = (int)v;
	}
	if (base_len == 1 && s[0] == '*') {
		lo = f->min;
		hi = f->max;
	} else if ((dash = memchr(s, '-', base_len)) != NULL) {
		if (parse_value(f, s, (size_t)(dash - s), &lo) != 0 ||
		    parse_value(f, dash + 1, base_len - (size_t)(dash - s) - 1, &hi) != 0)
			return fail(err, errlen, "cron %s: '%s': invalid range", f->name, item);
		if (lo > hi)
			return fail(err, errlen, "cron %s: '%s': range start after its end",
			            f->name, item);
	} else {
		if (parse_value(f, s, base_len, &lo) != 0)
			return fail(err, errlen, "cron %s: '%s': invalid value", f->name, item);
		hi = slash ? f->max : lo;
	}
	for (int v = lo; v <= hi; v += step)
		set_bit(bits, v - f->min);
	return 0;
}

/* A whole field; *question set when it is '?'. */
static int parse_field(const struct field_spec *f, const char *s, size_t len, uint64_t *bits,
                       int *question, char *err, size_t errlen)
{
	const char *p = s, *end = s + len;

	*question = 0;
	if (len == 1 && s[0] == '?') {
		if (f != &fields[F_MDAY] && f != &fields[F_WDAY])
			return fail(err, errlen,
			            "cron %s: '?' is only allowed in day-of-month and %s", f->name,
			            "day-of-week");
		*question = 1;
		return 0;
	}
	while (p <= end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		size_t n = comma ? (size_t)(comma - p) : (size_t)(end - p);

		if (n == 0)
			return fail(err, errlen, "cron %s: empty list item%s", f->name, "");
		if (parse_item(f, p, n, bits, err, errlen) != 0)
			return -1;
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	return 0;
}

static int parse_rate(const char *s, size_t len, struct schedule *out, char *err, size_t errlen)
{
	char buf[64], unit[16];
	char *p, *end;
	long v, mult;
	size_t ulen = 0;

	if (len >= sizeof(buf))
		return fail(err, errlen, "rate: expression too long%s%s", "", "");
	memcpy(buf, s, len);
	buf[len] = '\0';
	p = buf;
	while (*p == ' ')
		p++;
	if (!isdigit((unsigned char)*p))
		return fail(err, errlen, "rate: expected a positive whole number%s%s", "", "");
	errno = 0;
	v = strtol(p, &end, 10);
	if (errno != 0 || v < 1 || v > RATE_MAX || *end != ' ')
		return fail(err, errlen, "rate: expected a positive whole number and a unit%s%s",
		            "", "");
	p = end;
	while (*p == ' ')
		p++;
	while (isalpha((unsigned char)p[ulen]) && ulen < sizeof(unit) - 1) {
		unit[ulen] = p[ulen];
		ulen++;
	}
	unit[ulen] = '\0';
	p += ulen;
	while (*p == ' ')
		p++;
	if (*p != '\0')
		return fail(err, errlen, "rate: unexpected text after the unit%s%s", "", "");
	if (strcmp(unit, v == 1 ? "minute" : "minutes") == 0)
		mult = 60;
	else if (strcmp(unit, v == 1 ? "hour" : "hours") == 0)
		mult = 3600;
	else if (strcmp(unit, v == 1 ? "day" : "days") == 0)
		mult = 86400;
	else
		return fail(err, errlen, "rate: unit '%s' must be %s", unit,
		            v == 1 ? "minute, hour or day" : "minutes, hours or days");
	out->kind = SCHEDULE_RATE;
	out->rate_s = v * mult;
	return 0;
}

static int parse_cron(const char *s, size_t len, struct schedule *out, char *err, size_t errlen)
{
	const char *p = s, *end = s + len;
	uint64_t bits[F_COUNT][4];
	int question[F_COUNT];
	int n = 0;

	memset(bits, 0, sizeof(bits));
	while (p < end) {
		const char *start;

		while (p < end && *p == ' ')
			p++;
		if (p == end)
			break;
		if (n == F_COUNT)
			return fail(err, errlen,
			            "cron: expected 6 fields (minutes hours day-of-month "
			            "month day-of-week year)%s%s",
			            "", "");
		start = p;
		while (p < end && *p != ' ')
			p++;
		if (parse_field(&fields[n], start, (size_t)(p - start), bits[n], &question[n], err,
		                errlen) != 0)
			return -1;
		n++;
	}
	if (n != F_COUNT)
		return fail(err, errlen,
		            "cron: expected 6 fields (minutes hours day-of-month month "
		            "day-of-week year)%s%s",
		            "", "");
	if (question[F_MDAY] == question[F_WDAY])
		return fail(err, errlen,
		            "cron: exactly one of day-of-month and day-of-week must be "
		            "'?'%s%s",
		            "", "");
	out->kind = SCHEDULE_CRON;
	out->minutes = bits[F_MIN][0];
	out->hours = (uint32_t)bits[F_HOUR][0];
	out->mdays = (uint32_t)(bits[F_MDAY][0] << 1);   /* bit d for day d */
	out->months = (uint16_t)(bits[F_MONTH][0] << 1); /* bit m for month m */
	out->wdays = (uint8_t)bits[F_WDAY][0];           /* 1-7 -> bit 0-6 */
	out->mday_any = question[F_MDAY] != 0;
	out->wday_any = question[F_WDAY] != 0;
	memcpy(out->years, bits[F_YEAR], sizeof(out->years));
	return 0;
}

int schedule_parse(const char *expr, struct schedule *out, char *err, size_t errlen)
{
	size_t len;
	const char *s = expr;

	memset(out, 0, sizeof(*out));
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (expr == NULL)
		return fail(err, errlen, "no schedule expression%s%s", "", "");
	while (*s == ' ')
		s++;
	len = strlen(s);
	while (len > 0 && s[len - 1] == ' ')
		len--;
	if (len > EXPR_MAX)
		return fail(err, errlen, "schedule expression too long%s%s", "", "");
	if (len < 6 || s[len - 1] != ')')
		return fail(err, errlen, "schedule expression must be rate(...) or cron(...)%s%s",
		            "", "");
	if (strncmp(s, "rate(", 5) == 0)
		return parse_rate(s + 5, len - 6, out, err, errlen);
	if (strncmp(s, "cron(", 5) == 0)
		return parse_cron(s + 5, len - 6, out, err, errlen);
	return fail(err, errlen, "schedule expression must be rate(...) or cron(...)%s%s", "", "");
}

static int day_ok(const struct schedule *s, const struct tm *tm)
{
	if (s->wday_any)
		return (s->mdays >> tm->tm_mday) & 1;
	return (s->wdays >> tm->tm_wday) & 1;
}

/* Normalises tm (timegm does) and returns its time. */
static time_t tm_time(struct tm *tm)
{
	tm->tm_isdst = 0;
	return timegm(tm);
}

time_t schedule_next(const struct schedule *s, time_t after)
{
	struct tm tm;
	time_t t;

	if (after < 0)
		after = -1;
	if (s->kind == SCHEDULE_RATE) {
		if (s->rate_s <= 0)
			return -1;
		return (after / s->rate_s + 1) * s->rate_s;
	}
	/* cron fires on whole minutes: the first minute boundary after `after`. */
	t = (after / 60 + 1) * 60;
	for (int i = 0; i < NEXT_MAX_STEP; i++) {
		int year;

		if (gmtime_r(&t, &tm) == NULL)
			return -1;
		year = tm.tm_year + 1900;
		if (year > SCHEDULE_YEAR_MAX)
			return -1;
		if (year < SCHEDULE_YEAR_MIN || !has_bit(s->years, year - SCHEDULE_YEAR_MIN)) {
			tm.tm_year++;
			tm.tm_mon = 0;
			tm.tm_mday = 1;
			tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
		} else if (!((s->months >> (tm.tm_mon + 1)) & 1)) {
			tm.tm_mon++;
			tm.tm_mday = 1;
			tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
		} else if (!day_ok(s, &tm)) {
			tm.tm_mday++;
			tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
		} else if (!((s->hours >> tm.tm_hour) & 1)) {
			tm.tm_hour++;
			tm.tm_min = tm.tm_sec = 0;
		} else if (!((s->minutes >> tm.tm_min) & 1)) {
			tm.tm_min++;
			tm.tm_sec = 0;
		} else {
			return t;
		}
		t = tm_time(&tm);
		if (t == (time_t)-1)
			return -1;
	}
	return -1;
}
