/*
 * test_milter.c - the milter client (lib/global/milter*.c): the reply
 * parser on good and hostile packets, the list syntax, and whole
 * conversations with a scripted fake milter in a child process
 * (negotiation, no-reply steps, modifications, a packet over the limit).
 */
#include <arpa/inet.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "connect.h"
#include "mem.h"
#include "milter.h"
#include "unit.h"

static int
parse(const char *pkt, size_t len, MILTER_REPLY *r)
{
    return milter_reply_parse(pkt, len, r);
}

UNIT_TEST(test_parse_simple)
{
    MILTER_REPLY r;

    CHECK(parse("c", 1, &r) == 0 && r.cmd == SMFIR_CONTINUE);
    CHECK(parse("a", 1, &r) == 0 && r.cmd == SMFIR_ACCEPT);
    CHECK(parse("", 0, &r) < 0);
    CHECK(parse("Z", 1, &r) < 0);                       /* unknown reply */
    CHECK(parse("h" "X-A\0v\0", 7, &r) == 0 && r.cmd == SMFIR_ADDHEADER);
    CHECK_STR(r.name, "X-A");
    CHECK_STR(r.value, "v");
    CHECK(parse("h" "X-A\0v", 6, &r) < 0);              /* value not terminated */
    CHECK(parse("h" "\0v\0", 4, &r) < 0);               /* empty name */
    CHECK(parse("h" "X-A", 4, &r) < 0);
    /* a header name that would make another header or a body line */
    CHECK(parse("h" "X-A\nTo\0v\0", 10, &r) < 0);
    CHECK(parse("h" "X-A:\0v\0", 8, &r) < 0);
    CHECK(parse("h" "X A\0v\0", 7, &r) < 0);
    /* addresses and arguments: no control characters */
    CHECK(parse("+" "<a@b>\0", 7, &r) == 0);
    CHECK(parse("+" "<a@b>\r\nX: y\0", 13, &r) < 0);
    CHECK(parse("e" "<a@b>\0SIZE=1\n\0", 15, &r) < 0);
}

UNIT_TEST(test_parse_index_and_args)
{
    MILTER_REPLY r;
    const char chg[] = "m\0\0\0\2Subject\0new\0";
    const char big[] = "i\xff\xff\xff\xffX\0v\0";

    CHECK(parse(chg, sizeof(chg) - 1, &r) == 0 && r.index == 2);
    CHECK_STR(r.name, "Subject");
    CHECK_STR(r.value, "new");
    CHECK(parse(chg, 4, &r) < 0);                       /* index cut short */
    CHECK(parse(big, sizeof(big) - 1, &r) < 0);         /* index out of range */
    CHECK(parse("2<a@b>\0NOTIFY=NEVER\0", 21, &r) == 0);
    CHECK_STR(r.name, "<a@b>");
    CHECK_STR(r.args, "NOTIFY=NEVER");
    CHECK(parse("2<a@b>\0", 7, &r) == 0 && r.args == NULL);
    CHECK(parse("2<a@b>\0NOTIFY", 13, &r) < 0);
    CHECK(parse("e<s@x>\0", 7, &r) == 0);
    CHECK(parse("q" "why\0", 5, &r) == 0);
    CHECK_STR(r.name, "why");
    CHECK(parse("b" "raw\0bytes", 10, &r) == 0 && r.len == 9);
}

UNIT_TEST(test_parse_replycode)
{
    MILTER_REPLY r;

    CHECK(parse("y" "554 5.7.0 no\0", 14, &r) == 0);
    CHECK_STR(r.name, "554 5.7.0 no");
    CHECK(parse("y" "450\0", 5, &r) == 0);
    CHECK(parse("y" "250 ok\0", 8, &r) < 0);            /* not a 4xx/5xx */
    CHECK(parse("y" "55\0", 4, &r) < 0);
    CHECK(parse("y" "5x0 no\0", 8, &r) < 0);
    CHECK(parse("y" "550x\0", 6, &r) < 0);
    CHECK(parse("y" "550 no", 7, &r) < 0);              /* not terminated */
}

UNIT_TEST(test_parse_optneg_symlist)
{
    MILTER_REPLY r;
    ARGV   *lists[MILTER_MAC_STAGES] = {0};
    const char opt[] = "O\0\0\0\6\0\0\0\1\0\0\0\0";
    const char sym[] = "\0\0\0\5i {rcpt_addr}\0";
    const char badsym[] = "\0\0\0\11i\0";

    CHECK(parse(opt, sizeof(opt) - 1, &r) == 0 && r.version == 6 && r.actions == 1);
    CHECK(parse(opt, 12, &r) < 0);
    CHECK(milter_symlist_parse(sym, sizeof(sym) - 1, lists) == 0);
    CHECK(lists[MILTER_MAC_EOM] && lists[MILTER_MAC_EOM]->argc == 2);
    CHECK_STR(lists[MILTER_MAC_EOM]->argv[1], "{rcpt_addr}");
    CHECK(milter_symlist_parse(badsym, sizeof(badsym) - 1, lists) < 0);  /* stage 9 */
    CHECK(milter_symlist_parse(sym, 6, lists) < 0);     /* list not terminated */
    for (int i = 0; i < MILTER_MAC_STAGES; i++)
        argv_free(lists[i]);
}

static MILTER_CONF conf = {
    .conn_timeout = 5, .cmd_timeout = 5, .content_timeout = 5,
    .def_action = "tempfail", .protocol = 6,
    .macros = {"j", "", "", "", "", "", "", ""},
};

UNIT_TEST(test_list_syntax)
{
    MILTERS *ms = milters_create("inet:127.0.0.1:1, { unix:/x/y , connect_timeout=7s,"
                                 " default_action=accept, protocol=4 } /z", &conf);

    CHECK(ms && ms->count == 3);
    CHECK_STR(ms->list[0]->name, "inet:127.0.0.1:1");
    CHECK(ms->list[0]->def_action == MILTER_DEF_TEMPFAIL && ms->list[0]->conn_timeout == 5);
    CHECK_STR(ms->list[1]->name, "unix:/x/y");
    CHECK(ms->list[1]->conn_timeout == 7 && ms->list[1]->def_action == MILTER_DEF_ACCEPT);
    CHECK(ms->list[1]->protocol == 4);
    CHECK_STR(ms->list[2]->name, "/z");
    milters_free(ms);
    CHECK(milters_create("  ,  ", &conf) == NULL);
    CHECK(milter_parse_action("quarantine") == MILTER_DEF_QUARANTINE);
    CHECK(milter_parse_action("bounce") < 0);
}

/* ---- a scripted milter ---------------------------------------------------- */

static int
fake_read(int fd, char *buf, size_t max)
{
    uint32_t n;

    if (read(fd, &n, 4) != 4)
        return -1;
    n = ntohl(n);
    if (n == 0 || n > max)
        return -1;
    for (size_t got = 0; got < n;) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r <= 0)
            return -1;
        got += (size_t) r;
    }
    return (int) n;
}

static void
fake_send(int fd, const char *pkt, size_t len)
{
    uint32_t n = htonl((uint32_t) len);

    if (write(fd, &n, 4) != 4 || write(fd, pkt, len) != (ssize_t) len)
        _exit(1);
}

/*
 * Script "a": negotiate (no reply to connect), answer HELO and MAIL with
 * continue, reject RCPT, then at end of message add a header, change the
 * sender and accept. Script "b": negotiate without ADDHDRS, then at the
 * end of message add a header anyway. Script "c": answer HELO with a
 * length over the limit.
 */
static void
fake_milter(int lfd, int script)
{
    char    buf[70000];
    int     fd = accept(lfd, NULL, NULL);
    int     n;
    const char opt[] = "O\0\0\0\6\0\0\0\x41\0\0\x10\0";      /* ADDHDRS|CHGFROM, NR_CONN */
    const char opt_b[] = "O\0\0\0\6\0\0\0\0\0\0\0\0";

    if (fd < 0 || fake_read(fd, buf, sizeof(buf)) < 13 || buf[0] != 'O')
        _exit(1);
    if (script == 'd' || script == 'e') {       /* milter_protocol = 2 was offered */
        const char v2[] = "O\0\0\0\2\0\0\0\x3f\0\0\0\x7f";
        const char ask[] = "O\0\0\0\2\0\0\0\x01\0\0\x10\0";   /* NR_CONN: not in v2 */
        if (memcmp(buf, v2, 13) != 0)
            _exit(1);
        fake_send(fd, script == 'd' ? "O\0\0\0\2\0\0\0\x01\0\0\0\0" : ask, 13);
    } else {
        fake_send(fd, script == 'b' ? opt_b : opt, 13);
    }
    while ((n = fake_read(fd, buf, sizeof(buf))) > 0) {
        switch (buf[0]) {
        case 'H':
            if (script == 'c') {
                uint32_t big = htonl(0x7fffffff);
                if (write(fd, &big, 4) != 4)
                    _exit(1);
            } else {
                fake_send(fd, "c", 1);
            }
            break;
        case 'M':
            fake_send(fd, "c", 1);
            break;
        case 'R':
            if (script == 'a' && strstr(buf + 1, "multi"))
                fake_send(fd, "y" "550-5.7.1 first\r\n550 5.7.1 second\0", 35);
            else
                fake_send(fd, "r", 1);
            break;
        case 'E':
            fake_send(fd, "h" "X-Fake\0yes\0", 12);
            if (script == 'a')
                fake_send(fd, "e<new@x>\0", 9);
            fake_send(fd, "a", 1);
            break;
        case 'C':                               /* NR_CONN: no reply */
            if (script == 'b' || script == 'd')
                fake_send(fd, "c", 1);
            break;
        case 'D':                               /* macros: no reply */
        case 'A':
            break;
        case 'Q':
            _exit(0);
        default:
            fake_send(fd, "c", 1);
        }
    }
    _exit(0);
}

static MILTERS *
start_fake(int script, const char *path, pid_t *pid)
{
    int     lfd;
    char   *spec = mem_printf("unix:%s", path);
    MILTERS *ms;

    unlink(path);
    lfd = unix_listen(path, 5, 0600);
    if ((*pid = fork()) == 0)
        fake_milter(lfd, script);
    close(lfd);
    ms = milters_create(spec, &conf);
    mem_free(spec);
    return ms;
}

static char fake_path[64];

/* A fake milter running script, and a reply buffer; stop_fake() ends both. */
static MILTERS *
fake_setup(int script, pid_t *pid, VSTRING **reply)
{
    snprintf(fake_path, sizeof(fake_path), "/tmp/test_milter.%d", (int) getpid());
    *reply = vstring_alloc(1024);
    return start_fake(script, fake_path, pid);
}

static void
stop_fake(MILTERS *ms, pid_t pid, const char *path)
{
    milters_free(ms);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    unlink(path);
}

UNIT_TEST(test_conversation)
{
    pid_t   pid;
    VSTRING *reply;
    MILTER_EDITS edits;
    const char *mail[] = {"<a@b>", "SIZE=10", NULL};
    const char *rcpt[] = {"<c@d>", NULL};
    const char *multi[] = {"<multi@d>", NULL};
    MILTERS *ms = fake_setup('a', &pid, &reply);
    milters_macro_set(ms, "j", "host.example");
    CHECK(milters_connect(ms, "client", "192.0.2.1", "25", reply) == MILTER_CONTINUE);
    CHECK(ms->list[0]->state == MILTER_ST_READY);
    CHECK(ms->list[0]->pflags == SMFIP_NR_CONN);
    CHECK(milters_helo(ms, "helo.example", reply) == MILTER_CONTINUE);
    CHECK(milters_mail(ms, mail, reply) == MILTER_CONTINUE);
    CHECK(milters_rcpt(ms, rcpt, reply) == MILTER_REJECT);
    CHECK_STR(STR(reply), "550 5.7.1 Command rejected");
    /* a multi-line SMFIR_REPLYCODE: its first line, as a last line */
    CHECK(milters_rcpt(ms, multi, reply) == MILTER_REJECT);
    CHECK_STR(STR(reply), "550 5.7.1 first");
    milter_edits_init(&edits, 1000);
    CHECK(milter_eom(ms, ms->list[0], &edits, reply) == MILTER_ACCEPT);
    CHECK(edits.count == 2 && edits.list[0].cmd == SMFIR_ADDHEADER);
    CHECK_STR(edits.list[0].name, "X-Fake");
    CHECK(edits.list[1].cmd == SMFIR_CHGFROM);
    CHECK_STR(edits.list[1].name, "<new@x>");
    milter_edits_free(&edits);
    stop_fake(ms, pid, fake_path);
    vstring_free(reply);
}

UNIT_TEST(test_unasked_modification)
{
    pid_t   pid;
    VSTRING *reply;
    MILTER_EDITS edits;
    MILTERS *ms = fake_setup('b', &pid, &reply);
    CHECK(milters_connect(ms, "client", "192.0.2.1", "25", reply) == MILTER_CONTINUE);
    milter_edits_init(&edits, 1000);
    /* an add-header the milter did not negotiate: it fails, default tempfail */
    CHECK(milter_eom(ms, ms->list[0], &edits, reply) == MILTER_TEMPFAIL);
    CHECK_STR(STR(reply), "451 4.7.1 Service unavailable - try again later");
    CHECK(ms->list[0]->state == MILTER_ST_ERROR);
    milter_edits_free(&edits);
    stop_fake(ms, pid, fake_path);
    vstring_free(reply);
}

UNIT_TEST(test_oversized_packet)
{
    pid_t   pid;
    VSTRING *reply;
    MILTERS *ms = fake_setup('c', &pid, &reply);
    ms->list[0]->def_action = MILTER_DEF_REJECT;
    CHECK(milters_connect(ms, "client", "192.0.2.1", "25", reply) == MILTER_CONTINUE);
    CHECK(milters_helo(ms, "helo.example", reply) == MILTER_REJECT);
    CHECK_STR(STR(reply), "550 5.7.1 Command rejected");
    CHECK(ms->list[0]->state == MILTER_ST_ERROR && ms->list[0]->fp == NULL);
    /* and from now on the default action answers */
    CHECK(milters_data(ms, reply) == MILTER_REJECT);
    stop_fake(ms, pid, fake_path);
    vstring_free(reply);
}

UNIT_TEST(test_protocol_version)
{
    pid_t   pid;
    VSTRING *reply;
    MILTERS *ms = fake_setup('d', &pid, &reply);

    /* milter_protocol = 2: version 2, its actions and steps only */
    ms->list[0]->protocol = 2;
    CHECK(milters_connect(ms, "client", "192.0.2.1", "25", reply) == MILTER_CONTINUE);
    CHECK(ms->list[0]->state == MILTER_ST_READY && ms->list[0]->version == 2);
    stop_fake(ms, pid, fake_path);
    vstring_free(reply);
    /* a step that version 2 does not have is refused */
    ms = fake_setup('e', &pid, &reply);
    ms->list[0]->protocol = 2;
    CHECK(milters_connect(ms, "client", "192.0.2.1", "25", reply) == MILTER_TEMPFAIL);
    CHECK(ms->list[0]->state == MILTER_ST_ERROR);
    stop_fake(ms, pid, fake_path);
    vstring_free(reply);
}

UNIT_TEST(test_unreachable)
{
    VSTRING *reply = vstring_alloc(1024);
    MILTERS *ms = milters_create("{ unix:/nonexistent/milter, default_action=accept }", &conf);

    CHECK(milters_connect(ms, "client", "192.0.2.1", "25", reply) == MILTER_CONTINUE);
    CHECK(ms->list[0]->state == MILTER_ST_ERROR);
    CHECK(milters_helo(ms, "x", reply) == MILTER_CONTINUE);
    milters_free(ms);
    vstring_free(reply);
}

UNIT_TESTS {
    {"parse_simple", test_parse_simple},
    {"parse_index_and_args", test_parse_index_and_args},
    {"parse_replycode", test_parse_replycode},
    {"parse_optneg_symlist", test_parse_optneg_symlist},
    {"list_syntax", test_list_syntax},
    {"conversation", test_conversation},
    {"unasked_modification", test_unasked_modification},
    {"oversized_packet", test_oversized_packet},
    {"protocol_version", test_protocol_version},
    {"unreachable", test_unreachable},
    UNIT_END
};
