/*
 * fuzz_smtpd_policy.c - libFuzzer harness for smtpd's policy server reply
 * parser (smtpd_policy_read_reply() in smtpd/smtpd_policy.c). A policy
 * server is another process, possibly remote: its bytes are untrusted.
 */
#include "../../smtpd/smtpd_policy.c"
#include "../../smtpd/smtpd_params.c"
#include "../../smtpd/smtpd_milter.c"
void smtpd_chat_log_action(SMTPD_STATE *s, const char *a, const char *t) { (void) s; (void) a; (void) t; }
#include "fuzz_util.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    STREAM *s = fuzz_stream(data, size);
    VSTRING *action = vstring_alloc(100);

    if (s != NULL) {
        /* a kept connection may carry several replies */
        while (smtpd_policy_read_reply(s, action) == 0)
            if (strchr(STR(action), '\n') != NULL)
                abort();
        stream_close(s);
    }
    vstring_free(action);
    return 0;
}
