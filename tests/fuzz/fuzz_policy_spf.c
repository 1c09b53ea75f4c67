/*
 * fuzz_policy_spf.c - libFuzzer harness for the SPF policy service's
 * request reader and decisions (policy-spf/policy_spf_request.c,
 * policy_spf_decide.c). The requests carry SMTP client text. libspf2 is
 * replaced by a stub that picks a result from the sender's length, so
 * every reply form (header, reject, defer, skip, cache) is reached; each
 * answer must be one line of printable ASCII.
 */
#include "../../policy-spf/policy_spf_request.c"
#include "../../policy-spf/policy_spf_decide.c"
#include "fuzz_util.h"

static void
stub_check(void *ctx, const char *ip, const char *helo, const char *sender,
           POLICY_SPF_RESULT *out)
{
    out->code = (POLICY_SPF_CODE) (strlen(sender) % 7);
    snprintf(out->reason, sizeof(out->reason), "stub %s", helo);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static POLICY_SPF *ps;
    STREAM *s = fuzz_stream(data, size);
    POLICY_SPF_REQ *req = policy_spf_req_alloc();
    VSTRING *action = vstring_alloc(VSTRING_UNLIMITED);
    const char *why, *p;

    if (ps == NULL) {
        POLICY_SPF_CONF conf = {.helo_reject = SPF_REJECT_FAIL, .mfrom_reject = SPF_REJECT_SOFTFAIL,
                                .temperror_defer = 1, .permerror_reject = 1};
        VSTRING *err = vstring_alloc(100);

        msg_init("fuzz_policy_spf", MSG_NOSYSLOG);
        if (policy_spf_add_skip(&conf, "127.0.0.0/8, ::1, 10.0.0.0/8", err) != 0)
            abort();
        vstring_free(err);
        ps = policy_spf_alloc(&conf, stub_check, NULL);
    }
    while (s != NULL && policy_spf_read(s, req, &why) > 0) {
        policy_spf_decide(ps, req, action);
        for (p = STR(action); *p; p++)
            if (*p < 0x20 || *p > 0x7e)
                abort();
    }
    if (s != NULL)
        stream_close(s);
    policy_spf_req_free(req);
    vstring_free(action);
    return 0;
}
