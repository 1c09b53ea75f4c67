/*
 * verify_cache.c - the verify service's cache entries and decisions.
 *
 * Interface (verify.h): verify_entry_parse(), verify_entry_format(),
 * verify_query_decide(), verify_update_ok().
 *
 * Entry format (the value stored under the address in
 * $address_verify_map, as Postfix's verify_cache): "status:probed:
 * updated:text" with status 0 deliverable, 1 undeliverable for now,
 * 2 undeliverable, 3 probe pending; probed and updated are epoch seconds
 * (0: none).
 *
 * Query rules: no entry, a positive one older than
 * address_verify_positive_expire_time, or a negative one older than
 * address_verify_negative_expire_time is "in progress" (TODO). A probe
 * is sent when none was sent in the last VERIFY_PROBE_TTL seconds and
 * the entry is missing, pending, or older than its refresh time
 * (address_verify_{positive,negative}_refresh_time); the old answer
 * stands meanwhile.
 *
 * SECURITY: a value read from the cache file is parsed strictly (three
 * numbers in range, then any text); a malformed one counts as missing.
 *
 * DIAGNOSTICS: none.
 */
#include <errno.h>
#include <stdlib.h>

#include "mail_proto.h"
#include "verify.h"

/* A decimal number ended by ':'; advances *cp past the colon. */
static int
verify_number(const char **cp, long *value)
{
    char   *end;

    if (**cp < '0' || **cp > '9')
        return -1;
    errno = 0;
    *value = strtol(*cp, &end, 10);
    if (errno != 0 || *end != ':')
        return -1;
    *cp = end + 1;
    return 0;
}

int
verify_entry_parse(const char *value, VERIFY_ENTRY *e)
{
    const char *cp = value;
    long    status;

    if (verify_number(&cp, &status) < 0 || status < VERIFY_ADDR_OK || status > VERIFY_ADDR_TODO
        || verify_number(&cp, &e->probed) < 0 || verify_number(&cp, &e->updated) < 0)
        return -1;
    e->status = (int) status;
    e->text = cp;
    return 0;
}

void
verify_entry_format(VSTRING *out, const VERIFY_ENTRY *e)
{
    vstring_sprintf(out, "%d:%ld:%ld:%s", e->status, e->probed, e->updated,
                    e->text ? e->text : "");
}

static int
verify_expired(const VERIFY_PARAMS *p, const VERIFY_ENTRY *e, time_t now)
{
    if (e->status == VERIFY_ADDR_TODO)
        return 0;
    if (e->status == VERIFY_ADDR_OK)
        return e->updated + p->pos_expire < now;
    return e->updated + p->neg_expire < now;
}

int
verify_query_decide(const VERIFY_PARAMS *p, int found, const VERIFY_ENTRY *e,
                    time_t now, VERIFY_ENTRY *reply)
{
    int     refresh;

    if (found && !verify_expired(p, e, now)) {
        *reply = *e;
    } else {
        reply->status = VERIFY_ADDR_TODO;
        reply->probed = found ? e->probed : 0;
        reply->updated = 0;
        reply->text = "Address verification in progress";
    }
    if (reply->status == VERIFY_ADDR_TODO)
        refresh = 1;
    else if (reply->status == VERIFY_ADDR_OK)
        refresh = reply->updated + p->pos_refresh < now;
    else
        refresh = reply->updated + p->neg_refresh < now;
    return refresh && (reply->probed == 0 || now - reply->probed > VERIFY_PROBE_TTL);
}

int
verify_update_ok(const VERIFY_PARAMS *p, int found, const VERIFY_ENTRY *old,
                 int new_status, time_t now)
{
    if (new_status == VERIFY_ADDR_OK || !found)
        return 1;
    return !(old->status == VERIFY_ADDR_OK && !verify_expired(p, old, now));
}
