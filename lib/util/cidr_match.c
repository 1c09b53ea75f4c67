/*
 * cidr_match.c - one parser and matcher for network patterns.
 *
 * Interface: cidr_match.h.
 *
 * DIAGNOSTICS: none; results and reason texts go to the caller.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cidr_match.h"

/* Address text into bytes; IPv4-mapped IPv6 becomes IPv4 (*mapped = 1). */
static int
cidr_match_pton(const char *text, unsigned char *bytes, int *mapped)
{
    struct in6_addr a6;

    memset(bytes, 0, 16);
    *mapped = 0;
    if (strchr(text, ':') == NULL)
        return inet_pton(AF_INET, text, bytes) == 1 ? AF_INET : 0;
    if (inet_pton(AF_INET6, text, &a6) != 1)
        return 0;
    if (IN6_IS_ADDR_V4MAPPED(&a6)) {
        memcpy(bytes, &a6.s6_addr[12], 4);
        *mapped = 1;
        return AF_INET;
    }
    memcpy(bytes, a6.s6_addr, 16);
    return AF_INET6;
}

int
cidr_match_addr(const char *text, unsigned char *bytes)
{
    char    buf[INET6_ADDRSTRLEN + 2];
    size_t  len = strlen(text);
    int     mapped;

    if (len >= 2 && text[0] == '[' && text[len - 1] == ']') {
        text++;
        len -= 2;
    }
    if (len == 0 || len >= sizeof(buf))
        return 0;
    memcpy(buf, text, len);
    buf[len] = 0;
    return cidr_match_pton(buf, bytes, &mapped);
}

/* Split "[addr]/n", "[addr/n]", "addr/n" or "addr" into buf and *slash. */
static int
cidr_match_split(const char *pattern, char *buf, size_t buflen, const char **slash)
{
    const char *start = pattern, *close;
    size_t  len;

    *slash = NULL;
    if (*start == '[') {
        if ((close = strchr(start, ']')) == NULL || (close[1] != 0 && close[1] != '/'))
            return -1;
        start++;
        len = (size_t) (close - start);
        if (close[1] == '/')
            *slash = close + 1;
        else if (memchr(start, '/', len) != NULL) {     /* "[addr/n]" */
            *slash = memchr(start, '/', len);
            len = (size_t) (*slash - start);
        }
    } else {
        *slash = strchr(start, '/');
        len = *slash ? (size_t) (*slash - start) : strlen(start);
    }
    if (len == 0 || len >= buflen)
        return -1;
    memcpy(buf, start, len);
    buf[len] = 0;
    return 0;
}

int
cidr_match_parse(CIDR_MATCH *c, const char *pattern, char *why, size_t whylen)
{
    char    buf[INET6_ADDRSTRLEN + 8], fixed[INET6_ADDRSTRLEN];
    const char *slash;
    char   *end;
    long    n;
    int     mapped, max, changed = 0;

    memset(c, 0, sizeof(*c));
    if (cidr_match_split(pattern, buf, sizeof(buf), &slash) < 0
        || (c->family = cidr_match_pton(buf, c->net, &mapped)) == 0) {
        snprintf(why, whylen, "bad net/mask pattern: \"%s\"", pattern);
        return CIDR_BAD;
    }
    max = mapped ? 128 : c->family == AF_INET ? 32 : 128;
    n = max;
    if (slash != NULL) {
        n = strtol(slash + 1, &end, 10);
        if (!isdigit((unsigned char) slash[1]) || n > max
            || (*end != 0 && !(*end == ']' && end[1] == 0 && *pattern == '['))) {
            snprintf(why, whylen, "bad net/mask pattern: \"%s\"", pattern);
            return CIDR_BAD;
        }
    }
    if (mapped) {                       /* ::ffff:a.b.c.d/n covers a.b.c.d/(n-96) */
        if (n < 96) {
            snprintf(why, whylen, "bad net/mask pattern: \"%s\": an IPv4-mapped "
                     "network needs a prefix of at least 96", pattern);
            return CIDR_BAD;
        }
        n -= 96;
    }
    c->bits = (int) n;
    for (int i = 0; i < (c->family == AF_INET ? 4 : 16); i++) {
        int     keep = c->bits - i * 8;
        unsigned char mask = keep >= 8 ? 0xff : keep <= 0 ? 0 : (unsigned char) (0xff << (8 - keep));

        if (c->net[i] & ~mask)
            changed = 1;
        c->net[i] &= mask;
    }
    if (!changed)
        return CIDR_OK;
    inet_ntop(c->family, c->net, fixed, sizeof(fixed));
    snprintf(why, whylen, "non-null host address bits in \"%s\", perhaps you should "
             "use \"%s/%d\" instead", pattern, fixed, c->bits);
    return CIDR_HOSTBITS;
}

int
cidr_match_execute(const CIDR_MATCH *c, int family, const unsigned char *bytes)
{
    int     whole = c->bits / 8, rest = c->bits % 8;

    if (family != c->family || memcmp(bytes, c->net, (size_t) whole) != 0)
        return 0;
    return rest == 0 || ((bytes[whole] ^ c->net[whole]) & (0xff << (8 - rest)) & 0xff) == 0;
}
