/*
 * mail_date.c - RFC 5322 dates as Postfix writes them (see mail_date.h).
 *
 * strftime() in the C locale (posthorn never calls setlocale(), so the
 * day and month names are English): "%e" pads the day with a space.
 *
 * DIAGNOSTICS: none (pure formatting).
 */
#include <time.h>

#include "mail_date.h"

void
mail_date(VSTRING *out, time_t when)
{
    struct tm tm;
    char    buf[128];

    if (localtime_r(&when, &tm) == NULL
        || strftime(buf, sizeof(buf), "%a, %e %b %Y %H:%M:%S %z (%Z)", &tm) == 0)
        buf[0] = 0;
    vstring_strcpy(out, buf);
}
