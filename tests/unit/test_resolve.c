/*
 * test_resolve.c - in-process address rewriting and resolution
 * (rewrite_addr, resolve_addr, resolve_local) driven by main.cf text;
 * their parameters come from the one table, a bad value is fatal with
 * its name and value (as the rewrite client's ipc_timeout).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "mail_params.h"
#include "mem.h"
#include "mail_proto.h"
#include "msg.h"
#include "rewrite_clnt.h"
#include "unit.h"

static const char *base_cf =
    "myhostname = mail.example.com\n"
    "mydomain = example.com\n"
    "myorigin = $mydomain\n"
    "mydestination = $myhostname, localhost.$mydomain, localhost\n"
    "inet_interfaces = loopback-only\n"
    "relay_domains = relay.example, .sub.relay2.example\n"
    "virtual_alias_domains = alias.example\n"
    "virtual_mailbox_domains = vmail.example\n"
    "compatibility_level = 3.6\n";

static void
setup(const char *extra)
{
    config_reset();
    config_load_text(base_cf, "test");
    if (extra)
        config_load_text(extra, "test-extra");
    mail_params_init();             /* the sender tables' lookups (addr_map.c) */
    resolve_params_init();          /* again after each configuration change */
}

static const char *
rw(const char *rule, const char *addr)
{
    static VSTRING *out;

    if (out == NULL)
        out = vstring_alloc(2048);
    rewrite_addr(rule, addr, out);
    return STR(out);
}

UNIT_TEST(rewrite_local)
{
    setup(NULL);
    CHECK_STR(rw("local", "user"), "user@example.com");
    CHECK_STR(rw("local", ""), "");
    CHECK_STR(rw("local", "user@host"), "user@host");          /* append_dot_mydomain=no */
    CHECK_STR(rw("local", "user@other.example."), "user@other.example");
    CHECK_STR(rw("local", "@a,@b:user@c.example"), "user@c.example");
    CHECK_STR(rw("local", "host!user"), "user@host");
    CHECK_STR(rw("local", "user%host.example"), "user@host.example");
    setup("append_dot_mydomain = yes\n");
    CHECK_STR(rw("local", "user@host"), "user@host.example.com");
    CHECK_STR(rw("local", "user@[10.0.0.1]"), "user@[10.0.0.1]");
    CHECK_STR(rw("local", "user@host.dom"), "user@host.dom");
    setup("append_at_myorigin = no\n");
    CHECK_STR(rw("local", "user"), "user");
}

UNIT_TEST(rewrite_remote)
{
    setup(NULL);
    CHECK_STR(rw("remote", "user"), "user");                   /* domain empty */
    setup("remote_header_rewrite_domain = domain.invalid\n");
    CHECK_STR(rw("remote", "user"), "user@domain.invalid");
}

static RESOLVE_REPLY reply;

static int
res_from(const char *sender, const char *addr)
{
    if (reply.transport == NULL)
        resolve_reply_init(&reply);
    resolve_addr(sender, addr, &reply);
    return reply.flags;
}

static int
res(const char *addr)
{
    return res_from("sender@example.com", addr);
}

UNIT_TEST(resolve_classes)
{
    setup(NULL);
    CHECK(res("User@Mail.Example.COM.") & RESOLVE_CLASS_LOCAL);
    CHECK(reply.flags & RESOLVE_FLAG_FINAL);
    CHECK_STR(STR(reply.recipient), "User@mail.example.com");
    CHECK_STR(STR(reply.transport), "local");
    CHECK_STR(STR(reply.nexthop), "mail.example.com");
    CHECK(res("root") & RESOLVE_CLASS_DEFAULT);                 /* root@example.com */
    CHECK_STR(STR(reply.recipient), "root@example.com");
    CHECK(res("u@localhost") & RESOLVE_CLASS_LOCAL);
    CHECK(res("u@[127.0.0.1]") & RESOLVE_CLASS_LOCAL);
    CHECK(res("u@[192.0.2.99]") & RESOLVE_CLASS_DEFAULT);

    CHECK(res("u@alias.example") & RESOLVE_CLASS_ALIAS);
    CHECK_STR(STR(reply.transport), "error");
    CHECK_STR(STR(reply.nexthop), "User unknown in virtual alias table");
    CHECK(res("u@vmail.example") & RESOLVE_CLASS_VIRTUAL);
    CHECK_STR(STR(reply.transport), "virtual");
    CHECK_STR(STR(reply.nexthop), "vmail.example");
    CHECK(res("u@relay.example") & RESOLVE_CLASS_RELAY);
    CHECK_STR(STR(reply.transport), "relay");
    CHECK_STR(STR(reply.nexthop), "relay.example");
    CHECK(res("u@x.sub.relay2.example") & RESOLVE_CLASS_RELAY);
    CHECK(res("u@sub.relay2.example") & RESOLVE_CLASS_DEFAULT);
    CHECK(res("u@Far.Example") & RESOLVE_CLASS_DEFAULT);
    CHECK_STR(STR(reply.transport), "smtp");
    CHECK_STR(STR(reply.nexthop), "far.example");
    CHECK(!(reply.flags & (RESOLVE_FLAG_FINAL | RESOLVE_FLAG_ERROR | RESOLVE_FLAG_ROUTED)));
}

UNIT_TEST(resolve_relayhost)
{
    setup("relayhost = [smarthost.example]:587\n");
    CHECK(res("u@far.example") & RESOLVE_CLASS_DEFAULT);
    CHECK_STR(STR(reply.nexthop), "[smarthost.example]:587");
    CHECK(res("u@relay.example") & RESOLVE_CLASS_RELAY);
    CHECK_STR(STR(reply.nexthop), "[smarthost.example]:587");
    setup("relayhost = [smarthost.example]\ndefault_transport = smtp:[other.example]\n"
          "local_transport = mylocal\n");
    res("u@far.example");
    CHECK_STR(STR(reply.nexthop), "[other.example]");
    res("u@localhost");
    CHECK_STR(STR(reply.transport), "mylocal");
    CHECK_STR(STR(reply.nexthop), "mail.example.com");
}

UNIT_TEST(resolve_routing)
{
    setup(NULL);
    CHECK(res("u%far.example@mail.example.com") & RESOLVE_CLASS_DEFAULT);
    CHECK(reply.flags & RESOLVE_FLAG_ROUTED);
    CHECK_STR(STR(reply.recipient), "u@far.example");
    CHECK(res("u%x@far.example") & RESOLVE_FLAG_ROUTED);
    CHECK(res("u@far..example") & RESOLVE_FLAG_ERROR);
    CHECK(res("u@[300.1.1.1]") & RESOLVE_FLAG_ERROR);
}

UNIT_TEST(transport_maps_basic)
{
    setup("transport_maps = inline:{ special.example=smtp:[gw.example], "
          ".sub.example=uucp:, u@far.example=:[direct.example], local.example=local: }\n");
    res("x@special.example");
    CHECK_STR(STR(reply.transport), "smtp");
    CHECK_STR(STR(reply.nexthop), "[gw.example]");
    res("x@a.sub.example");
    CHECK_STR(STR(reply.transport), "uucp");
    CHECK_STR(STR(reply.nexthop), "a.sub.example");
    res("u@far.example");
    CHECK_STR(STR(reply.transport), "smtp");
    CHECK_STR(STR(reply.nexthop), "[direct.example]");
    res("v@far.example");
    CHECK_STR(STR(reply.nexthop), "far.example");
}

/* One expected route: sender, recipient -> transport, nexthop. */
typedef struct {
    const char *sender, *rcpt, *transport, *nexthop;
} ROUTE;

static void
check_routes(const ROUTE *r)
{
    for (; r->rcpt; r++) {
        unit_case = r->rcpt;
        res_from(r->sender, r->rcpt);
        CHECK_STR(STR(reply.transport), r->transport);
        CHECK_STR(STR(reply.nexthop), r->nexthop);
    }
    unit_case = NULL;
}

/* transport(5): extension keys, parent domains, "transport:" resets the
 * next hop, the wildcard, the virtual alias class left alone. */
UNIT_TEST(transport_maps_postfix_rules)
{
    static const ROUTE routes[] = {
        {"s@x", "u+tag@far.example", "smtp", "[user.example]"},
        {"s@x", "u@example.org", "slow", "example.org"},        /* not the relayhost */
        {"s@x", "u@a.b.example.org", "error", "no subdomains"},
        {"s@x", "v@elsewhere.example", "smtp", "[wild.example]"},
        {"s@x", "u@alias.example", "error", "User unknown in virtual alias table"},
        {0},
    };
    static const ROUTE parent[] = {
        {"s@x", "u@a.example.org", "slow", "[p.example]"},
        {0},
    };
    static const ROUTE unchanged[] = {
        {"s@x", "u@empty.example", "smtp", "[r.example]"},
        {0},
    };

    setup("relayhost = [smarthost.example]\nrecipient_delimiter = +\n"
          "transport_maps = inline:{ u@far.example=:[user.example], "
          "example.org=slow:, { .example.org = error:no subdomains }, "
          "u@alias.example=smtp:[x.example], *=:[wild.example] }\n");
    check_routes(routes);
    /* "example.org" matches subdomains only when the parameter says so */
    setup("transport_maps = inline:{ example.org=slow:[p.example], .example.org=other: }\n"
          "parent_domain_matches_subdomains = transport_maps\n");
    check_routes(parent);
    setup("transport_maps = inline:{ empty.example=:, keep.example=: }\n"
          "relayhost = [r.example]\n");
    check_routes(unchanged);
    setup("transport_maps = fail:broken\n");
    CHECK(res("u@far.example") & RESOLVE_FLAG_FAIL);
}

/* A temporary regexp: table (path is a mkstemp() template). */
static void
write_rules(char *path, const char *rules)
{
    int     fd = mkstemp(path);

    CHECK(fd >= 0 && write(fd, rules, strlen(rules)) == (ssize_t) strlen(rules));
    close(fd);
}

/* A regexp: rule that would copy part of the address into the next hop
 * is skipped (trivial-rewrite disallows $n substitution). */
UNIT_TEST(transport_maps_no_regsub)
{
    char    path[] = "/tmp/test_resolve_XXXXXX";
    char   *cf;

    write_rules(path, "/^(.*)@sub\\.example$/ smtp:[$1.attacker.example]\n"
                "/@fixed\\.example$/ smtp:[fixed-gw.example]\n");
    cf = mem_printf("transport_maps = regexp:%s\n", path);
    setup(cf);
    res("evil@sub.example");
    CHECK_STR(STR(reply.nexthop), "sub.example");
    res("u@fixed.example");
    CHECK_STR(STR(reply.nexthop), "[fixed-gw.example]");
    mem_free(cf);
    unlink(path);
}

/* Pattern tables see the whole address only: no domain, parent, "*",
 * user@domain or @domain keys (transport(5), canonical(5)). */
UNIT_TEST(pattern_tables_whole_address_only)
{
    char    path[] = "/tmp/test_resolve_XXXXXX";
    char   *cf;

    write_rules(path, "/^far\\.example$/ smtp:[domain-key.example]\n"
                "/^\\*$/ smtp:[wildcard-key.example]\n"
                "/^@y\\.example$/ [at-domain-key.example]\n"
                "/^a@x\\.example$/ [whole.example]\n");
    cf = mem_printf("transport_maps = regexp:%s\nsender_dependent_relayhost_maps = "
                    "regexp:%s\n", path, path);
    setup(cf);
    res_from("z@y.example", "u@far.example");
    CHECK_STR(STR(reply.nexthop), "far.example");
    res_from("a@x.example", "u@far.example");
    CHECK_STR(STR(reply.nexthop), "[whole.example]");
    mem_free(cf);
    unlink(path);
}

/* sender_dependent_relayhost_maps / sender_dependent_default_transport_maps */
UNIT_TEST(sender_dependent)
{
    static const ROUTE routes[] = {
        {"a@x.example", "u@far.example", "smtp", "[r1.example]:2525"},
        {"z@y.example", "u@far.example", "smtp", "[r2.example]"},
        {"b@y.example", "u@far.example", "smtp", "[default.example]"},     /* DUNNO */
        {"q@other.example", "u@far.example", "smtp", "[default.example]"},
        {"", "u@far.example", "smtp", "[bounces.example]"},     /* the null sender: <> */
        {"a@x.example", "u@relay.example", "relay", "[r1.example]:2525"},  /* relay class */
        {"a@x.example", "u@mail.example.com", "local", "mail.example.com"},
        {"e@t.example", "u@far.example", "slow", "[default.example]"},
        {"c@t.example", "u@far.example", "fast", "[f.example]"},
        {"d@t.example", "u@far.example", "smtp", "[default.example]"},     /* DUNNO */
        {"c@t.example", "u@relay.example", "relay", "[default.example]"},  /* default only */
        {0},
    };

    setup("relayhost = [default.example]\n"
          "sender_dependent_relayhost_maps = inline:{ a@x.example=[r1.example]:2525, "
          "@y.example=[r2.example], b@y.example=DUNNO, <>=[bounces.example] }\n"
          "sender_dependent_default_transport_maps = inline:{ @t.example=slow, "
          "c@t.example=fast:[f.example], d@t.example=DUNNO }\n");
    check_routes(routes);
    setup("sender_dependent_relayhost_maps = fail:broken\n");
    CHECK(res_from("a@x.example", "u@far.example") & RESOLVE_FLAG_FAIL);
}

/* relay_domains from a table: its keys are domains; "parent" keys match
 * subdomains only under parent_domain_matches_subdomains, ".parent" keys
 * otherwise. */
UNIT_TEST(relay_domains_table)
{
    setup("relay_domains = inline:{ relay.example=OK, .dotted.example=OK }\n");
    CHECK(res("u@relay.example") & RESOLVE_CLASS_RELAY);
    CHECK(res("u@a.b.relay.example") & RESOLVE_CLASS_RELAY);    /* the default lists it */
    CHECK(res("u@x.dotted.example") & RESOLVE_CLASS_DEFAULT);  /* then "dotted.example" */
    CHECK(res("u@dotted.example") & RESOLVE_CLASS_DEFAULT);
    CHECK(res("u@notrelay.example") & RESOLVE_CLASS_DEFAULT);
    setup("relay_domains = inline:{ relay.example=OK, .dotted.example=OK }\n"
          "parent_domain_matches_subdomains = \n");
    CHECK(res("u@relay.example") & RESOLVE_CLASS_RELAY);
    CHECK(res("u@a.relay.example") & RESOLVE_CLASS_DEFAULT);
    CHECK(res("u@x.dotted.example") & RESOLVE_CLASS_RELAY);
}

UNIT_TEST(local_check)
{
    setup(NULL);
    CHECK(resolve_local("mail.example.com"));
    CHECK(resolve_local("localhost"));
    CHECK(!resolve_local("example.com"));
    CHECK(resolve_local("[127.0.0.1]"));
    CHECK(resolve_local("[IPv6:::1]"));
    /* only the listening addresses, not all of 127.0.0.0/8 */
    CHECK(!resolve_local("[127.0.0.9]"));
    CHECK(!(res("u@[127.0.0.9]") & RESOLVE_CLASS_LOCAL));
    setup("inet_interfaces = 127.0.0.1\nproxy_interfaces = 192.0.2.7\n");
    CHECK(resolve_local("[127.0.0.1]"));
    CHECK(resolve_local("[192.0.2.7]"));
    CHECK(!resolve_local("[IPv6:::1]"));
    CHECK(!resolve_local("[127.0.0.2]"));
}


static void
do_rewrite(void *ctx)
{
    (void) rw("local", "host!user");
}

static void
do_resolve(void *ctx)
{
    (void) res("u@far.example");
}

static void
do_client(void *ctx)
{
    VSTRING *out = vstring_alloc(100);

    (void) rewrite_clnt("local", "user", out);      /* no service: fails, no exit */
}

UNIT_TEST(bad_values_are_fatal)
{
    char    err[2000];

    CHECK_INT(unit_config_child("swap_bangpath = maybe\n", do_rewrite, NULL, err, sizeof(err)), 1);
    CHECK(strstr(err, "swap_bangpath = maybe") != NULL);
    CHECK_INT(unit_config_child("append_dot_mydomain = perhaps\n", do_resolve, NULL, err, sizeof(err)), 1);
    CHECK(strstr(err, "append_dot_mydomain = perhaps") != NULL);
    CHECK_INT(unit_config_child("ipc_timeout = 0\n", do_client, NULL, err, sizeof(err)), 1);
    CHECK(strstr(err, "ipc_timeout") != NULL);
    CHECK_INT(unit_config_child("swap_bangpath = yes\n", do_rewrite, NULL, err, sizeof(err)), 0);
}

UNIT_TESTS {
    {"rewrite_local", rewrite_local},
    {"rewrite_remote", rewrite_remote},
    {"resolve_classes", resolve_classes},
    {"resolve_relayhost", resolve_relayhost},
    {"resolve_routing", resolve_routing},
    {"transport_maps_basic", transport_maps_basic},
    {"transport_maps_postfix_rules", transport_maps_postfix_rules},
    {"transport_maps_no_regsub", transport_maps_no_regsub},
    {"pattern_tables_whole_address_only", pattern_tables_whole_address_only},
    {"sender_dependent", sender_dependent},
    {"relay_domains_table", relay_domains_table},
    {"local_check", local_check},
    {"bad_values_are_fatal", bad_values_are_fatal},
    UNIT_END
};
