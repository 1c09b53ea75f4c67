/*
 * test_smtp_proto.c - unit tests for the pure parts of the SMTP/LMTP
 * client: next-hop syntax (smtp/smtp_nexthop.c), reply parsing, enhanced
 * status codes, EHLO keywords and the body writer with
 * dot-stuffing and line breaking (smtp/smtp_reply.c), and the MX address
 * list helpers (smtp/smtp_dns.c), and the parameters (smtp/smtp_param.c:
 * the smtp_* or lmtp_* table, defaults from lib/global/params.c, a bad
 * value fatal with its name), smtp_generic_maps (smtp/smtp_generic.c:
 * generic(5) lookups, the header filter in front of the body writer).
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../smtp/smtp_nexthop.c"
#include "../../smtp/smtp_reply.c"
#include "../../smtp/smtp_dns.c"
#include "../../smtp/smtp_param.c"
#include "../../smtp/smtp_generic.c"
#include "mail_params.h"
#include "unit.h"

static int
parse(const char *s, int lmtp, SMTP_NEXTHOP *nh)
{
    VSTRING *why = vstring_alloc(200);
    int     r = smtp_nexthop_parse(s, lmtp, lmtp ? "24" : "smtp", nh, why);

    vstring_free(why);
    return r;
}

UNIT_TEST(test_nexthop_forms)
{
    SMTP_NEXTHOP nh;

    CHECK_INT(parse("example.com", 0, &nh), 0);
    CHECK_STR(nh.host, "example.com");
    CHECK_STR(nh.port, "smtp");
    CHECK_INT(nh.no_mx, 0);
    CHECK_INT(nh.kind, SMTP_NEXTHOP_INET);

    CHECK_INT(parse("example.com:587", 0, &nh), 0);
    CHECK_STR(nh.host, "example.com");
    CHECK_STR(nh.port, "587");
    CHECK_INT(nh.no_mx, 0);

    CHECK_INT(parse("[mail.example.com]", 0, &nh), 0);
    CHECK_STR(nh.host, "mail.example.com");
    CHECK_STR(nh.port, "smtp");
    CHECK_INT(nh.no_mx, 1);

    CHECK_INT(parse("[127.0.0.1]:10025", 0, &nh), 0);
    CHECK_STR(nh.host, "127.0.0.1");
    CHECK_STR(nh.port, "10025");
    CHECK_INT(nh.no_mx, 1);

    CHECK_INT(parse("[ipv6:2001:db8::1]:25", 0, &nh), 0);
    CHECK_STR(nh.host, "2001:db8::1");
    CHECK_STR(nh.port, "25");

    CHECK_INT(parse("[::1]", 0, &nh), 0);
    CHECK_STR(nh.host, "::1");

    CHECK_INT(parse("192.0.2.1:2525", 0, &nh), 0);     /* IP: no MX lookup */
    CHECK_INT(nh.no_mx, 1);

    CHECK_INT(parse("inet:mx.example.com:25", 0, &nh), 0);
    CHECK_STR(nh.host, "mx.example.com");
    CHECK_STR(nh.port, "25");
}

UNIT_TEST(test_nexthop_lmtp)
{
    SMTP_NEXTHOP nh;

    CHECK_INT(parse("unix:/var/run/dovecot/lmtp", 1, &nh), 0);
    CHECK_INT(nh.kind, SMTP_NEXTHOP_UNIX);
    CHECK_STR(nh.path, "/var/run/dovecot/lmtp");

    CHECK_INT(parse("unix:private/dovecot-lmtp", 1, &nh), 0);
    CHECK_STR(nh.path, "private/dovecot-lmtp");

    CHECK_INT(parse("inet:localhost:24", 1, &nh), 0);
    CHECK_INT(nh.kind, SMTP_NEXTHOP_INET);
    CHECK_STR(nh.host, "localhost");
    CHECK_STR(nh.port, "24");
    CHECK_INT(nh.no_mx, 1);

    CHECK_INT(parse("lmtp.example.com", 1, &nh), 0);
    CHECK_STR(nh.port, "24");
    CHECK_INT(nh.no_mx, 1);
}

UNIT_TEST(test_nexthop_bad)
{
    SMTP_NEXTHOP nh;
    char    big[600];

    CHECK_INT(parse("", 0, &nh), -1);
    CHECK_INT(parse("[]", 0, &nh), -1);
    CHECK_INT(parse("[host", 0, &nh), -1);
    CHECK_INT(parse("[host]x", 0, &nh), -1);
    CHECK_INT(parse("host:", 0, &nh), -1);
    CHECK_INT(parse("2001:db8::1", 0, &nh), -1);    /* bare IPv6 */
    CHECK_INT(parse("ho st", 0, &nh), -1);
    CHECK_INT(parse("host;rm", 0, &nh), -1);
    CHECK_INT(parse("host:25/x", 0, &nh), -1);
    CHECK_INT(parse("unix:", 1, &nh), -1);
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    CHECK_INT(parse(big, 0, &nh), -1);
}

static SMTP_REPLY *
reply_of(const char *text)
{
    SMTP_REPLY *r = smtp_reply_alloc();
    ARGV   *lines = argv_split(text, "\n");
    size_t  i;
    int     st = 0;

    for (i = 0; i < lines->argc && st == 0; i++)
        st = smtp_reply_add_line(r, lines->argv[i], strlen(lines->argv[i]));
    argv_free(lines);
    return r;
}

UNIT_TEST(test_reply_parse)
{
    SMTP_REPLY *r;

    r = reply_of("250 2.0.0 Ok: queued as 3F2A81C0B7\r");
    CHECK_INT(r->code, 250);
    CHECK_STR(r->dsn, "2.0.0");
    CHECK_STR(STR(r->text), "250 2.0.0 Ok: queued as 3F2A81C0B7");
    smtp_reply_free(r);

    r = reply_of("550-5.1.1 The account does not exist.\n550-5.1.1 Please check\n550 5.1.1 gsmtp");
    CHECK_INT(r->code, 550);
    CHECK_STR(r->dsn, "5.1.1");
    CHECK_STR(STR(r->text), "550-5.1.1 The account does not exist. 550-5.1.1 Please check 550 5.1.1 gsmtp");
    CHECK_INT(r->lines->argc, 3);
    smtp_reply_free(r);

    r = reply_of("450 try later");             /* no enhanced code */
    CHECK_INT(r->code, 450);
    CHECK_STR(r->dsn, "4.0.0");
    smtp_reply_free(r);

    r = reply_of("554 4.7.1 mismatch");         /* class follows the code */
    CHECK_STR(r->dsn, "5.7.1");
    smtp_reply_free(r);

    r = reply_of("220");
    CHECK_INT(r->code, 220);
    CHECK_STR(r->dsn, "2.0.0");
    smtp_reply_free(r);

    r = reply_of("garbage\n250 ok");            /* junk counts as continuation */
    CHECK_INT(r->code, 250);
    smtp_reply_free(r);
}

UNIT_TEST(test_reply_bad)
{
    SMTP_REPLY *r = smtp_reply_alloc();
    int     i, st = 0;

    CHECK_INT(smtp_reply_add_line(r, "999 what", 8), -1);
    smtp_reply_reset(r);
    for (i = 0; i < SMTP_REPLY_LINES_MAX + 5 && st == 0; i++)
        st = smtp_reply_add_line(r, "250-more", 8);
    CHECK_INT(st, -1);
    CHECK_INT(r->code, 0);
    CHECK(LEN(r->text) <= SMTP_REPLY_TEXT_MAX);
    smtp_reply_free(r);
}

UNIT_TEST(test_dsn_scan)
{
    char    dsn[16];

    CHECK_INT(deliver_dsn_scan("5.1.1 user unknown", dsn, sizeof(dsn)), 5);
    CHECK_STR(dsn, "5.1.1");
    CHECK_INT(deliver_dsn_scan("4.7.123", dsn, sizeof(dsn)), 7);
    CHECK_INT(deliver_dsn_scan("3.1.1 x", dsn, sizeof(dsn)), 0);
    CHECK_INT(deliver_dsn_scan("5.1 x", dsn, sizeof(dsn)), 0);
    CHECK_INT(deliver_dsn_scan("5.1.1234 x", dsn, sizeof(dsn)), 0);
    CHECK_INT(deliver_dsn_scan("5.1.1x", dsn, sizeof(dsn)), 0);
}

UNIT_TEST(test_ehlo_keywords)
{
    SMTP_REPLY *r = reply_of("250-mx.example.com\n250-PIPELINING\n250-SIZE 10240000\n"
                             "250-VRFY\n250-ETRN\n250-STARTTLS\n250-ENHANCEDSTATUSCODES\n"
                             "250-8BITMIME\n250-DSN\n250 SMTPUTF8");
    long    size;
    int     f = smtp_ehlo_features(r, "", &size);

    CHECK(f & SMTP_FEATURE_PIPELINING);
    CHECK(f & SMTP_FEATURE_SIZE);
    CHECK(f & SMTP_FEATURE_8BITMIME);
    CHECK(f & SMTP_FEATURE_DSN);
    CHECK(f & SMTP_FEATURE_SMTPUTF8);
    CHECK(f & SMTP_FEATURE_STARTTLS);
    CHECK(f & SMTP_FEATURE_ENHANCED);
    CHECK(!(f & SMTP_FEATURE_AUTH));
    CHECK_INT(size, 10240000);

    f = smtp_ehlo_features(r, "pipelining, dsn", &size);
    CHECK(!(f & SMTP_FEATURE_PIPELINING));
    CHECK(!(f & SMTP_FEATURE_DSN));
    CHECK(f & SMTP_FEATURE_8BITMIME);
    smtp_reply_free(r);

    r = reply_of("250-host\n250-pipelining\n250 SIZE");  /* case, SIZE without number */
    f = smtp_ehlo_features(r, NULL, &size);
    CHECK(f & SMTP_FEATURE_PIPELINING);
    CHECK(f & SMTP_FEATURE_SIZE);
    CHECK_INT(size, 0);
    smtp_reply_free(r);
}

/* ---- body writer ---- */

static int
body_collect(void *ctx, const char *data, size_t len)
{
    vstring_ncat((VSTRING *) ctx, data, len);
    return 0;
}

UNIT_TEST(test_body_dot_stuffing)
{
    VSTRING *out = vstring_alloc(1000);
    SMTP_BODY b;

    smtp_body_init(&b, 998, body_collect, out);
    smtp_body_piece(&b, "Subject: x", 10, 1);
    smtp_body_piece(&b, "", 0, 1);
    smtp_body_piece(&b, ".", 1, 1);
    smtp_body_piece(&b, "..two", 5, 1);
    smtp_body_piece(&b, "a.b", 3, 1);
    smtp_body_piece(&b, ".lo", 3, 0);            /* a long line in pieces */
    smtp_body_piece(&b, ".ng", 3, 1);
    smtp_body_piece(&b, "\xe4\xf6 8bit", 7, 1);
    smtp_body_finish(&b);
    CHECK_STR(STR(out), "Subject: x\r\n\r\n..\r\n...two\r\na.b\r\n..lo.ng\r\n\xe4\xf6 8bit\r\n.\r\n");
    vstring_free(out);
}

UNIT_TEST(test_body_unterminated)
{
    VSTRING *out = vstring_alloc(1000);
    SMTP_BODY b;

    smtp_body_init(&b, 0, body_collect, out);
    smtp_body_piece(&b, "last", 4, 0);
    smtp_body_finish(&b);
    CHECK_STR(STR(out), "last\r\n.\r\n");
    vstring_reset(out);
    smtp_body_init(&b, 0, body_collect, out);
    smtp_body_finish(&b);
    CHECK_STR(STR(out), ".\r\n");
    vstring_free(out);
}

UNIT_TEST(test_body_line_limit)
{
    VSTRING *out = vstring_alloc(1000);
    SMTP_BODY b;

    smtp_body_init(&b, 4, body_collect, out);
    smtp_body_piece(&b, "abcd.fghij", 10, 1);
    smtp_body_piece(&b, "xy", 2, 0);
    smtp_body_piece(&b, "zw.v", 4, 1);
    smtp_body_finish(&b);
    /*
     * Postfix's rule: CRLF SPACE after exactly 4 bytes of output line, the
     * SPACE counts; a continuation is never dot-stuffed; pieces of one
     * line share the count; a line of exactly 4 bytes stays whole.
     */
    CHECK_STR(STR(out), "abcd\r\n .fg\r\n hij\r\nxyzw\r\n .v\r\n.\r\n");
    CHECK_INT(b.folded, 1);
    vstring_reset(out);
    smtp_body_init(&b, 4, body_collect, out);
    smtp_body_piece(&b, "abcd", 4, 1);
    smtp_body_piece(&b, ".xyz", 4, 1);
    smtp_body_finish(&b);
    CHECK_STR(STR(out), "abcd\r\n..xyz\r\n.\r\n");
    CHECK_INT(b.folded, 0);
    vstring_free(out);
}

/* ---- address lists ---- */

static void
add(SMTP_ADDR_LIST *l, const char *host, const char *ip, int pref)
{
    struct sockaddr_in sin;

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    inet_pton(AF_INET, ip, &sin.sin_addr);
    smtp_addr_list_add(l, host, (struct sockaddr *) &sin, sizeof(sin), pref);
}

static int
self_is_b(const SMTP_ADDR *a)
{
    return strcmp(a->addr, "192.0.2.2") == 0;
}

UNIT_TEST(test_addr_prune_self)
{
    SMTP_ADDR_LIST l;

    smtp_addr_list_init(&l);
    add(&l, "a", "192.0.2.1", 10);
    add(&l, "a2", "192.0.2.5", 20);
    add(&l, "b", "192.0.2.2", 20);
    add(&l, "c", "192.0.2.3", 30);
    CHECK_STR(l.addr[0].addr, "192.0.2.1");
    CHECK_INT(smtp_addr_list_prune_self(&l, self_is_b), 1);
    CHECK_STR(l.addr[0].host, "a");
    smtp_addr_list_free(&l);

    smtp_addr_list_init(&l);
    add(&l, "b", "192.0.2.2", 10);               /* we are the best MX */
    add(&l, "c", "192.0.2.3", 20);
    CHECK_INT(smtp_addr_list_prune_self(&l, self_is_b), 0);
    smtp_addr_list_free(&l);
}

UNIT_TEST(test_addr_shuffle)
{
    SMTP_ADDR_LIST l;
    int     i, moved = 0, round;

    for (round = 0; round < 20; round++) {
        smtp_addr_list_init(&l);
        add(&l, "first", "192.0.2.1", 5);
        for (i = 0; i < 8; i++)
            add(&l, "eq", i % 2 ? "192.0.2.10" : "192.0.2.11", 10);
        add(&l, "last", "192.0.2.99", 50);
        smtp_addr_list_shuffle(&l);
        CHECK_STR(l.addr[0].host, "first");
        CHECK_STR(l.addr[9].host, "last");
        for (i = 1; i < 9; i++)
            CHECK_INT(l.addr[i].pref, 10);
        if (strcmp(l.addr[1].addr, "192.0.2.11") != 0)
            moved = 1;
        smtp_addr_list_free(&l);
    }
    CHECK(moved);
}

UNIT_TEST(test_is_self_name)
{
    SMTP_ADDR a;

    config_reset();
    config_load_text("myhostname = mail.example.test\ninet_interfaces = 127.0.0.1\n", "test");
    smtp_params_init(0);
    memset(&a, 0, sizeof(a));
    snprintf(a.host, sizeof(a.host), "MAIL.example.test");
    a.sa.ss_family = AF_INET;
    CHECK(smtp_dns_is_self(&a));
    snprintf(a.host, sizeof(a.host), "other.example");
    inet_pton(AF_INET, "127.0.0.1", &((struct sockaddr_in *) &a.sa)->sin_addr);
    CHECK(smtp_dns_is_self(&a));
    inet_pton(AF_INET, "192.0.2.7", &((struct sockaddr_in *) &a.sa)->sin_addr);
    CHECK(!smtp_dns_is_self(&a));
}

UNIT_TEST(test_params_lmtp)
{
    config_reset();
    config_load_text("myhostname = h.example\nlmtp_lhlo_name = lhlo.example\n"
                     "smtp_helo_timeout = 7s\nlmtp_lhlo_timeout = 9s\n", "test");
    smtp_params_init(1);
    CHECK_STR(smtp_params.helo_name, "lhlo.example");
    CHECK_STR(smtp_params.default_port, "24");
    CHECK_INT(smtp_params.helo_timeout, 9);
    CHECK_INT(smtp_params.skip_quit_response, 0);
    smtp_params_init(0);
    CHECK_STR(smtp_params.helo_name, "h.example");
    CHECK_STR(smtp_params.default_port, "smtp");
    CHECK_INT(smtp_params.helo_timeout, 7);
    CHECK_INT(smtp_params.connect_timeout, 30);
    CHECK_INT(smtp_params.data_done_timeout, 600);
}

static void
smtp_init(void *lmtp)
{
    smtp_params_init(*(int *) lmtp);
}

/* smtp_params_init(lmtp) on main.cf text cf in a child: its exit status,
 * and what it wrote to stderr in err. */
static int
params_child(const char *cf, int lmtp, char *err, size_t errlen)
{
    return unit_config_child(cf, smtp_init, &lmtp, err, errlen);
}

UNIT_TEST(test_params_bad_value_is_fatal)
{
    char    err[2000];

    CHECK_INT(params_child("smtp_connect_timeout = soon\n", 0, err, sizeof(err)), 1);
    CHECK(strstr(err, "smtp_connect_timeout") && strstr(err, "soon"));
    CHECK_INT(params_child("smtp_mx_address_limit = five\n", 0, err, sizeof(err)), 1);
    CHECK(strstr(err, "smtp_mx_address_limit = five") != NULL);
    CHECK_INT(params_child("lmtp_skip_quit_response = maybe\n", 1, err, sizeof(err)), 1);
    CHECK(strstr(err, "lmtp_skip_quit_response = maybe") != NULL);
    CHECK_INT(params_child("smtp_rset_timeout = x\n", 0, err, sizeof(err)), 1);
    CHECK_INT(params_child("smtp_connection_reuse_count_limit = x\n", 0, err, sizeof(err)), 1);
    CHECK_INT(params_child("disable_dns_lookups = maybe\n", 0, err, sizeof(err)), 1);
    /* only the names of the protocol spoken are read */
    CHECK_INT(params_child("lmtp_connect_timeout = soon\n", 0, err, sizeof(err)), 0);
    CHECK_INT(params_child("smtp_connect_timeout = soon\n", 1, err, sizeof(err)), 0);
}

UNIT_TEST(test_params_defaults_from_table)
{
    config_reset();
    config_load_text("myhostname = h.example\n", "test");
    smtp_params_init(1);
    CHECK_INT(smtp_params.connect_timeout, 0);
    CHECK_INT(smtp_params.skip_quit_response, 0);
    CHECK_INT(smtp_params.always_send_ehlo, 1);
    CHECK_INT(smtp_params.never_send_ehlo, 0);
    CHECK_STR(smtp_params.helo_name, "h.example");
    smtp_params_init(0);
    CHECK_INT(smtp_params.connect_timeout, 30);
    CHECK_INT(smtp_params.skip_quit_response, 1);
    CHECK_INT(smtp_params.mx_address_limit, 5);
    CHECK_INT(smtp_params.line_length_limit, 998);
    config_load_text("smtp_helo_name = $mydomain\nmydomain = d.example\n"
                     "smtp_mx_session_limit = 0\nsmtp_tcp_port = 2525\n", "test");
    smtp_params_init(0);
    CHECK_STR(smtp_params.helo_name, "d.example");
    CHECK_INT(smtp_params.mx_session_limit, 0);
    CHECK_STR(smtp_params.default_port, "2525");
}

/* ---- smtp_generic_maps ---- */

static void
generic_setup(const char *extra)
{
    config_reset();
    config_load_text("myhostname = mail.localdomain\nmydomain = localdomain\n"
                     "myorigin = $mydomain\nmydestination = $myhostname, $mydomain\n"
                     "recipient_delimiter = +\n"
                     "smtp_generic_maps = inline:{ his@localdomain=him@isp.example, "
                     "user@localdomain=user@isp.example, @other.localdomain=@isp.example, "
                     "root=postmaster@isp.example }\n", "test");
    if (extra)
        config_load_text(extra, "extra");
    mail_params_init();
    resolve_params_init();
    smtp_generic_init(0);
}

static const char *
generic(const char *addr)
{
    static VSTRING *out;

    if (out == NULL)
        out = vstring_alloc(1000);
    if (smtp_generic_addr(addr, out) < 0)
        return "FAIL";
    return STR(out);
}

/* A regexp: table sees the whole address, never user@domain or @domain. */
static void
generic_pattern_table(void)
{
    char    path[] = "/tmp/test_smtp_proto_XXXXXX";
    int     fd = mkstemp(path);
    static const char rules[] = "/^a@localdomain$/ whole@isp.example\n"
        "/^@localdomain$/ @partial.example\n";
    char   *cf;

    CHECK(fd >= 0 && write(fd, rules, sizeof(rules) - 1) == (ssize_t) (sizeof(rules) - 1));
    close(fd);
    cf = mem_printf("smtp_generic_maps = regexp:%s\n", path);
    generic_setup(cf);
    CHECK_STR(generic("a@localdomain"), "whole@isp.example");
    CHECK_STR(generic("b@localdomain"), "b@localdomain");
    mem_free(cf);
    unlink(path);
}

UNIT_TEST(test_generic_lookup_order)
{
    generic_setup(NULL);
    CHECK(smtp_generic_enabled());
    CHECK_STR(generic("user@localdomain"), "user@isp.example");
    CHECK_STR(generic("User@LocalDomain"), "user@isp.example");     /* keys fold */
    CHECK_STR(generic("user+tag@localdomain"), "user@isp.example"); /* no propagation */
    CHECK_STR(generic("x@other.localdomain"), "x@isp.example");      /* @domain */
    CHECK_STR(generic("root@mail.localdomain"), "postmaster@isp.example"); /* user: ours */
    CHECK_STR(generic("root@far.example"), "root@far.example");      /* not ours */
    CHECK_STR(generic(""), "");                                       /* null sender */
    generic_setup("propagate_unmatched_extensions = canonical, virtual, generic\n");
    CHECK_STR(generic("user+tag@localdomain"), "user+tag@isp.example");
    generic_setup("smtp_generic_maps = fail:broken\n");
    CHECK_STR(generic("user@localdomain"), "FAIL");
    generic_pattern_table();
    generic_setup("smtp_generic_maps =\n");
    CHECK(!smtp_generic_enabled());
}

/* Feed lines (is_eol each) through the header filter into out. */
static int
generic_filter(const char *const *lines, VSTRING *out)
{
    SMTP_BODY b;
    SMTP_GENERIC_HDR h;
    int     ret = 0;

    vstring_reset(out);
    smtp_body_init(&b, 0, body_collect, out);
    smtp_generic_hdr_init(&h, &b);
    for (; *lines && ret == 0; lines++)
        ret = smtp_generic_hdr_line(*lines, strlen(*lines), 1, &h);
    if (ret == 0)
        ret = smtp_generic_hdr_end(&h);
    else
        (void) smtp_generic_hdr_end(&h);
    return ret;
}

UNIT_TEST(test_generic_headers)
{
    static const char *const msg[] = {
        "From: User <user@localdomain>", "To: a@far.example,", "\this@localdomain (Him)",
        "Subject: user@localdomain stays", "Reply-To: x@other.localdomain", "",
        "From: user@localdomain in the body", NULL,
    };
    static const char *const no_body[] = {"Cc: user@localdomain", NULL};
    VSTRING *out = vstring_alloc(4000);

    generic_setup(NULL);
    CHECK_INT(generic_filter(msg, out), 0);
    CHECK_STR(STR(out), "From: User <user@isp.example>\r\nTo: a@far.example,\r\n"
              "\thim@isp.example (Him)\r\nSubject: user@localdomain stays\r\n"
              "Reply-To: x@isp.example\r\n\r\nFrom: user@localdomain in the body\r\n");
    CHECK_INT(generic_filter(no_body, out), 0);
    CHECK_STR(STR(out), "Cc: user@isp.example\r\n");
    generic_setup("smtp_generic_maps = fail:broken\n");
    CHECK_INT(generic_filter(msg, out), SMTP_GENERIC_FAIL);
    vstring_free(out);
}

UNIT_TESTS {
    {"test_nexthop_forms", test_nexthop_forms},
    {"test_nexthop_lmtp", test_nexthop_lmtp},
    {"test_nexthop_bad", test_nexthop_bad},
    {"test_reply_parse", test_reply_parse},
    {"test_reply_bad", test_reply_bad},
    {"test_dsn_scan", test_dsn_scan},
    {"test_ehlo_keywords", test_ehlo_keywords},
    {"test_body_dot_stuffing", test_body_dot_stuffing},
    {"test_body_unterminated", test_body_unterminated},
    {"test_body_line_limit", test_body_line_limit},
    {"test_addr_prune_self", test_addr_prune_self},
    {"test_addr_shuffle", test_addr_shuffle},
    {"test_is_self_name", test_is_self_name},
    {"test_params_lmtp", test_params_lmtp},
    {"test_params_bad_value_is_fatal", test_params_bad_value_is_fatal},
    {"test_params_defaults_from_table", test_params_defaults_from_table},
    {"test_generic_lookup_order", test_generic_lookup_order},
    {"test_generic_headers", test_generic_headers},
    UNIT_END
};
