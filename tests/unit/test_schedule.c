/* test_schedule.c - rate() and cron() expressions: next fire times at fixed
 * instants, and the expressions that must be refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "schedule.h"

struct next_case {
	const char *expr;
	time_t after;
	time_t want;
};

static const struct next_case next_cases[] = {
        /* rates fire at multiples of their period since the epoch */
        {"rate(1 minute)", 1700000000, 1700000040},
        {"rate(1 minute)", 1700000040, 1700000100},
        {"rate(5 minutes)", 1700000000, 1700000100},
        {"rate(2 hours)", 1700000000, 1700006400},
        {"rate(1 hour)", 1700000000, 1700002800},
        {"rate(1 day)", 1700000000, 1700006400},
        {"rate(7 days)", 0, 604800},
        {" rate( 10  minutes ) ", 0, 600},
        /* daily at noon; strictly after: the same instant is not returned */
        {"cron(0 12 * * ? *)", 1709125200, 1709208000}, /* 2024-02-28T13 -> 02-29T12 (leap) */
        {"cron(0 12 * * ? *)", 1709208000, 1709208000 + 86400},
        /* Feb 29 only exists in leap years; 2100 is not one */
        {"cron(0 0 29 2 ? *)", 1677628800, 1709164800},   /* 2023-03-01 -> 2024-02-29 */
        {"cron(0 0 29 FEB ? *)", 4107456000, 4233686400}, /* 2100-02-28 -> 2104-02-29 */
        /* the 31st skips months that have 30 days */
        {"cron(0 0 31 * ? *)", 1711929600, 1717113600}, /* 2024-04-01 -> 2024-05-31 */
        /* day of week: names and numbers (1 = SUN) */
        {"cron(15 10 ? * MON-FRI *)", 1717755300, 1718014500}, /* Fri 10:15 -> Mon 10:15 */
        {"cron(0 8 ? * 1 *)", 1717755300, 1717920000},         /* -> Sun 2024-06-09T08:00 */
        {"cron(30 23 ? * 7 *)", 1672529400, 1673134200},       /* Sat -> next Sat, over New Year */
        {"cron(30 23 ? * sat *)", 1672529399, 1672529400},
        /* steps */
        {"cron(*/15 * * * ? *)", 1704068099, 1704068100},  /* 00:14:59 -> 00:15 */
        {"cron(*/15 * * * ? *)", 1704068100, 1704069000},  /* 00:15 -> 00:30 */
        {"cron(5/20 * * * ? *)", 1704067200, 1704067500},  /* 00:00 -> 00:05 */
        {"cron(5/20 * * * ? *)", 1704067500, 1704068700},  /* 00:05 -> 00:25 */
        {"cron(0 0-6/3 * * ? *)", 1704067200, 1704078000}, /* 00:00 -> 03:00 */
        /* lists, years, month names */
        {"cron(0/20 9-17 ? * SAT,SUN 2025)", 1717200000, 1735981200}, /* -> Sat 2025-01-04T09:00 */
        {"cron(0 0 1 JAN ? *)", 1735689599, 1735689600},
        {"cron(0 0 1 jan,jul ? 2024-2030)", 1704067200, 1719792000}, /* -> 2024-07-01 */
        /* the last year there is, and past it */
        {"cron(59 23 31 12 ? 2199)", 7258032000, 7258118340},
        {"cron(59 23 31 12 ? 2199)", 7258118340, -1},
        /* never: February 30th */
        {"cron(0 0 30 2 ? *)", 1704067200, -1},
        {"cron(0 0 1 1 ? 2024)", 1704067200, -1},
};

static void test_next_times(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(next_cases) / sizeof(next_cases[0]); i++) {
		const struct next_case *c = &next_cases[i];
		struct schedule s;
		char err[200];
		time_t got;

		if (schedule_parse(c->expr, &s, err, sizeof(err)) != 0)
			fail_msg("%s: refused: %s", c->expr, err);
		got = schedule_next(&s, c->after);
		if (got != c->want)
			fail_msg("%s after %lld: got %lld, want %lld", c->expr, (long long)c->after,
			         (long long)got, (long long)c->want);
	}
}

static void test_rate_kind(void **state)
{
	struct schedule s;
	char err[200];

	(void)state;
	assert_int_equal(schedule_parse("rate(3 hours)", &s, err, sizeof(err)), 0);
	assert_int_equal(s.kind, SCHEDULE_RATE);
	assert_int_equal(s.rate_s, 3 * 3600);
	assert_int_equal(schedule_parse("cron(0 3 * * ? *)", &s, err, sizeof(err)), 0);
	assert_int_equal(s.kind, SCHEDULE_CRON);
}

struct bad_case {
	const char *expr;
	const char *msg; /* a fragment the error must contain */
};

static const struct bad_case bad_cases[] = {
        {"", "rate(...) or cron(...)"},
        {"at(2024-01-01T00:00:00)", "rate(...) or cron(...)"},
        {"rate(0 minutes)", "positive"},
        {"rate(-1 minutes)", "positive"},
        {"rate(5)", "unit"},
        {"rate(1 minutes)", "minute, hour or day"},
        {"rate(2 minute)", "minutes, hours or days"},
        {"rate(5 seconds)", "minutes, hours or days"},
        {"rate(1 minute) x", "rate(...) or cron(...)"},
        {"rate(1 minute x)", "after the unit"},
        {"rate(99999999999999999999 minutes)", "positive"},
        {"cron(0 12 * * * *)", "'?'"},
        {"cron(0 12 ? * ? *)", "'?'"},
        {"cron(0 12 * *)", "6 fields"},
        {"cron(0 0 1 * ? * *)", "6 fields"},
        {"cron(60 * * * ? *)", "minutes"},
        {"cron(0 24 * * ? *)", "hours"},
        {"cron(0 0 32 * ? *)", "day-of-month"},
        {"cron(0 0 0 * ? *)", "day-of-month"},
        {"cron(0 0 1 13 ? *)", "month"},
        {"cron(0 0 1 FOO ? *)", "month"},
        {"cron(0 0 ? * 8 *)", "day-of-week"},
        {"cron(0 0 ? * 0 *)", "day-of-week"},
        {"cron(0 0 1 * ? 1969)", "year"},
        {"cron(0 0 1 * ? 2200)", "year"},
        {"cron(5-1 * * * ? *)", "range start after its end"},
        {"cron(*/0 * * * ? *)", "step"},
        {"cron(*/ * * * ? *)", "step"},
        {"cron(0,,5 * * * ? *)", "empty"},
        {"cron(? * * * ? *)", "'?' is only allowed"},
        {"cron(0 0 L * ? *)", "L, W and # are not supported"},
        {"cron(0 0 ? * 6L *)", "L, W and # are not supported"},
        {"cron(0 0 ? * 6#3 *)", "L, W and # are not supported"},
        {"cron(0 0 15W * ? *)", "L, W and # are not supported"},
        {"cron(a 0 1 * ? *)", "minutes"},
};

static void test_invalid(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		struct schedule s;
		char err[200] = "";

		if (schedule_parse(bad_cases[i].expr, &s, err, sizeof(err)) != -1)
			fail_msg("'%s' was accepted", bad_cases[i].expr);
		if (strstr(err, bad_cases[i].msg) == NULL)
			fail_msg("'%s': error '%s' lacks '%s'", bad_cases[i].expr, err,
			         bad_cases[i].msg);
	}
	assert_int_equal(schedule_parse(NULL, &(struct schedule){0}, NULL, 0), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_next_times),
	        cmocka_unit_test(test_rate_kind),
	        cmocka_unit_test(test_invalid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
