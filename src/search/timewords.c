/*
 * timewords: ausearch's time words and dates for -ts/-te (see timewords.h).
 * Follows ausearch-time.c's rules, including its quirks: a keyword gives a
 * day at 00:00:00 for -ts but the current time of day for -te, "-te today"
 * is now, and the DST flag of a given date is taken from the current time.
 * It does not read the clock itself, nor know about "boot" or "checkpoint".
 * Called by the search option parser (query.c) only.
 */
#include "search/timewords.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define SECONDS_PER_DAY (24 * 60 * 60)
#define MIN_YEAR        2004 /* ausearch refuses earlier years (tm_year < 104) */

enum keyword {
    KW_NONE = -1,
    KW_NOW,
    KW_RECENT,
    KW_TODAY,
    KW_YESTERDAY,
    KW_THIS_WEEK,
    KW_WEEK_AGO,
    KW_THIS_MONTH,
    KW_THIS_YEAR
};

static const char *const keywords[] = {"now",       "recent",   "today",      "yesterday",
                                       "this-week", "week-ago", "this-month", "this-year"};

static enum keyword keyword_of(const char *word)
{
    for (size_t i = 0; word && i < sizeof(keywords) / sizeof(keywords[0]); i++)
        if (!strcmp(word, keywords[i]))
            return (enum keyword)i;
    return KW_NONE;
}

bool timewords_is_keyword(const char *word)
{
    return keyword_of(word) != KW_NONE;
}

bool timewords_is_time(const char *word)
{
    return word && strchr(word, ':');
}

static void set_date(struct tm *d, time_t t)
{
    struct tm tv;
    localtime_r(&t, &tv);
    d->tm_mday = tv.tm_mday;
    d->tm_mon = tv.tm_mon;
    d->tm_year = tv.tm_year;
    d->tm_isdst = tv.tm_isdst;
}

static void set_time_of_day(struct tm *d, time_t t)
{
    struct tm tv;
    localtime_r(&t, &tv);
    d->tm_hour = tv.tm_hour;
    d->tm_min = tv.tm_min;
    d->tm_sec = tv.tm_sec;
}

/* The day a keyword names (time of day left at midnight). */
static void keyword_day(enum keyword k, time_t now, struct tm *d)
{
    struct tm tv;
    localtime_r(&now, &tv);
    d->tm_hour = d->tm_min = d->tm_sec = 0;
    switch (k) {
    case KW_YESTERDAY:
        set_date(d, now - SECONDS_PER_DAY);
        break;
    case KW_THIS_WEEK:
        set_date(d, now - (time_t)tv.tm_wday * SECONDS_PER_DAY);
        break;
    case KW_WEEK_AGO:
        set_date(d, now - 7 * SECONDS_PER_DAY);
        break;
    case KW_THIS_MONTH:
        set_date(d, now);
        d->tm_mday = 1;
        break;
    case KW_THIS_YEAR:
        set_date(d, now);
        d->tm_mday = 1;
        d->tm_mon = 0;
        break;
    default:
        set_date(d, now);
        break;
    }
}

/* The locale's date format, as ausearch takes it ("%x": the locale decides
 * how many digits the year has, hence no -Wformat-y2k here). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-y2k"
static void date_example(char *out, size_t n)
{
    struct tm ex = {.tm_mday = 31, .tm_mon = 11, .tm_year = 126};
    strftime(out, n, "%x", &ex);
}
#pragma GCC diagnostic pop

/* HH:MM or HH:MM:SS, 24-hour clock, into d. */
static int parse_tod(const char *tod, struct tm *d, char *err, size_t errlen)
{
    char tmp[9];
    struct tm t = {0};
    if (strlen(tod) <= 5)
        snprintf(tmp, sizeof(tmp), "%s:00", tod);
    else
        snprintf(tmp, sizeof(tmp), "%s", tod);
    const char *end = strlen(tod) < sizeof(tmp) ? strptime(tmp, "%X", &t) : NULL;
    if (!end || *end) {
        snprintf(err, errlen,
                 "bad time '%s': give HH:MM:SS or HH:MM (24-hour clock), or one of " TIMEWORDS_LIST,
                 tod);
        return -EINVAL;
    }
    d->tm_hour = t.tm_hour;
    d->tm_min = t.tm_min;
    d->tm_sec = t.tm_sec;
    return 0;
}

static int parse_date(const char *date, struct tm *d, char *err, size_t errlen)
{
    char example[64];
    date_example(example, sizeof(example));
    const char *end = strptime(date, "%x", d);
    if (!end || *end) {
        {
            snprintf(err, errlen,
                     "bad date or time word '%s': accepted are a date as this locale writes it "
                     "(date +%%x, e.g. %s), a time HH:MM:SS, or one of " TIMEWORDS_LIST,
                     date, example);
        }
        return -EINVAL;
    }
    return 0;
}

int timewords_parse(const char *date, const char *tod, enum timewords_edge edge, time_t now,
                    time_t *out, char *err, size_t errlen)
{
    struct tm d = {0};
    enum keyword k = keyword_of(date);
    if (k == KW_NOW || k == KW_RECENT) {
        *out = k == KW_NOW ? now : now - 10 * 60;
        return 0;
    }
    if (k == KW_TODAY && edge == TIMEWORDS_END) {
        *out = now;
        return 0;
    }
    if (!date)
        set_date(&d, now);
    else if (k != KW_NONE)
        keyword_day(k, now, &d);
    else if (parse_date(date, &d, err, errlen) < 0)
        return -EINVAL;
    if (tod) {
        if (parse_tod(tod, &d, err, errlen) < 0)
            return -EINVAL;
    } else if (edge == TIMEWORDS_END) {
        set_time_of_day(&d, now);
    } else {
        d.tm_hour = d.tm_min = d.tm_sec = 0;
    }
    struct tm nowtm;
    localtime_r(&now, &nowtm);
    d.tm_isdst = nowtm.tm_isdst; /* as ausearch: the DST flag of now */
    if (d.tm_year + 1900 < MIN_YEAR) {
        snprintf(err, errlen, "year %d is before 2004 (ausearch refuses it too)", d.tm_year + 1900);
        return -EINVAL;
    }
    time_t t = mktime(&d);
    if (t == (time_t)-1) {
        snprintf(err, errlen, "cannot convert '%s' to a time", date ? date : tod);
        return -EINVAL;
    }
    *out = t;
    return 0;
}
