/*
 * fuzz_record.c - libFuzzer harness for the queue file record reader
 * (queue files are untrusted input when they come from maildrop/).
 */
#include "fuzz_util.h"
#include "record.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    STREAM *s = fuzz_stream(data, size);
    VSTRING *buf;

    if (s == NULL)
        return 0;
    buf = vstring_alloc(REC_MAX_DEFAULT);
    while (rec_get(s, buf, 4096) >= 0)
        /* void */ ;
    stream_close(s);
    vstring_free(buf);
    return 0;
}
