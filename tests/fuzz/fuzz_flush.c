/*
 * fuzz_flush.c - libFuzzer harness for the fast flush service's requests
 * (flush/flush_service.c: sites and queue ids come from ETRN clients and
 * local users). It runs in an empty scratch directory, so no log or
 * queue file exists and nothing outside it is touched; the site name
 * check, the request checks and the fast_flush_domains match are what is
 * exercised.
 */
#include "fuzz_util.h"
#include "attr.h"
#include "../../flush/flush_service.c"

long    var_flush_refresh = 43200;
long    var_flush_purge = 604800;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    STREAM *s;
    ATTR_LIST *req;
    char    name[FLUSH_SITE_MAX + 1];
    char   *text;

    if (!ready) {
        char    dir[] = "/tmp/fuzz_flush.XXXXXX";

        if (mkdtemp(dir) == NULL || chdir(dir) < 0)
            abort();
        ready = 1;
    }
    if ((s = fuzz_stream(data, size)) == NULL)
        return 0;
    req = attr_list_alloc();
    while (attr_read(s, req) > 0)
        (void) flush_handle(req);
    stream_close(s);
    attr_list_free(req);
    text = strndup((const char *) data, size);
    if (text)
        (void) flush_site_name(text, name, sizeof(name));
    free(text);
    return 0;
}
