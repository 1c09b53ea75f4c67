/*
 * test_smtpd_check.c - smtpd's restriction results belong to a session
 * (smtpd/smtpd_check.c): what one client's restrictions decided (a
 * connect-time reject, HOLD, DISCARD, FILTER, PREPEND) neither reaches
 * another session nor is lost when another session starts, so one
 * process can serve two clients, one after the other or interleaved.
 *
 * smtpd_check.c, smtpd_check_dns.c, smtpd_check_verify.c, smtpd_check_tls.c,
 * smtpd_params.c and smtpd_policy.c are compiled in; the three smtpd_chat.c
 * functions they call are stubbed below.
 */
#include <stdlib.h>
#include <unistd.h>

#include "../../smtpd/smtpd_check.c"
#include "../../smtpd/smtpd_check_dns.c"
#include "../../smtpd/smtpd_check_verify.c"
#include "../../smtpd/smtpd_check_tls.c"
#include "../../smtpd/smtpd_params.c"
#include "../../smtpd/smtpd_milter.c"
#include "../../smtpd/smtpd_policy.c"
#include "unit.h"

void smtpd_chat_log_reject(SMTPD_STATE *s, const char *r) { (void) s; (void) r; }
void smtpd_chat_log_action(SMTPD_STATE *s, const char *a, const char *t) { (void) s; (void) a; (void) t; }
const char *smtpd_chat_queue_label(const SMTPD_STATE *s) { (void) s; return "NOQUEUE"; }

/* Client restrictions at connect time; each test client has its own result. */
static void
load(void)
{
    char    path[64];
    FILE   *fp;
    char   *text;

    snprintf(path, sizeof(path), "/tmp/test_smtpd_check.%ld", (long) getpid());
    fp = fopen(path, "w");
    fprintf(fp, "192.0.2.1 DISCARD\n192.0.2.2 REJECT\n192.0.2.3 HOLD\n"
            "192.0.2.4 FILTER smtp:[127.0.0.1]:10025\n192.0.2.5 PREPEND X-Test: five\n");
    fclose(fp);
    text = mem_printf("smtpd_delay_reject = no\n"
                      "smtpd_client_restrictions = check_client_access texthash:%s\n"
                      "mynetworks = 127.0.0.0/8\n", path);
    config_load_text(text, "test");
    mem_free(text);
    smtpd_params_init();
    smtpd_check_preopen();
    unlink(path);
}

static void
client(SMTPD_STATE *state, const char *addr)
{
    memset(state, 0, sizeof(*state));
    state->name = "unknown";
    state->addr = (char *) addr;
    state->namaddr = mem_printf("unknown[%s]", addr);
    state->where = "CONNECT";
    state->protocol = "SMTP";
}

/* The envelope records smtpd_check_envelope() writes: "type:data" joined with '|'. */
static char *
envelope(SMTPD_STATE *state)
{
    char    path[] = "/tmp/test_smtpd_check.XXXXXX";
    int     fd = mkstemp(path);
    STREAM *s = stream_fdopen(fd);
    VSTRING *rec = vstring_alloc(1024), *out = vstring_alloc(1024);
    int     type;

    unlink(path);
    smtpd_check_envelope(state, s);
    stream_flush(s);
    lseek(fd, 0, SEEK_SET);
    while ((type = rec_get(s, rec, 1024)) > 0)
        vstring_sprintf_append(out, "%s%c:%s", LEN(out) ? "|" : "", type, STR(rec));
    stream_close(s);
    vstring_free(rec);
    return vstring_export(out);
}

UNIT_TEST(test_connect_results_per_session)
{
    SMTPD_STATE a, b, c;
    VSTRING *reply = vstring_alloc(1024);

    load();
    client(&a, "192.0.2.1");                    /* DISCARD */
    client(&b, "192.0.2.9");                    /* nothing */
    client(&c, "192.0.2.2");                    /* REJECT */
    CHECK_INT(smtpd_check_connect(&a, reply), 0);
    CHECK_INT(smtpd_check_connect(&b, reply), 0);
    CHECK_INT(smtpd_check_connect(&c, reply), -1);
    CHECK_STR(STR(reply), "554 5.7.1 <unknown[192.0.2.2]>: Client host rejected: Access denied");
    /* c's reject is c's; a's DISCARD survives b's and c's start */
    CHECK_INT(smtpd_check_denied(&c), 1);
    CHECK_INT(smtpd_check_denied(&a), 0);
    CHECK_INT(smtpd_check_denied(&b), 0);
    CHECK_INT(smtpd_check_eod_stage(&b, reply), 0);
    CHECK_INT(smtpd_check_eod_stage(&a, reply), 1);
    vstring_free(reply);
}

UNIT_TEST(test_message_results_per_session)
{
    SMTPD_STATE hold, filter, prepend, none;
    VSTRING *reply = vstring_alloc(1024);
    ARGV   *lines = argv_alloc();

    load();
    client(&hold, "192.0.2.3");
    client(&filter, "192.0.2.4");
    client(&prepend, "192.0.2.5");
    client(&none, "192.0.2.9");
    CHECK_INT(smtpd_check_connect(&hold, reply), 0);
    CHECK_INT(smtpd_check_connect(&filter, reply), 0);
    CHECK_INT(smtpd_check_connect(&prepend, reply), 0);
    CHECK_INT(smtpd_check_connect(&none, reply), 0);
    smtpd_check_prepend(&none, lines);
    CHECK_INT(lines->argc, 0);
    smtpd_check_prepend(&prepend, lines);
    CHECK_INT(lines->argc, 1);
    CHECK_STR(lines->argc ? lines->argv[0] : NULL, "X-Test: five");
    CHECK_STR(envelope(&none), "");
    CHECK_STR(envelope(&hold), "f:4");      /* Postfix's FLGS letter */
    CHECK_STR(envelope(&filter), "L:smtp:[127.0.0.1]:10025");   /* FILT */
    /* the end of one session's transaction leaves the others alone */
    smtpd_check_reset(&none);
    argv_free(lines);
    lines = argv_alloc();
    smtpd_check_prepend(&prepend, lines);
    CHECK_INT(lines->argc, 1);
    CHECK_STR(envelope(&hold), "f:4");      /* Postfix's FLGS letter */
    CHECK_STR(envelope(&filter), "L:smtp:[127.0.0.1]:10025");   /* FILT */
    argv_free(lines);
    vstring_free(reply);
}

UNIT_TESTS {
    {"connect_results_per_session", test_connect_results_per_session},
    {"message_results_per_session", test_message_results_per_session},
    UNIT_END
};
