/*
 * fuzz_dns_parse.c - libFuzzer harness for the DNS answer parser
 * (lib/dns/dns_lookup.c: dns_parse). Name server replies are untrusted.
 * The first input byte picks the record type asked for.
 */
#include <stdint.h>
#include <string.h>

#include "dns.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned types[] = {
        DNS_T_MX, DNS_T_A, DNS_T_AAAA, DNS_T_TXT, DNS_T_PTR, DNS_T_CNAME, DNS_T_TLSA,
    };
    DNS_ANSWER ans;
    VSTRING *why = vstring_alloc(1000);

    if (size < 1 || size > DNS_ANSWER_MAX + 1) {
        vstring_free(why);
        return 0;
    }
    dns_answer_init(&ans);
    if (dns_parse(data + 1, (int) (size - 1), "fuzz.test", types[data[0] % 7], &ans,
                  why) == DNS_OK) {
        dns_answer_sort_mx(&ans);
        for (int i = 0; i < ans.count; i++)
            if (ans.rr[i].type == DNS_T_TLSA ? ans.rr[i].data_len > DNS_TLSA_DATA_MAX
                : strlen(ans.rr[i].data) >= sizeof(ans.rr[i].data))
                __builtin_trap();
    }
    dns_answer_free(&ans);
    vstring_free(why);
    return 0;
}
