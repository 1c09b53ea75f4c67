/*
 * fuzz_address.c - libFuzzer harness for the SMTP address parser and the
 * header address list parser (untrusted bytes from the network).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "address.h"
#include "mem.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char   *text = mem_strndup((const char *) data, size);
    VSTRING *out = vstring_alloc(ADDRESS_MAX);
    VSTRING *ext = vstring_alloc(ADDRESS_MAX * 3);
    const char *rest;
    ARGV   *list = argv_alloc();

    if (address_parse_smtp(text, out, &rest) == 0) {
        address_quote(ext, STR(out));
        address_unquote(out, STR(ext));
    }
    address_parse_header_list(text, list, 100);
    argv_free(list);
    vstring_free(out);
    vstring_free(ext);
    mem_free(text);
    return 0;
}
