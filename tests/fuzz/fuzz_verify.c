/*
 * fuzz_verify.c - libFuzzer harness for the verify service's request
 * handling (verify/verify_service.c: requests from other processes are
 * untrusted) and its cache entry parser (verify/verify_cache.c: the
 * cache file is data on disk). No cache table and no probes: the
 * request checks and the decisions are what is exercised.
 */
#include "fuzz_util.h"
#include "attr.h"
#include "../../verify/verify_cache.c"
#include "../../verify/verify_service.c"

int
verify_probe_send(const char *sender, const char *addr)
{
    return (sender && addr) ? 0 : -1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const VERIFY_PARAMS p = {2678400, 604800, 1, 259200, 10800};
    STREAM *s = fuzz_stream(data, size);
    ATTR_LIST *req, *reply;
    char   *text;
    VERIFY_ENTRY e, answer;

    if (s == NULL)
        return 0;
    verify_service_init(NULL, &p, "double-bounce");
    req = attr_list_alloc();
    reply = attr_list_alloc();
    while (attr_read(s, req) > 0)
        verify_handle(req, reply, 1700000000);
    stream_close(s);
    attr_list_free(req);
    attr_list_free(reply);
    text = strndup((const char *) data, size);
    if (text && verify_entry_parse(text, &e) == 0)
        (void) verify_query_decide(&p, 1, &e, 1700000000, &answer);
    free(text);
    return 0;
}
