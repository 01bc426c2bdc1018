/* schedule.h - EventBridge schedule expressions: rate() and cron().
 *
 *   rate(1 minute) rate(N minutes) rate(1 hour) rate(N hours) rate(1 day) rate(N days)
 *   cron(minutes hours day-of-month month day-of-week year)
 *
 * Times are UTC. cron fields take *, single values, ranges a-b, lists a,b,
 * steps (star)/n, a/n and a-b/n; months JAN-DEC and days SUN-SAT by name (day of
 * week 1-7 is SUN-SAT, as on AWS); years 1970-2199. Exactly one of
 * day-of-month and day-of-week must be '?' (AWS's rule). The special
 * characters L, W and # are not supported: they are rejected with an error
 * saying so. A rate fires at the multiples of its period since the epoch
 * (so every gateway computes the same fire times; EventBridge counts from
 * the rule's creation instead).
 */
#ifndef SCHEDULE_H
#define SCHEDULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

enum schedule_kind { SCHEDULE_RATE, SCHEDULE_CRON };

#define SCHEDULE_YEAR_MIN 1970
#define SCHEDULE_YEAR_MAX 2199

struct schedule {
	enum schedule_kind kind;
	long rate_s;       /* SCHEDULE_RATE: the period in seconds */
	uint64_t minutes;  /* bit m for minute m (0-59) */
	uint32_t hours;    /* bit h (0-23) */
	uint32_t mdays;    /* bit d (1-31); unused when mday_any */
	uint16_t months;   /* bit m (1-12) */
	uint8_t wdays;     /* bit w (0 = Sunday .. 6 = Saturday); unused when wday_any */
	bool mday_any;     /* day-of-month is '?' (day-of-week decides) */
	bool wday_any;     /* day-of-week is '?' (day-of-month decides) */
	uint64_t years[4]; /* bit (y - SCHEDULE_YEAR_MIN) */
};

/* Parses expr into out. 0, or -1 with a reason in err (which field, what). */
int schedule_parse(const char *expr, struct schedule *out, char *err, size_t errlen);

/* The first fire time strictly after `after` (epoch seconds), or -1 when
 * the expression never fires again (e.g. cron(0 0 30 2 ? *), or past 2199). */
time_t schedule_next(const struct schedule *s, time_t after);

#endif
