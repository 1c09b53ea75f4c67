/*
 * test_verify.c - the verify service's cache decisions
 * (verify/verify_cache.c) and requests (verify/verify_service.c, with
 * the probe stubbed), on a real btree: table opened MAP_WRITE |
 * MAP_LOCK_OP (lib/dict/dict_db.c), which a second reader must see
 * updated while the writer keeps it open (postmap -q on verify_cache);
 * and the fast flush service's site names and request checks
 * (flush/flush_service.c).
 */
#include <stdlib.h>
#include <unistd.h>

#include "unit.h"
#include "attr.h"
#include "maps.h"
#include "mail_proto.h"
#include "../../verify/verify_cache.c"
#include "../../verify/verify_service.c"
#include "../../flush/flush_service.c"

long    var_flush_refresh = 43200;
long    var_flush_purge = 604800;

#define T0 1700000000L                  /* any fixed time will do */

static const VERIFY_PARAMS params = {31 * 86400, 7 * 86400, 1, 3 * 86400, 3 * 3600};
static int probes;

int
verify_probe_send(const char *sender, const char *addr)
{
    probes++;
    return 0;
}

UNIT_TEST(entry_format_and_parse)
{
    VERIFY_ENTRY e = {VERIFY_ADDR_BOUNCE, 0, T0, "host x said: 550 no: such"}, p;
    VSTRING *buf = vstring_alloc(100);

    verify_entry_format(buf, &e);
    CHECK_STR(STR(buf), "2:0:1700000000:host x said: 550 no: such");
    CHECK_INT(verify_entry_parse(STR(buf), &p), 0);
    CHECK_INT(p.status, VERIFY_ADDR_BOUNCE);
    CHECK_INT(p.updated, T0);
    CHECK_STR(p.text, "host x said: 550 no: such");
    CHECK_INT(verify_entry_parse("4:0:0:x", &p), -1);
    CHECK_INT(verify_entry_parse("0:0:x", &p), -1);
    CHECK_INT(verify_entry_parse("", &p), -1);
    CHECK_INT(verify_entry_parse("0:-1:0:x", &p), -1);
    vstring_free(buf);
}

UNIT_TEST(query_expiry_and_refresh)
{
    VERIFY_ENTRY ok = {VERIFY_ADDR_OK, 0, T0, "250 Ok"}, r;
    VERIFY_ENTRY bad = {VERIFY_ADDR_BOUNCE, 0, T0, "550 no"};
    VERIFY_ENTRY pending = {VERIFY_ADDR_TODO, T0, 0, "in progress"};

    /* unknown: in progress, probe */
    CHECK_INT(verify_query_decide(&params, 0, NULL, T0, &r), 1);
    CHECK_INT(r.status, VERIFY_ADDR_TODO);
    CHECK_STR(r.text, "Address verification in progress");
    /* fresh positive: answered, no probe; after the refresh time a probe,
     * the old answer stands; after the expiry time in progress again */
    CHECK_INT(verify_query_decide(&params, 1, &ok, T0 + 60, &r), 0);
    CHECK_INT(r.status, VERIFY_ADDR_OK);
    CHECK_INT(verify_query_decide(&params, 1, &ok, T0 + 8 * 86400, &r), 1);
    CHECK_INT(r.status, VERIFY_ADDR_OK);
    CHECK_INT(verify_query_decide(&params, 1, &ok, T0 + 32 * 86400, &r), 1);
    CHECK_INT(r.status, VERIFY_ADDR_TODO);
    /* negative: refreshed after 3h, expired after 3d */
    CHECK_INT(verify_query_decide(&params, 1, &bad, T0 + 3600, &r), 0);
    CHECK_INT(r.status, VERIFY_ADDR_BOUNCE);
    CHECK_INT(verify_query_decide(&params, 1, &bad, T0 + 4 * 3600, &r), 1);
    CHECK_INT(verify_query_decide(&params, 1, &bad, T0 + 4 * 86400, &r), 1);
    CHECK_INT(r.status, VERIFY_ADDR_TODO);
    /* a pending probe is not sent again within VERIFY_PROBE_TTL */
    CHECK_INT(verify_query_decide(&params, 1, &pending, T0 + 10, &r), 0);
    CHECK_INT(verify_query_decide(&params, 1, &pending, T0 + VERIFY_PROBE_TTL + 1, &r), 1);
    /* a failure does not replace a positive result that has not expired */
    CHECK_INT(verify_update_ok(&params, 1, &ok, VERIFY_ADDR_DEFER, T0 + 60), 0);
    CHECK_INT(verify_update_ok(&params, 1, &ok, VERIFY_ADDR_DEFER, T0 + 32 * 86400), 1);
    CHECK_INT(verify_update_ok(&params, 1, &bad, VERIFY_ADDR_OK, T0 + 60), 1);
}

static long
handle(const char *request, const char *addr, long status, const char *reason,
       time_t now, ATTR_LIST *reply)
{
    ATTR_LIST *req = attr_list_alloc();
    long    st = -99;

    attr_add(req, ATTR_REQUEST, request);
    if (addr)
        attr_add(req, ATTR_ADDRESS, addr);
    if (status >= 0)
        attr_add_long(req, ATTR_ADDR_STATUS, status);
    if (reason)
        attr_add(req, ATTR_REASON, reason);
    verify_handle(req, reply, now);
    (void) attr_get_long(reply, ATTR_STATUS, &st);
    attr_list_free(req);
    return st;
}

UNIT_TEST(service_on_a_btree_seen_by_a_reader)
{
    char    dir[] = "/tmp/test_verify.XXXXXX";
    char   *spec, *err = NULL, *path;
    ATTR_LIST *reply = attr_list_alloc();
    DICT   *cache, *reader;
    const char *value;
    long    st;

    CHECK(mkdtemp(dir) != NULL);
    spec = mem_printf("btree:%s/verify_cache", dir);
    cache = dict_open(spec, MAP_WRITE | MAP_LOCK_OP | MAP_DUP_REPLACE, &err);
    CHECK(cache != NULL);                           /* created when missing */
    verify_service_init(cache, &params, "double-bounce");
    probes = 0;
    CHECK_INT(handle("query", "User@Remote.Example", -1, NULL, T0, reply), 0);
    CHECK_INT(attr_get_long(reply, ATTR_ADDR_STATUS, &st), 0);
    CHECK_INT(st, VERIFY_ADDR_TODO);
    CHECK_INT(probes, 1);
    CHECK_INT(handle("query", "user@remote.example", -1, NULL, T0 + 5, reply), 0);
    CHECK_INT(probes, 1);                           /* one probe at a time */
    CHECK_INT(handle("update", "user@remote.example", VERIFY_ADDR_BOUNCE, "550 no", T0 + 6,
                     reply), 0);
    reader = dict_open(spec, 0, &err);              /* postmap -q, writer still open */
    CHECK(reader != NULL);
    CHECK_INT(dict_get(reader, "user@remote.example", &value), MAP_FOUND);
    CHECK_STR(value, "2:0:1700000006:550 no");
    dict_close(reader);
    CHECK_INT(handle("query", "user@remote.example", -1, NULL, T0 + 7, reply), 0);
    CHECK_STR(attr_get(reply, ATTR_REASON), "550 no");
    /* malformed requests */
    CHECK_INT(handle("query", "", -1, NULL, T0, reply), VERIFY_STAT_FAIL);
    CHECK_INT(handle("query", "a\nb@x", -1, NULL, T0, reply), VERIFY_STAT_FAIL);
    CHECK_INT(handle("update", "a@x", VERIFY_ADDR_TODO, "x", T0, reply), VERIFY_STAT_FAIL);
    CHECK_INT(handle("update", "a@x", 0, NULL, T0, reply), VERIFY_STAT_FAIL);
    CHECK_INT(handle("nonsense", "a@x", -1, NULL, T0, reply), VERIFY_STAT_FAIL);
    dict_close(cache);
    path = mem_printf("%s/verify_cache.db", dir);
    (void) unlink(path);
    (void) rmdir(dir);
    mem_free(path);
    mem_free(spec);
    attr_list_free(reply);
}

UNIT_TEST(flush_site_names)
{
    char    name[FLUSH_SITE_MAX + 1];
    char    longname[FLUSH_SITE_MAX + 2];
    ATTR_LIST *req = attr_list_alloc();

    CHECK_INT(flush_site_name("One.Example", name, sizeof(name)), 0);
    CHECK_STR(name, "one.example");
    CHECK_INT(flush_site_name("[192.0.2.1]", name, sizeof(name)), 0);
    CHECK_INT(flush_site_name("[IPv6:2001:db8::1]", name, sizeof(name)), 0);
    CHECK_INT(flush_site_name("../etc", name, sizeof(name)), -1);
    CHECK_INT(flush_site_name("a/b", name, sizeof(name)), -1);
    CHECK_INT(flush_site_name(".hidden", name, sizeof(name)), -1);
    CHECK_INT(flush_site_name("a..b", name, sizeof(name)), -1);
    CHECK_INT(flush_site_name("", name, sizeof(name)), -1);
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = 0;
    CHECK_INT(flush_site_name(longname, name, sizeof(name)), -1);
    /* requests: a bad site or queue id is FLUSH_STAT_BAD before any file */
    attr_add(req, ATTR_REQUEST, FLUSH_REQ_ADD);
    attr_add(req, ATTR_SITE, "../x");
    CHECK_INT(flush_handle(req), FLUSH_STAT_BAD);
    attr_list_reset(req);
    attr_add(req, ATTR_REQUEST, "bogus");
    CHECK_INT(flush_handle(req), FLUSH_STAT_BAD);
    attr_list_free(req);
}

UNIT_TESTS {
    {"entry_format_and_parse", entry_format_and_parse},
    {"query_expiry_and_refresh", query_expiry_and_refresh},
    {"service_on_a_btree_seen_by_a_reader", service_on_a_btree_seen_by_a_reader},
    {"flush_site_names", flush_site_names},
    UNIT_END
};
