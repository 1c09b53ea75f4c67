/*
 * resolve_route.c - where resolve_addr() sends mail once the address
 * class is known: the sender-dependent overrides of default_transport
 * and relayhost, and transport_maps (transport(5)).
 *
 * Interface (resolve.h, the shared section):
 *   resolve_sender_transport(sender, &flags) the transport[:nexthop] of
 *       sender_dependent_default_transport_maps for the default class,
 *       or default_transport.
 *   resolve_sender_relay(sender, &flags) the next hop of
 *       sender_dependent_relayhost_maps, or relayhost ("" when neither).
 *   resolve_transport_maps(reply, domain) let transport_maps override the
 *       class's transport and next hop.
 *
 * The sender tables are searched as canonical(5) tables are (addr_map.c:
 * user+ext@domain, user@domain, user+ext and user for our own domains,
 * @domain); the null sender is looked up as
 * empty_address_relayhost_maps_lookup_key or
 * empty_address_default_transport_maps_lookup_key (both "<>"). A result
 * of DUNNO ends the search without an override (as does an empty one,
 * with a warning for the transport table, as Postfix).
 *
 * transport_maps keys, in order: the recipient (user+ext@domain), the
 * recipient without its extension (recipient_delimiter), the domain,
 * its parents (".parent" forms, or "parent" when transport_maps is in
 * parent_domain_matches_subdomains), then "*"; regexp: and pcre: tables
 * see the whole recipient only (maps_find_fixed() for the rest). A result "transport:"
 * resets the next hop to the recipient domain, ":nexthop" keeps the
 * transport, ":" (or an empty result) changes nothing. Mail for a virtual
 * alias domain without a match keeps its error result.
 *
 * SECURITY: the sender and recipient come from the network; they are
 * table keys only, bounded by ADDRESS_MAX (resolve_addr() checked the
 * recipient, the trivial-rewrite service both). Table results are the
 * administrator's.
 *
 * DIAGNOSTICS: a table that fails sets RESOLVE_FLAG_FAIL (the recipient
 * is deferred) with a "<table> lookup failure" warning; an empty
 * sender_dependent_default_transport_maps result is a warning.
 */
#include <string.h>
#include <strings.h>

#include "addr_map.h"
#include "address.h"
#include "mail_proto.h"
#include "maps.h"
#include "mem.h"
#include "msg.h"
#include "resolve.h"

#define SND_RELAY_TITLE      "sender_dependent_relayhost_maps"
#define SND_TRANSPORT_TITLE  "sender_dependent_default_transport_maps"

/*
 * One sender-dependent table: the value for sender, or NULL (no table,
 * no match, DUNNO, a failure: *flags gets RESOLVE_FLAG_FAIL).
 */
static const char *
resolve_sender_lookup(const char *title, const char *spec, const char *empty_key,
                      const char *sender, int *flags)
{
    const char *key = (sender && *sender) ? sender : empty_key;
    const char *value;
    int     ret;

    if (*spec == 0 || strlen(key) > ADDRESS_MAX)
        return NULL;
    ret = addr_map_value(resolve_maps(title, spec), key, &value);
    if (ret == MAP_FAIL) {
        msg_warn("%s lookup failure", title);
        *flags |= RESOLVE_FLAG_FAIL;
        return NULL;
    }
    if (ret != MAP_FOUND || strcasecmp(value, "DUNNO") == 0)
        return NULL;
    if (*value == 0) {
        if (strcmp(title, SND_TRANSPORT_TITLE) == 0)
            msg_warn("%s: ignoring null lookup result for %s", title, key);
        return NULL;
    }
    return value;
}

const char *
resolve_sender_transport(const char *sender, int *flags)
{
    const RESOLVE_PARAMS *rp = &resolve_params;
    const char *value = resolve_sender_lookup(SND_TRANSPORT_TITLE, rp->snd_transport_maps,
                                              rp->empty_transport_key, sender, flags);

    return value ? value : rp->default_transport;
}

const char *
resolve_sender_relay(const char *sender, int *flags)
{
    const RESOLVE_PARAMS *rp = &resolve_params;
    const char *value = resolve_sender_lookup(SND_RELAY_TITLE, rp->snd_relay_maps,
                                              rp->empty_relay_key, sender, flags);

    return value ? value : rp->relayhost;
}

/* A transport_maps result applied to reply, as transport(5) says. */
static void
resolve_transport_apply(RESOLVE_REPLY *reply, const char *value, const char *domain)
{
    const char *colon = strchr(value, ':');
    size_t  tlen = colon ? (size_t) (colon - value) : strlen(value);
    const char *nexthop = colon ? colon + 1 : "";

    if (tlen > 0) {
        vstring_ncpy(reply->transport, value, tlen);
        vstring_strcpy(reply->nexthop, *nexthop ? nexthop : (domain ? domain : ""));
    } else if (*nexthop) {
        vstring_strcpy(reply->nexthop, nexthop);
    }
}

/* The recipient without its extension, or NULL when it has none. */
static char *
resolve_strip_ext(const char *addr)
{
    const char *delims = resolve_params.recipient_delimiter;
    const char *at = strrchr(addr, '@');
    size_t  lp_len = at ? (size_t) (at - addr) : strlen(addr);

    if (*delims == 0)
        return NULL;
    for (size_t i = 1; i < lp_len; i++)
        if (strchr(delims, addr[i]))
            return mem_printf("%.*s%s", (int) i, addr, at ? at : "");
    return NULL;
}

/* The domain and its parents; MAP_* with *value. */
static int
resolve_transport_domain(MAPS *maps, const char *domain, const char **value)
{
    const char *dot;
    int     ret;

    if ((ret = maps_find_fixed(maps, domain, value)) != MAP_NOTFOUND)
        return ret;
    for (dot = strchr(domain, '.'); dot && dot[1]; dot = strchr(dot + 1, '.')) {
        const char *key = resolve_params.transport_parent_ok ? dot + 1 : dot;

        if ((ret = maps_find_fixed(maps, key, value)) != MAP_NOTFOUND)
            return ret;
    }
    return MAP_NOTFOUND;
}

void
resolve_transport_maps(RESOLVE_REPLY *reply, const char *domain)
{
    const char *spec = resolve_params.transport_maps;
    const char *value = NULL;
    char   *stripped;
    MAPS   *maps;
    int     ret;

    if (*spec == 0 || (reply->flags & RESOLVE_CLASS_ALIAS))
        return;
    maps = resolve_maps("transport_maps", spec);
    ret = maps_find(maps, STR(reply->recipient), &value);
    if (ret == MAP_NOTFOUND && (stripped = resolve_strip_ext(STR(reply->recipient))) != NULL) {
        ret = maps_find_fixed(maps, stripped, &value);
        mem_free(stripped);
    }
    if (ret == MAP_NOTFOUND && domain && *domain)
        ret = resolve_transport_domain(maps, domain, &value);
    if (ret == MAP_NOTFOUND)
        ret = maps_find_fixed(maps, "*", &value);
    if (ret == MAP_FAIL) {
        msg_warn("transport_maps lookup failure");
        reply->flags |= RESOLVE_FLAG_FAIL;
    } else if (ret == MAP_FOUND && value) {
        resolve_transport_apply(reply, value, domain);
    }
}
