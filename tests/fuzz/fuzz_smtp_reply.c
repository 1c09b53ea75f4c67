/*
 * fuzz_smtp_reply.c - libFuzzer harness for the SMTP/LMTP client's reply
 * parser (smtp/smtp_reply.c: multi-line replies, enhanced status codes,
 * EHLO keywords). Remote servers' replies are untrusted.
 */
#include "../../smtp/smtp_reply.c"
#include "fuzz_util.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    STREAM *s = fuzz_stream(data, size);
    SMTP_REPLY *r = smtp_reply_alloc();
    long    size_limit;
    int     n;

    if (s != NULL) {
        for (n = 0; n < 100 && smtp_reply_read(s, r) == 0; n++)
            (void) smtp_ehlo_features(r, n & 1 ? "pipelining, dsn" : "", &size_limit);
        stream_close(s);
    }
    smtp_reply_free(r);
    return 0;
}
