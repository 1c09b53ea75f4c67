/*
 * fuzz_config.c - libFuzzer harness for main.cf parsing and $name expansion.
 */
#include <stdint.h>
#include "config.h"
#include "mem.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char   *text = mem_strndup((const char *) data, size);

    config_reset();
    config_load_text(text, "fuzz");
    char   *x = config_expand(text);
    mem_free(x);
    mem_free(text);
    return 0;
}
