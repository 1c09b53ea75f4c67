/*
 * fuzz_attr.c - libFuzzer harness for attribute-list decoding (requests
 * from other processes are untrusted).
 */
#include "fuzz_util.h"
#include "attr.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    STREAM *s = fuzz_stream(data, size);
    ATTR_LIST *list;

    if (s == NULL)
        return 0;
    list = attr_list_alloc();
    while (attr_read(s, list) > 0)
        /* void */ ;
    stream_close(s);
    attr_list_free(list);
    return 0;
}
