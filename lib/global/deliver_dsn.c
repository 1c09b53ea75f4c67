/*
 * deliver_dsn.c - enhanced status codes ("X.Y.Z", RFC 3463) in delivery
 * results.
 *
 * Interface: deliver.h. deliver_dsn_scan() finds a status code at the
 * start of a text (a remote server's reply, a command's output);
 * deliver_dsn_ok() checks a whole status from a delivery agent's reply.
 *
 * SECURITY: the text comes from remote servers or other processes; the
 * code is copied only when it fits the caller's buffer, and each part
 * has at most three digits.
 *
 * DIAGNOSTICS: none; a text without a valid code gives 0.
 */
#include <string.h>

#include "deliver.h"

size_t
deliver_dsn_scan(const char *text, char *dsn, size_t dsnlen)
{
    const char *p = text;
    int     part, n;

    if (*p != '2' && *p != '4' && *p != '5')
        return 0;
    p++;
    for (part = 0; part < 2; part++) {
        if (*p++ != '.')
            return 0;
        for (n = 0; *p >= '0' && *p <= '9'; p++)
            n++;
        if (n < 1 || n > 3)
            return 0;
    }
    if (*p != 0 && *p != ' ' && *p != '\t')
        return 0;
    if ((size_t) (p - text) >= dsnlen)
        return 0;
    memcpy(dsn, text, (size_t) (p - text));
    dsn[p - text] = 0;
    return (size_t) (p - text);
}

/* A whole "X.Y.Z" status that fits a DELIVER_RCPT. */
int
deliver_dsn_ok(const char *dsn)
{
    char    buf[sizeof(((DELIVER_RCPT *) 0)->dsn)];
    size_t  n = deliver_dsn_scan(dsn, buf, sizeof(buf));

    return n > 0 && dsn[n] == 0;
}
