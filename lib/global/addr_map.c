/*
 * addr_map.c - canonical(5)/virtual(5) style address lookups and
 * masquerading. Interface and lookup order: addr_map.h.
 *
 * Parameters: myorigin and recipient_delimiter, read once by
 * mail_params_init() (mail_params.h).
 *
 * SECURITY: addr comes from SMTP commands and headers; every string is a
 * bounded VSTRING (ADDRESS_MAX); table values are split by a loop that
 * stops at the end of the value; results longer than ADDRESS_MAX are
 * dropped with a warning.
 *
 * DIAGNOSTICS: nothing is fatal; an overlong table result is a warning
 * and is dropped. A lookup before mail_params_init() panics.
 */
#include <string.h>
#include <strings.h>

#include "addr_map.h"
#include "address.h"
#include "config.h"
#include "mail_params.h"
#include "mem.h"
#include "msg.h"
#include "rewrite_clnt.h"

/* 1 when class is one of the words in classes. */
int
addr_map_in_class(const char *classes, const char *klass)
{
    ARGV   *list = argv_split_list(classes);
    int     found = 0;

    for (size_t i = 0; i < list->argc && !found; i++)
        found = (strcasecmp(list->argv[i], klass) == 0);
    argv_free(list);
    return found;
}

/* Split a table value into internal addresses. */
void
addr_map_split(const char *value, ARGV *out)
{
    VSTRING *word = vstring_alloc(ADDRESS_MAX);
    VSTRING *internal = vstring_alloc(ADDRESS_MAX);
    const char *cp = value;

    while (*cp) {
        int     quoted = 0;

        while (*cp == ',' || *cp == ' ' || *cp == '\t' || *cp == '\r' || *cp == '\n')
            cp++;
        if (*cp == 0)
            break;
        vstring_reset(word);
        for (; *cp; cp++) {
            if (!quoted && (*cp == ',' || *cp == ' ' || *cp == '\t' || *cp == '\r'
                            || *cp == '\n'))
                break;
            if (*cp == '\\' && cp[1]) {
                vstring_addch(word, *cp++);
            } else if (*cp == '"') {
                quoted = !quoted;
            }
            vstring_addch(word, *cp);
        }
        /* "<addr>" is accepted as well */
        if (LEN(word) > 2 && STR(word)[0] == '<' && STR(word)[LEN(word) - 1] == '>') {
            memmove(STR(word), STR(word) + 1, LEN(word) - 2);
            vstring_truncate(word, LEN(word) - 2);
        }
        address_unquote(internal, STR(word));
        if (word->overflow || internal->overflow)
            msg_warn("table result too long: %.100s...", STR(word));
        else if (LEN(internal) > 0)
            argv_add(out, STR(internal));
    }
    vstring_free(word);
    vstring_free(internal);
}

/* Is domain one for which the bare "user" form is looked up? */
static int
addr_map_local_domain(const char *domain)
{
    if (domain == NULL || *domain == 0)
        return 1;
    if (strcasecmp(domain, mail_params.myorigin) == 0)
        return 1;
    return resolve_local(domain);
}

/* Offset of the extension in the local part (lp_len when none). */
static size_t
addr_map_ext_offset(const char *addr, size_t lp_len)
{
    const char *delims = mail_params.recipient_delimiter;

    if (*delims == 0)
        return lp_len;
    for (size_t i = 1; i < lp_len; i++)
        if (strchr(delims, addr[i]))
            return i;
    return lp_len;
}

/*
 * Build the results: '@domain' values get the local part, and when ext is
 * non-NULL it goes back into each result's local part.
 */
static void
addr_map_results(const char *value, const char *localpart, const char *ext, ARGV *result)
{
    ARGV   *list = argv_alloc();
    VSTRING *buf = vstring_alloc(ADDRESS_MAX);

    addr_map_split(value, list);
    for (size_t i = 0; i < list->argc; i++) {
        const char *item = list->argv[i];
        const char *at = strrchr(item, '@');

        vstring_reset(buf);
        if (*item == '@') {
            vstring_sprintf(buf, "%s%s", localpart, item);
        } else if (ext && *ext) {
            size_t  lp = at ? (size_t) (at - item) : strlen(item);

            vstring_ncat(buf, item, lp);
            vstring_cat(buf, ext);
            if (at)
                vstring_cat(buf, at);
        } else {
            vstring_strcpy(buf, item);
        }
        if (buf->overflow)
            msg_warn("table result too long for <%.100s>", localpart);
        else
            argv_add(result, STR(buf));
    }
    vstring_free(buf);
    argv_free(list);
}

/* One key; MAP_* and the value. With fixed, a partial key (not the
 * address as given) is not looked up in regexp:/pcre: tables. */
static int
addr_map_try(MAPS *maps, const char *addr, const char *key, const char **value, int fixed)
{
    return (fixed && strcmp(key, addr) != 0) ? maps_find_fixed(maps, key, value)
        : maps_find(maps, key, value);
}

/*
 * The key search: user+ext@domain, user@domain, user+ext, user (local
 * domains only), @domain. *value is the table's raw value; *no_ext is 1
 * when the hit was a key without the extension (ext may go back in).
 */
static int
addr_map_search(MAPS *maps, const char *addr, const char **value, int *no_ext, int fixed)
{
    const char *at = strrchr(addr, '@');
    size_t  lp_len = at ? (size_t) (at - addr) : strlen(addr);
    const char *domain = at ? at + 1 : NULL;
    size_t  ext_off;
    VSTRING *key;
    char   *localpart;
    int     ret = MAP_NOTFOUND;

    mail_params_need("addr_map_find");
    *no_ext = 0;
    if (strlen(addr) > ADDRESS_MAX)
        return MAP_NOTFOUND;
    ext_off = addr_map_ext_offset(addr, lp_len);
    key = vstring_alloc(ADDRESS_MAX + 2);
    localpart = mem_strndup(addr, lp_len);
    /* user+ext@domain, user@domain */
    if (domain) {
        if ((ret = addr_map_try(maps, addr, addr, value, fixed)) != MAP_NOTFOUND)
            goto done;
        if (ext_off < lp_len) {
            vstring_sprintf(key, "%.*s@%s", (int) ext_off, addr, domain);
            *no_ext = 1;
            if ((ret = addr_map_try(maps, addr, STR(key), value, fixed)) != MAP_NOTFOUND)
                goto done;
        }
    }
    /* user+ext, user: only for our own domains */
    *no_ext = 0;
    if (addr_map_local_domain(domain)) {
        if ((ret = addr_map_try(maps, addr, localpart, value, fixed)) != MAP_NOTFOUND)
            goto done;
        if (ext_off < lp_len) {
            vstring_sprintf(key, "%.*s", (int) ext_off, addr);
            *no_ext = 1;
            if ((ret = addr_map_try(maps, addr, STR(key), value, fixed)) != MAP_NOTFOUND)
                goto done;
        }
    }
    /* @domain */
    *no_ext = 0;
    ret = MAP_NOTFOUND;
    if (domain && *domain) {
        vstring_sprintf(key, "@%s", domain);
        ret = addr_map_try(maps, addr, STR(key), value, fixed);
    }
  done:
    vstring_free(key);
    mem_free(localpart);
    return ret;
}

static int
addr_map_find_opt(MAPS *maps, const char *addr, int propagate, ARGV *result, int fixed)
{
    const char *at = strrchr(addr, '@');
    size_t  lp_len = at ? (size_t) (at - addr) : strlen(addr);
    const char *value;
    char   *localpart, *ext;
    size_t  ext_off;
    int     no_ext, ret;

    ret = addr_map_search(maps, addr, &value, &no_ext, fixed);
    if (ret != MAP_FOUND || result == NULL)
        return ret;
    ext_off = addr_map_ext_offset(addr, lp_len);
    localpart = mem_strndup(addr, lp_len);
    ext = mem_strndup(addr + ext_off, lp_len - ext_off);
    addr_map_results(value, localpart, (no_ext && propagate) ? ext : NULL, result);
    mem_free(localpart);
    mem_free(ext);
    return ret;
}

int
addr_map_find(MAPS *maps, const char *addr, int propagate, ARGV *result)
{
    return addr_map_find_opt(maps, addr, propagate, result, 0);
}

int
addr_map_find_fixed(MAPS *maps, const char *addr, int propagate, ARGV *result)
{
    return addr_map_find_opt(maps, addr, propagate, result, 1);
}

int
addr_map_value(MAPS *maps, const char *addr, const char **value)
{
    int     no_ext;

    return addr_map_search(maps, addr, value, &no_ext, 1);
}

/* Is the local part of addr listed in masquerade_exceptions? */
static int
addr_masq_excepted(const char *addr, ARGV *exceptions)
{
    const char *at = strrchr(addr, '@');
    size_t  lp_len = at ? (size_t) (at - addr) : strlen(addr);

    for (size_t i = 0; exceptions && i < exceptions->argc; i++) {
        const char *e = exceptions->argv[i];

        if (strlen(e) == lp_len && strncasecmp(e, addr, lp_len) == 0)
            return 1;
        if (strcasecmp(e, addr) == 0)           /* full address form */
            return 1;
    }
    return 0;
}

int
addr_masquerade(const char *addr, ARGV *domains, ARGV *exceptions, VSTRING *out)
{
    const char *at = strrchr(addr, '@');
    const char *domain;
    size_t  dlen;

    vstring_strcpy(out, addr);
    if (at == NULL || domains == NULL || domains->argc == 0 || at[1] == 0
        || addr_masq_excepted(addr, exceptions))
        return 0;
    domain = at + 1;
    dlen = strlen(domain);
    for (size_t i = 0; i < domains->argc; i++) {
        const char *masq = domains->argv[i];
        int     excluded = (*masq == '!');
        size_t  mlen;

        if (excluded)
            masq++;
        mlen = strlen(masq);
        if (mlen == 0)
            continue;
        if (mlen == dlen && strcasecmp(masq, domain) == 0)
            return 0;                           /* already masqueraded */
        if (mlen < dlen && domain[dlen - mlen - 1] == '.'
            && strcasecmp(domain + dlen - mlen, masq) == 0) {
            if (excluded)
                return 0;
            vstring_ncpy(out, addr, (size_t) (at - addr) + 1);
            vstring_cat(out, masq);
            return 1;
        }
    }
    return 0;
}
