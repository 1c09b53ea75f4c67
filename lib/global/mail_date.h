/*
 * mail_date.h - the date of Date:, Received: and DSN headers, in the
 * local time zone, the way Postfix writes it:
 *
 *     Tue,  1 Dec 2026 12:00:00 +0100 (CET)
 *
 * The day of the month is padded with a space to two characters (never
 * with a zero), the offset is +hhmm or -hhmm, the zone abbreviation is
 * in parentheses. Every header date in posthorn comes from here, so
 * Date: (cleanup), Received: (smtpd, pickup, bounce) and the DSN dates
 * read the same.
 *
 * mail_date(out, when): out is overwritten with the date for when.
 *
 * DIAGNOSTICS: none (pure formatting).
 */
#ifndef POSTHORN_MAIL_DATE_H
#define POSTHORN_MAIL_DATE_H

#include <time.h>
#include "vstring.h"

void    mail_date(VSTRING *out, time_t when);

#endif
