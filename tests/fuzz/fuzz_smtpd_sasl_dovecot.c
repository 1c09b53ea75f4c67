/*
 * fuzz_smtpd_sasl_dovecot.c - libFuzzer harness for smtpd's Dovecot auth
 * protocol parser (dovecot_handshake() and dovecot_reply() in
 * smtpd/smtpd_sasl_dovecot.c). The auth server is another process: its
 * bytes are untrusted. The input is read as a handshake, then as replies
 * to request 1; a user name must come out printable and a CONT
 * challenge base64.
 */
#include "../../smtpd/smtpd_sasl_dovecot.c"
#include "fuzz_util.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    STREAM *s = fuzz_stream(data, size);
    VSTRING *why = vstring_alloc(200);
    VSTRING *chal = vstring_alloc(DOVECOT_LINE_MAX);
    VSTRING *user = vstring_alloc(DOVECOT_LINE_MAX);
    VSTRING *reason = vstring_alloc(DOVECOT_LINE_MAX);
    DOVECOT d;
    int     st;

    memset(&d, 0, sizeof(d));
    if (s != NULL) {
        (void) dovecot_handshake(s, &d, why);
        if (d.mech_count > DOVECOT_MECH_MAX)
            abort();
        while ((st = dovecot_reply(s, 1, chal, user, reason)) != DOVECOT_ERROR) {
            for (size_t i = 0; i < LEN(user); i++)
                if ((unsigned char) STR(user)[i] < 0x20)
                    abort();
            if (st == DOVECOT_CONT && !dovecot_base64_ok(STR(chal)))
                abort();
        }
        dovecot_free_mechs(&d);
        stream_close(s);
    }
    vstring_free(why);
    vstring_free(chal);
    vstring_free(user);
    vstring_free(reason);
    return 0;
}
