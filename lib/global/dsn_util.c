/*
 * dsn_util.c - enhanced status codes in reason texts (dsn_util.h).
 *
 * SECURITY: the reason is the next hop of a transport entry (admin
 * configuration, or the resolver's result); the code is copied only
 * when it fits dsn, the rest stays inside reason.
 *
 * DIAGNOSTICS: none (pure functions).
 */
#include <stdio.h>

#include "deliver.h"
#include "dsn_util.h"

const char *
dsn_split(const char *reason, int class, char *dsn, size_t dsnlen)
{
    size_t  len;

    if (reason == NULL)
        reason = "";
    while (*reason == ' ' || *reason == '\t')
        reason++;
    if ((len = deliver_dsn_scan(reason, dsn, dsnlen)) > 0) {
        dsn[0] = (char) class;
        reason += len;
        while (*reason == ' ' || *reason == '\t')
            reason++;
    } else {
        snprintf(dsn, dsnlen, "%c.0.0", class);
    }
    return reason;
}
