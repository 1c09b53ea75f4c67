/*
 * tlsmgr_cache.c - the TLS session caches kept by tlsmgr.
 *
 * Interface: tlsmgr.h. A cache is a hash: or btree: table named by
 * $smtpd_tls_session_cache_database (smtp_..., lmtp_...), opened once at
 * start-up: emptied (created when missing, as Postfix's tlsmgr does), then
 * kept open for update under its exclusive lock for the life of the
 * process. An entry is "cache_id" -> "time:hex", time being when it was
 * stored; an entry older than the cache's timeout counts as absent and is
 * deleted when looked up, and tlsmgr_cache_expire() (every timeout
 * seconds, tlsmgr.c) deletes all of them. Keys are stored as given (no
 * case folding).
 *
 * SECURITY: ids and session texts are checked by tlsmgr_service.c before
 * they get here (printable and bounded, hexadecimal and bounded); values
 * read back that do not parse are deleted. The file lives in
 * data_directory and is opened with mail_owner's rights.
 *
 * DIAGNOSTICS: "cannot open TLS session cache type:name: reason: session
 * caching is off" at start-up; table errors are warnings and count as
 * cache misses.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "argv.h"
#include "mem.h"
#include "msg.h"
#include "tlsmgr.h"
#include "vstring.h"

TLSMGR_CACHE tlsmgr_caches[TLSMGR_NCACHE] = {
    {"smtpd", NULL, 0},
    {"smtp", NULL, 0},
    {"lmtp", NULL, 0},
};

int
tlsmgr_cache_open(TLSMGR_CACHE *cache, const char *spec, long timeout)
{
    char   *err = NULL;
    DICT   *d;

    if (strncmp(spec, "hash:", 5) != 0 && strncmp(spec, "btree:", 6) != 0) {
        msg_warn("cannot open TLS session cache %s: only hash: and btree: tables are "
                 "supported: session caching is off", spec);
        return -1;
    }
    if ((d = dict_open(spec, MAP_CREATE | MAP_FOLD_NONE, &err)) == NULL
        || dict_commit(d, &err) < 0
        || (d = dict_open(spec, MAP_WRITE | MAP_FOLD_NONE, &err)) == NULL) {
        msg_warn("cannot open TLS session cache %s: %s: session caching is off", spec,
                 err ? err : "unknown error");
        mem_free(err);
        return -1;
    }
    cache->dict = d;
    cache->timeout = timeout;
    return 0;
}

TLSMGR_CACHE *
tlsmgr_cache_find(const char *type)
{
    for (int i = 0; i < TLSMGR_NCACHE; i++)
        if (strcmp(tlsmgr_caches[i].type, type) == 0)
            return &tlsmgr_caches[i];
    return NULL;
}

/* The time and the session text of a value; 0, or -1 when malformed. */
static int
tlsmgr_cache_parse(const char *value, time_t *stamp, const char **hex)
{
    char   *end;
    long    t;

    errno = 0;
    t = strtol(value, &end, 10);
    if (errno != 0 || end == value || *end != ':' || t < 0)
        return -1;
    *stamp = (time_t) t;
    *hex = end + 1;
    return tls_mgr_valid_hex(*hex, TLS_MGR_SESSION_MAX) ? 0 : -1;
}

static int
tlsmgr_cache_expired(const TLSMGR_CACHE *cache, time_t stamp, time_t now)
{
    return stamp > now || now - stamp >= cache->timeout;
}

int
tlsmgr_cache_lookup(TLSMGR_CACHE *cache, const char *id, time_t now, const char **hex)
{
    const char *value;
    time_t  stamp;
    int     ret;

    if (cache->dict == NULL)
        return MAP_NOTFOUND;
    if ((ret = dict_get(cache->dict, id, &value)) != MAP_FOUND) {
        if (ret == MAP_FAIL)
            msg_warn("%s", dict_error(cache->dict));
        return ret;
    }
    if (tlsmgr_cache_parse(value, &stamp, hex) < 0 || tlsmgr_cache_expired(cache, stamp, now)) {
        (void) dict_del(cache->dict, id);
        return MAP_NOTFOUND;
    }
    return MAP_FOUND;
}

int
tlsmgr_cache_update(TLSMGR_CACHE *cache, const char *id, const char *hex, time_t now)
{
    char   *value;
    int     ret;

    if (cache->dict == NULL)
        return -1;
    value = mem_printf("%ld:%s", (long) now, hex);
    if ((ret = dict_put(cache->dict, id, value)) < 0)
        msg_warn("%s", dict_error(cache->dict));
    mem_free(value);
    return ret;
}

int
tlsmgr_cache_delete(TLSMGR_CACHE *cache, const char *id)
{
    if (cache->dict == NULL)
        return MAP_NOTFOUND;
    return dict_del(cache->dict, id);
}

int
tlsmgr_cache_expire(TLSMGR_CACHE *cache, time_t now)
{
    ARGV   *old = argv_alloc();
    const char *key, *value, *hex;
    time_t  stamp;
    int     n;

    if (cache->dict == NULL) {
        argv_free(old);
        return 0;
    }
    for (int first = 1; dict_seq(cache->dict, first, &key, &value) == MAP_FOUND; first = 0)
        if (tlsmgr_cache_parse(value, &stamp, &hex) < 0
            || tlsmgr_cache_expired(cache, stamp, now))
            argv_add(old, key);
    for (size_t i = 0; i < old->argc; i++)
        (void) dict_del(cache->dict, old->argv[i]);
    (void) dict_sync(cache->dict);
    n = (int) old->argc;
    argv_free(old);
    return n;
}
