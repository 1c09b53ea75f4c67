/*
 * test_policy_spf.c - the SPF policy service's request reader and its
 * decisions (policy-spf/policy_spf_request.c, policy_spf_decide.c), with
 * a stub in place of libspf2: the result is named by the checked
 * domain's first label ("fail.example" fails).
 */
#include <stdlib.h>
#include <unistd.h>

#include "unit.h"
#include "../../policy-spf/policy_spf_request.c"
#include "../../policy-spf/policy_spf_decide.c"

static STREAM *
text_stream(const char *text, size_t len)
{
    char    path[] = "/tmp/test_policy_spf.XXXXXX";
    int     fd = mkstemp(path);
    STREAM *s;

    unlink(path);
    s = stream_fdopen(fd);
    stream_write(s, text, len);
    stream_flush(s);
    stream_seek(s, 0);
    return s;
}

static int stub_calls;

static void
stub_check(void *ctx, const char *ip, const char *helo, const char *sender,
           POLICY_SPF_RESULT *out)
{
    const char *dom = strrchr(sender, '@') ? strrchr(sender, '@') + 1 : sender;
    int     code;

    stub_calls++;
    for (code = SPF_CODE_PERMERROR; code > SPF_CODE_NONE; code--)
        if (strncasecmp(dom, policy_spf_code_name(code), strlen(policy_spf_code_name(code))) == 0)
            break;
    out->code = code;
    snprintf(out->reason, sizeof(out->reason), "stub %s", policy_spf_code_name(code));
}

UNIT_TEST(reads_requests)
{
    static const char text[] =
        "request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=192.0.2.1\n"
        "helo_name=MX.Example\r\nsender=User@Pass.Example  \nrecipient=a@b.example\n"
        "instance=AbC\nnot a pair\nunknown=1\n\n"
        "sender=x@y\n\n";
    STREAM *s = text_stream(text, sizeof(text) - 1);
    POLICY_SPF_REQ *req = policy_spf_req_alloc();
    const char *why;

    CHECK_INT(policy_spf_read(s, req, &why), 1);
    CHECK_STR(STR(req->helo_name), "mx.example");
    CHECK_STR(STR(req->sender), "user@pass.example");
    CHECK_STR(STR(req->protocol_state), "RCPT");
    CHECK_STR(STR(req->instance), "AbC");
    CHECK_STR(STR(req->client_address), "192.0.2.1");
    CHECK_INT(policy_spf_read(s, req, &why), 1);
    CHECK_STR(STR(req->sender), "x@y");
    CHECK_STR(STR(req->helo_name), "");
    CHECK_INT(policy_spf_read(s, req, &why), 0);
    stream_close(s);
    policy_spf_req_free(req);
}

UNIT_TEST(refuses_bad_requests)
{
    static const char *const bad[] = {"sender=x\n", "sender=x", "a=b\n\xff"};
    POLICY_SPF_REQ *req = policy_spf_req_alloc();
    VSTRING *big = vstring_alloc(VSTRING_UNLIMITED);
    const char *why;
    size_t  i;
    STREAM *s;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        s = text_stream(bad[i], strlen(bad[i]));
        CHECK_INT(policy_spf_read(s, req, &why), -1);
        CHECK_STR(why, "end of input inside a request");
        stream_close(s);
    }
    vstring_strcpy(big, "sender=");
    for (i = 0; i < POLICY_SPF_LINE_MAX; i++)
        vstring_addch(big, 'x');
    vstring_cat(big, "\n\n");
    s = text_stream(STR(big), LEN(big));
    CHECK_INT(policy_spf_read(s, req, &why), -1);
    CHECK_STR(why, "line too long");
    stream_close(s);
    vstring_reset(big);
    for (i = 0; i <= POLICY_SPF_ATTR_MAX; i++)
        vstring_cat(big, "a=b\n");
    vstring_cat(big, "\n");
    s = text_stream(STR(big), LEN(big));
    CHECK_INT(policy_spf_read(s, req, &why), -1);
    CHECK_STR(why, "too many attributes");
    stream_close(s);
    vstring_free(big);
    policy_spf_req_free(req);
}

/* One decision for a request built from the arguments. */
static const char *
decide(POLICY_SPF *ps, const char *ip, const char *helo, const char *sender,
       const char *rcpt, const char *instance)
{
    static VSTRING *action;
    POLICY_SPF_REQ *req = policy_spf_req_alloc();

    if (action == NULL)
        action = vstring_alloc(VSTRING_UNLIMITED);
    vstring_strcpy(req->client_address, ip);
    vstring_strcpy(req->helo_name, helo);
    vstring_strcpy(req->sender, sender);
    vstring_strcpy(req->recipient, rcpt);
    vstring_strcpy(req->instance, instance);
    policy_spf_decide(ps, req, action);
    policy_spf_req_free(req);
    return STR(action);
}

static POLICY_SPF *
service(int mfrom, int helo, const char *skip)
{
    POLICY_SPF_CONF conf = {.helo_reject = helo, .mfrom_reject = mfrom, .temperror_defer = 1};
    VSTRING *why = vstring_alloc(100);

    if (skip)
        CHECK_INT(policy_spf_add_skip(&conf, skip, why), 0);
    vstring_free(why);
    return policy_spf_alloc(&conf, stub_check, NULL);
}

UNIT_TEST(decisions_as_policyd_spf)
{
    static const char *const rows[][6] = {      /* ip, helo, sender, rcpt, instance, answer */
        {"192.0.2.1", "none.example", "u@pass.example", "r@dom.example", "1",
         "prepend Received-SPF: Pass (mailfrom) identity=mailfrom; client-ip=192.0.2.1; "
         "helo=none.example; envelope-from=u@pass.example; receiver=dom.example "},
        /* the same message: no second header (and no second check, below) */
        {"192.0.2.1", "none.example", "u@pass.example", "s@dom.example", "1", "dunno"},
        {"192.0.2.1", "none.example", "u@fail.example", "r@dom.example", "2",
         "550 5.7.23 Message rejected due to: stub Fail. Please see "
         "http://www.openspf.net/Why?s=mfrom;id=u@fail.example;ip=192.0.2.1;r=dom.example"},
        /* the same message: the same reject */
        {"192.0.2.1", "none.example", "u@fail.example", "x@other", "2",
         "550 5.7.23 Message rejected due to: stub Fail. Please see "
         "http://www.openspf.net/Why?s=mfrom;id=u@fail.example;ip=192.0.2.1;r=dom.example"},
        {"192.0.2.1", "none.example", "u@temperror.example", "r@d", "3",
         "defer_if_permit 4.7.24 Message deferred due to: stub Temperror. Please see "
         "http://www.openspf.net/Why?s=mfrom;id=u@temperror.example;ip=192.0.2.1;r=d"},
        {"192.0.2.1", "softfail.example", "u@none.example", "r@d", "4",
         "prepend Received-SPF: Softfail (stub Softfail) identity=helo; client-ip=192.0.2.1; "
         "helo=softfail.example; envelope-from=u@none.example; receiver=d "},
        {"192.0.2.1", "fail.example", "", "r@d", "5",
         "550 5.7.23 Message rejected due to: stub Fail. Please see "
         "http://www.openspf.net/Why?s=helo;id=fail.example;ip=192.0.2.1;r=d"},
        {"::1", "h", "u@fail.example", "r@d", "6",
         "prepend X-Comment: SPF check N/A for local connections - client-ip=::1; "
         "helo=h; envelope-from=u@fail.example; receiver=d "},
        {"", "h", "u@fail.example", "r@d", "7", "dunno"},
        /* client text is cut to printable ASCII in replies */
        {"192.0.2.1", "h\x01\xc3", "", "r@d", "8",
         "prepend Received-SPF: None (no SPF record) identity=helo; client-ip=192.0.2.1; "
         "helo=h??; envelope-from=<>; receiver=d "},
    };
    POLICY_SPF *ps = service(SPF_REJECT_FAIL, SPF_REJECT_FAIL, "127.0.0.0/8 ::1");
    size_t  i;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        unit_case = rows[i][4];
        stub_calls = 0;
        CHECK_STR(decide(ps, rows[i][0], rows[i][1], rows[i][2], rows[i][3], rows[i][4]),
                  rows[i][5]);
        if (i == 1)
            CHECK_INT(stub_calls, 0);
    }
    policy_spf_free(ps);
}

UNIT_TEST(levels_and_modes)
{
    POLICY_SPF *ps = service(SPF_REJECT_SOFTFAIL, SPF_HELO_NO_CHECK, NULL);
    POLICY_SPF_CONF conf = {.mfrom_reject = SPF_REJECT_FAIL, .header_only = 1};
    VSTRING *why = vstring_alloc(100);

    stub_calls = 0;
    CHECK(strncmp(decide(ps, "192.0.2.1", "fail.example", "u@softfail.example", "r@d", "1"),
                  "550 5.7.23 Message rejected due to: stub Softfail.", 50) == 0);
    CHECK_INT(stub_calls, 1);                   /* HELO not checked */
    policy_spf_free(ps);
    ps = policy_spf_alloc(&conf, stub_check, NULL);
    CHECK(strncmp(decide(ps, "192.0.2.1", "h", "u@fail.example", "r@d", "1"),
                  "prepend Received-SPF: Fail (mailfrom)", 37) == 0);
    CHECK(strncmp(decide(ps, "192.0.2.1", "h", "u@temperror.example", "r@d", "2"),
                  "prepend Received-SPF: Temperror (mailfrom)", 42) == 0);
    policy_spf_free(ps);
    CHECK_INT(policy_spf_add_skip(&conf, "192.0.2.0/24, nonsense", why), -1);
    CHECK(strstr(STR(why), "nonsense") != NULL);
    vstring_free(why);
}

UNIT_TESTS {
    {"reads_requests", reads_requests},
    {"refuses_bad_requests", refuses_bad_requests},
    {"decisions_as_policyd_spf", decisions_as_policyd_spf},
    {"levels_and_modes", levels_and_modes},
    UNIT_END
};
