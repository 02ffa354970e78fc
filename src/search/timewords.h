/*
 * timewords: ausearch's -ts/-te arguments -> a time_t. One or two words:
 * a keyword (now, recent, today, yesterday, this-week, week-ago, this-month,
 * this-year), a date in the locale's format (strptime "%x"; with LC_ALL=C
 * MM/DD/YY... as `date +%x` shows) and/or a time HH:MM[:SS] (24-hour), with
 * ausearch's rules for what a missing part means (see ausearch(8)):
 *   start: no date = today, no time = midnight;
 *   end:   no date = today, no time = the current time of day; today = now;
 *   now and recent are the instant itself (recent: 10 minutes ago), whatever
 *   time is given. (A keyword given alone on the command line is its day at
 *   00:00:00 for both edges, as ausearch 3.0.9's option parser passes that
 *   time: see query.c.)
 * The clock is a parameter (tests pin it); TZ and LC_TIME are the process's,
 * as for ausearch. No allocation, no globals.
 */
#ifndef LW_SEARCH_TIMEWORDS_H
#define LW_SEARCH_TIMEWORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

enum timewords_edge { TIMEWORDS_START, TIMEWORDS_END };

/* The keywords, comma-separated, for messages and --help. */
#define TIMEWORDS_LIST "now, recent, today, yesterday, this-week, week-ago, this-month, this-year"

/* True if `word` is one of the keywords. */
bool timewords_is_keyword(const char *word);
/* True if `word` looks like a time (holds ':'), as ausearch decides. */
bool timewords_is_time(const char *word);

/*
 * Parses `date` (keyword or date, may be NULL) and `tod` (time of day, may be
 * NULL) for the given edge, relative to `now`. Returns 0 and *out, or -EINVAL
 * with a message in err[0..errlen) naming the bad word and what is accepted.
 */
int timewords_parse(const char *date, const char *tod, enum timewords_edge edge, time_t now,
                    time_t *out, char *err, size_t errlen);

#endif
