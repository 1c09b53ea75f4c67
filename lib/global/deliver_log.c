/*
 * deliver_log.c - the per-recipient "to=<...>, relay=..., delay=...,
 * delays=..., dsn=..., status=..." log line and its delay formatting.
 *
 * Interface: deliver.h (deliver_log_status, deliver_format_delays,
 * deliver_now). Delays are printed as Postfix prints them: whole seconds
 * from 10s up, two significant digits below that (truncated), at most
 * $delay_logging_resolution_limit digits after the point, "0" for
 * anything smaller. That parameter is read once by mail_params_init()
 * (mail_params.h).
 *
 * SECURITY: the addresses and the text come from the network and other
 * processes; msg_info() escapes and cuts the line (MSG_LINE_MAX).
 *
 * DIAGNOSTICS: nothing is fatal here (a bad resolution limit is, in
 * mail_params_init()); a nonsense time (negative, not finite) prints as
 * 0. Formatting before mail_params_init() panics.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

#include "deliver.h"
#include "mail_params.h"
#include "msg.h"

double
deliver_now(void)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    return tv.tv_sec + tv.tv_usec / 1e6;
}

/* One delay value as Postfix prints it: whole seconds from 10s up, two
 * significant digits below that (truncated), at most "limit" digits after
 * the point, "0" for anything smaller. */
static void
deliver_format_one(VSTRING *out, double x, int limit)
{
    char    buf[64];
    int     digits, i;
    double  scale;
    char   *p;

    if (!isfinite(x) || x < 0)
        x = 0;
    if (x > 1e12)
        x = 1e12;
    if (x >= 10) {
        vstring_sprintf_append(out, "%lld", (long long) (x + 0.5));
        return;
    }
    if (x >= 1)
        digits = 1;
    else {
        for (digits = 2, scale = 0.1; digits < 8 && x < scale; digits++)
            scale /= 10;
    }
    if (digits > limit)
        digits = limit;
    for (scale = 1, i = 0; i < digits; i++)
        scale *= 10;
    x = (double) (long long) (x * scale + 1e-6) / scale;        /* truncate: below the limit is "0" */
    snprintf(buf, sizeof(buf), "%.*f", digits, x);
    if (strchr(buf, '.')) {
        for (p = buf + strlen(buf) - 1; *p == '0'; p--)
            *p = 0;
        if (*p == '.')
            *p = 0;
    }
    vstring_cat(out, buf);
}

void
deliver_format_delays(VSTRING *out, double arrival, double active,
                      double agent, double conn, double xfer, double now)
{
    int     limit;

    mail_params_need("deliver_format_delays");
    limit = (int) mail_params.delay_logging_resolution_limit;

    if (active < arrival)
        active = arrival;
    if (agent < active)
        agent = active;
    vstring_cat(out, "delay=");
    deliver_format_one(out, now - arrival, limit);
    vstring_cat(out, ", delays=");
    deliver_format_one(out, active - arrival, limit);
    vstring_cat(out, "/");
    deliver_format_one(out, agent - active, limit);
    vstring_cat(out, "/");
    deliver_format_one(out, conn, limit);
    vstring_cat(out, "/");
    deliver_format_one(out, xfer, limit);
}

void
deliver_log_status(const char *queue_id, const char *to, const char *orig,
                   const char *relay, double arrival, double active, double agent,
                   double conn, double xfer, const char *dsn, const char *status,
                   const char *text)
{
    VSTRING *line = vstring_alloc(MSG_LINE_MAX);

    vstring_sprintf(line, "%s: to=<%s>, ", queue_id, to);
    if (orig && *orig && strcasecmp(orig, to) != 0)
        vstring_sprintf_append(line, "orig_to=<%s>, ", orig);
    vstring_sprintf_append(line, "relay=%s, ", relay);
    deliver_format_delays(line, arrival, active, agent, conn, xfer, deliver_now());
    vstring_sprintf_append(line, ", dsn=%s, status=%s (%s)", dsn, status, text ? text : "");
    msg_info("%s", STR(line));
    vstring_free(line);
}
