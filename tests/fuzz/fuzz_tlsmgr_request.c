/*
 * fuzz_tlsmgr_request.c - libFuzzer harness for tlsmgr's request handling
 * (tlsmgr/tlsmgr_service.c: tlsmgr_request() after attr_read(), as
 * tlsmgr_service() does). Requests come from other processes over
 * private/tlsmgr: untrusted. The smtpd cache is a real btree: table in
 * /tmp (removed at exit), so lookups, updates and deletes run too; the
 * clock is a fixed count, so that expiry is exercised deterministically.
 */
#include "../../tlsmgr/tlsmgr_service.c"
#include "../../tlsmgr/tlsmgr_cache.c"
#include "../../tlsmgr/tlsmgr_key.c"
#include "fuzz_util.h"

static char fuzz_db[64];

static void
fuzz_tlsmgr_cleanup(void)
{
    char    path[80];

    dict_close(tlsmgr_caches[TLSMGR_SMTPD].dict);
    snprintf(path, sizeof(path), "%s.db", fuzz_db);
    (void) unlink(path);
}

static void
fuzz_tlsmgr_init(void)
{
    char   *spec;

    snprintf(fuzz_db, sizeof(fuzz_db), "/tmp/fuzz_tlsmgr.%ld", (long) getpid());
    spec = mem_printf("btree:%s", fuzz_db);
    if (tlsmgr_cache_open(&tlsmgr_caches[TLSMGR_SMTPD], spec, 120) < 0)
        abort();
    mem_free(spec);
    tlsmgr_key_init(120);
    atexit(fuzz_tlsmgr_cleanup);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int inited;
    static time_t now = 1000000;
    STREAM *s;
    ATTR_LIST *req, *reply;

    if (!inited++)
        fuzz_tlsmgr_init();
    if ((s = fuzz_stream(data, size)) == NULL)
        return 0;
    req = attr_list_alloc();
    reply = attr_list_alloc();
    while (attr_read(s, req) > 0) {
        tlsmgr_request(req, reply, now += 7);
        if (attr_get(reply, TLS_MGR_ATTR_STATUS) == NULL)
            abort();
    }
    stream_close(s);
    attr_list_free(req);
    attr_list_free(reply);
    return 0;
}
