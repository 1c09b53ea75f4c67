/*
 * test_tlsmgr.c - tlsmgr's session caches (tlsmgr/tlsmgr_cache.c), ticket
 * keys (tlsmgr_key.c) and request checks (tlsmgr_service.c), compiled in
 * directly; the checks of hex and ids (lib/tls/tls_mgr.c), and
 * the client's behaviour when no tlsmgr listens.
 */
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"
#include "../../tlsmgr/tlsmgr_cache.c"
#include "../../tlsmgr/tlsmgr_key.c"
#include "../../tlsmgr/tlsmgr_service.c"

#define T0 1000000000                   /* any fixed time will do */

UNIT_TEST(valid_hex)
{
    CHECK_INT(tls_mgr_valid_hex("A0b1", 2), 1);
    CHECK_INT(tls_mgr_valid_hex("A0b1", 1), 0);         /* too long */
    CHECK_INT(tls_mgr_valid_hex("", 10), 0);
    CHECK_INT(tls_mgr_valid_hex("A0 1", 10), 0);
    CHECK_INT(tls_mgr_valid_hex("A0B", 10), 0);         /* odd */
}

UNIT_TEST(cache_ids)
{
    char    long_id[TLS_MGR_ID_MAX + 2];

    CHECK_INT(tls_mgr_valid_id("mail.example[192.0.2.1]:25&0A1B"), 1);
    CHECK_INT(tls_mgr_valid_id(""), 0);
    CHECK_INT(tls_mgr_valid_id("a b"), 0);
    CHECK_INT(tls_mgr_valid_id("a\nb"), 0);
    memset(long_id, 'x', sizeof(long_id) - 1);
    long_id[sizeof(long_id) - 1] = 0;
    CHECK_INT(tls_mgr_valid_id(long_id), 0);
    long_id[TLS_MGR_ID_MAX] = 0;
    CHECK_INT(tls_mgr_valid_id(long_id), 1);
}

/* A btree: cache in a scratch directory; the directory's path. */
static char *
open_cache(TLSMGR_CACHE *cache, long timeout)
{
    static char dir[] = "/tmp/test_tlsmgr.XXXXXX";
    static int made;                    /* (mkdtemp's name may end in 'X' too) */
    char   *spec;

    if (!made++)
        CHECK(mkdtemp(dir) != NULL);
    spec = mem_printf("btree:%s/scache", dir);
    CHECK_INT(tlsmgr_cache_open(cache, spec, timeout), 0);
    mem_free(spec);
    return dir;
}

static void
remove_cache(TLSMGR_CACHE *cache, const char *dir)
{
    char   *db = mem_printf("%s/scache.db", dir);

    dict_close(cache->dict);
    cache->dict = NULL;
    (void) unlink(db);
    (void) rmdir(dir);
    mem_free(db);
}

UNIT_TEST(cache_update_lookup_expire)
{
    TLSMGR_CACHE cache = {"smtpd", NULL, 0};
    const char *dir = open_cache(&cache, 3600), *hex;

    CHECK_INT(tlsmgr_cache_lookup(&cache, "id1", T0, &hex), MAP_NOTFOUND);
    CHECK_INT(tlsmgr_cache_update(&cache, "id1", "A0B1", T0), 0);
    CHECK_INT(tlsmgr_cache_update(&cache, "ID1", "C2D3", T0 + 100), 0);
    CHECK_INT(tlsmgr_cache_lookup(&cache, "id1", T0 + 3599, &hex), MAP_FOUND);
    CHECK_STR(hex, "A0B1");
    CHECK_INT(tlsmgr_cache_lookup(&cache, "ID1", T0 + 3599, &hex), MAP_FOUND);
    CHECK_STR(hex, "C2D3");                             /* ids keep their case */
    /* too old: gone, and deleted */
    CHECK_INT(tlsmgr_cache_lookup(&cache, "id1", T0 + 3600, &hex), MAP_NOTFOUND);
    CHECK_INT(tlsmgr_cache_lookup(&cache, "id1", T0, &hex), MAP_NOTFOUND);
    /* the periodic cleanup drops what is old, keeps the rest */
    CHECK_INT(tlsmgr_cache_update(&cache, "id2", "00", T0 + 3000), 0);
    CHECK_INT(tlsmgr_cache_expire(&cache, T0 + 3700), 1);
    CHECK_INT(tlsmgr_cache_lookup(&cache, "ID1", T0 + 3700, &hex), MAP_NOTFOUND);
    CHECK_INT(tlsmgr_cache_lookup(&cache, "id2", T0 + 3700, &hex), MAP_FOUND);
    CHECK_INT(tlsmgr_cache_delete(&cache, "id2"), MAP_FOUND);
    CHECK_INT(tlsmgr_cache_lookup(&cache, "id2", T0 + 3700, &hex), MAP_NOTFOUND);
    remove_cache(&cache, dir);
}

UNIT_TEST(cache_is_emptied_when_opened)
{
    TLSMGR_CACHE cache = {"smtp", NULL, 0};
    const char *dir = open_cache(&cache, 3600), *hex;

    CHECK_INT(tlsmgr_cache_update(&cache, "peer&00", "A0", T0), 0);
    dict_close(cache.dict);
    cache.dict = NULL;
    open_cache(&cache, 3600);
    CHECK_INT(tlsmgr_cache_lookup(&cache, "peer&00", T0, &hex), MAP_NOTFOUND);
    remove_cache(&cache, dir);
}

UNIT_TEST(cache_bad_type_is_off)
{
    TLSMGR_CACHE cache = {"smtpd", NULL, 0};

    CHECK_INT(tlsmgr_cache_open(&cache, "texthash:/nonexistent", 3600), -1);
    CHECK(cache.dict == NULL);
    CHECK_INT(tlsmgr_cache_open(&cache, "btree:/nonexistent/dir/scache", 3600), -1);
}

UNIT_TEST(ticket_keys_rotate)
{
    const TLS_TICKET_KEY *k1, *k2;
    unsigned char name1[TLS_TICKET_NAMELEN];

    tlsmgr_key_init(3600);
    k1 = tlsmgr_key_get(NULL, T0);
    CHECK(k1 != NULL);
    CHECK_INT(k1->expiry, T0 + 3600);
    memcpy(name1, k1->name, sizeof(name1));
    CHECK(tlsmgr_key_get(NULL, T0 + 3599) == k1);       /* the same key */
    CHECK(tlsmgr_key_get(name1, T0 + 10) != NULL);
    /* expired for new tickets: a new key; the old one still decrypts */
    k2 = tlsmgr_key_get(NULL, T0 + 3600);
    CHECK(k2 != NULL && memcmp(k2->name, name1, sizeof(name1)) != 0);
    CHECK_INT(k2->expiry, T0 + 7200);
    CHECK(tlsmgr_key_get(name1, T0 + 7199) != NULL);
    CHECK(tlsmgr_key_get(name1, T0 + 7200) == NULL);    /* one timeout later: gone */
    tlsmgr_key_init(0);                                 /* no tickets */
    CHECK(tlsmgr_key_get(NULL, T0) == NULL);
}

/* tlsmgr_request() on a list of name, value pairs; the reply's status. */
static long
request(ATTR_LIST *reply, const char *const *pairs)
{
    ATTR_LIST *req = attr_list_alloc();
    long    status = 99;

    for (; pairs[0] != NULL; pairs += 2)
        attr_add(req, pairs[0], pairs[1]);
    tlsmgr_request(req, reply, T0);
    CHECK_INT(attr_get_long(reply, TLS_MGR_ATTR_STATUS, &status), 0);
    attr_list_free(req);
    return status;
}

UNIT_TEST(requests_are_checked)
{
    ATTR_LIST *reply = attr_list_alloc();
    const char *const policy[] = {"request", "policy", "cache_type", "smtpd", NULL};
    const char *const bad_type[] = {"request", "policy", "cache_type", "imap", NULL};
    const char *const bad_id[] = {"request", "lookup", "cache_type", "smtp", "cache_id", "a b",
        NULL};
    const char *const no_id[] = {"request", "delete", "cache_type", "smtp", NULL};
    const char *const bad_session[] = {"request", "update", "cache_type", "smtpd",
        "cache_id", "x", "session", "not hex", NULL};
    const char *const unknown[] = {"request", "seed", NULL};
    const char *const none[] = {"cache_type", "smtpd", NULL};
    const char *const key[] = {"request", "tktkey", "keyname", "", NULL};
    const char *const bad_key[] = {"request", "tktkey", "keyname", "00", NULL};

    tlsmgr_key_init(3600);
    CHECK_INT(request(reply, policy), TLS_MGR_STAT_OK);
    CHECK_STR(attr_get(reply, TLS_MGR_ATTR_CACHABLE), "0");    /* no database */
    CHECK_INT(request(reply, bad_type), TLS_MGR_STAT_ERR);
    CHECK_INT(request(reply, bad_id), TLS_MGR_STAT_ERR);
    CHECK_INT(request(reply, no_id), TLS_MGR_STAT_ERR);
    CHECK_INT(request(reply, bad_session), TLS_MGR_STAT_ERR);
    CHECK_INT(request(reply, unknown), TLS_MGR_STAT_ERR);
    CHECK_INT(request(reply, none), TLS_MGR_STAT_ERR);
    CHECK_INT(request(reply, bad_key), TLS_MGR_STAT_ERR);
    CHECK(attr_get(reply, TLS_MGR_ATTR_KEYBUF) == NULL);
    CHECK_INT(request(reply, key), TLS_MGR_STAT_OK);
    CHECK_INT(strlen(attr_get(reply, TLS_MGR_ATTR_KEYNAME)), 2 * TLS_TICKET_NAMELEN);
    CHECK_INT(strlen(attr_get(reply, TLS_MGR_ATTR_KEYBUF)),
              2 * (TLS_TICKET_MACLEN + TLS_TICKET_KEYLEN));
    attr_list_free(reply);
}

UNIT_TEST(requests_on_a_cache)
{
    ATTR_LIST *reply = attr_list_alloc();
    TLSMGR_CACHE *cache = tlsmgr_cache_find("smtpd");
    const char *dir = open_cache(cache, 3600);
    const char *const update[] = {"request", "update", "cache_type", "smtpd",
        "cache_id", "ABCD", "session", "0102", NULL};
    const char *const lookup[] = {"request", "lookup", "cache_type", "smtpd",
        "cache_id", "ABCD", NULL};
    const char *const other[] = {"request", "lookup", "cache_type", "smtp",
        "cache_id", "ABCD", NULL};
    const char *const del[] = {"request", "delete", "cache_type", "smtpd",
        "cache_id", "ABCD", NULL};
    const char *const policy[] = {"request", "policy", "cache_type", "smtpd", NULL};

    CHECK_INT(request(reply, policy), TLS_MGR_STAT_OK);
    CHECK_STR(attr_get(reply, TLS_MGR_ATTR_CACHABLE), "1");
    CHECK_INT(request(reply, update), TLS_MGR_STAT_OK);
    CHECK_INT(request(reply, lookup), TLS_MGR_STAT_OK);
    CHECK_STR(attr_get(reply, TLS_MGR_ATTR_SESSION), "0102");
    CHECK_INT(request(reply, other), TLS_MGR_STAT_FAIL);        /* caches are apart */
    CHECK_INT(request(reply, del), TLS_MGR_STAT_OK);
    CHECK_INT(request(reply, lookup), TLS_MGR_STAT_FAIL);
    remove_cache(cache, dir);
    attr_list_free(reply);
}

/* A stream that reads bytes (a pipe). */
static STREAM *
bytes_stream(const char *data, size_t len)
{
    int     fds[2];

    CHECK_INT(pipe(fds), 0);
    CHECK_INT(write(fds[1], data, len), (long) len);
    close(fds[1]);
    return stream_fdopen(fds[0]);
}

UNIT_TEST(service_wakeup_and_garbage_close)
{
    static const char req[] = "request\0policy\0cache_type\0smtp\0\0";
    STREAM *s;
    int     fds[2];

    /* master's wakeup: one byte, then the connection closes */
    s = bytes_stream("W", 1);
    CHECK_INT(tlsmgr_service(s), -1);
    stream_close(s);
    s = bytes_stream("", 0);
    CHECK_INT(tlsmgr_service(s), -1);
    stream_close(s);
    s = bytes_stream("request\0pol", 11);                 /* cut short */
    CHECK_INT(tlsmgr_service(s), -1);
    stream_close(s);
    /* a whole request is answered on the same connection */
    CHECK_INT(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    CHECK_INT(write(fds[1], req, sizeof(req) - 1), (long) sizeof(req) - 1);
    s = stream_fdopen(fds[0]);
    CHECK_INT(tlsmgr_service(s), 0);
    stream_close(s);
    close(fds[1]);
}

UNIT_TEST(client_without_tlsmgr_fails_fast)
{
    char    dir[] = "/tmp/test_tlsmgr_clnt.XXXXXX";
    VSTRING *buf = vstring_alloc(100);
    TLS_TICKET_KEY key;
    time_t  start = time(NULL);

    CHECK(mkdtemp(dir) != NULL);
    CHECK_INT(chdir(dir), 0);
    tls_mgr_init("private/tlsmgr", 5);
    CHECK_INT(tls_mgr_cachable("smtpd"), -1);
    CHECK_INT(tls_mgr_lookup("smtpd", "ABCD", buf), TLS_MGR_STAT_FAIL);
    CHECK_INT(tls_mgr_key(NULL, &key), TLS_MGR_STAT_FAIL);
    CHECK(time(NULL) - start < 3);
    (void) rmdir(dir);
    vstring_free(buf);
}

UNIT_TESTS {
    {"valid_hex", valid_hex},
    {"cache_ids", cache_ids},
    {"cache_update_lookup_expire", cache_update_lookup_expire},
    {"cache_is_emptied_when_opened", cache_is_emptied_when_opened},
    {"cache_bad_type_is_off", cache_bad_type_is_off},
    {"ticket_keys_rotate", ticket_keys_rotate},
    {"requests_are_checked", requests_are_checked},
    {"requests_on_a_cache", requests_on_a_cache},
    {"service_wakeup_and_garbage_close", service_wakeup_and_garbage_close},
    {"client_without_tlsmgr_fails_fast", client_without_tlsmgr_fails_fast},
    UNIT_END
};
