/*
 * fuzz_header_rewrite.c - libFuzzer harness for the header address
 * scanner in lib/header_opts.c (header_addr_rewrite()), which cleanup
 * runs on every address header of every message.
 *
 * Input: one logical header. The callback rewrites every other address
 * (to something longer or shorter) so the in-place replacement code runs.
 */
#include "address.h"
#include "header_opts.h"
#include "mem.h"
#include "fuzz_util.h"

static int
fuzz_addr(void *ctx, const char *addr, VSTRING *out)
{
    int    *count = ctx;

    if (strlen(addr) > ADDRESS_MAX)
        abort();
    switch ((*count)++ % 3) {
    case 0:
        vstring_sprintf(out, "%s@rewritten.example", addr);
        return 1;
    case 1:
        vstring_strcpy(out, "x \"y\"@z");
        return 1;
    default:
        return 0;
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    VSTRING *hdr = vstring_alloc(size + 1);
    int     count = 0;

    vstring_ncpy(hdr, (const char *) data, size);
    (void) header_opts_find(STR(hdr), LEN(hdr));
    (void) header_addr_rewrite(hdr, fuzz_addr, &count);
    vstring_free(hdr);
    return 0;
}
