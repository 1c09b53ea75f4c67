/*
 * resolve_addr.c - rewrite_addr() and resolve_addr(): the in-process
 * rewriting and resolution that trivial-rewrite serves (rewrite_clnt.h).
 *
 * Rewriting ("canonicalisation"): drop a source route ("@a,@b:user@d"),
 * strip trailing dots, turn "host!user" into "user@host" (swap_bangpath)
 * and "user%host" into "user@host" (allow_percent_hack) when there is no
 * '@', then append "@$myorigin" to an unqualified address
 * (append_at_myorigin) and ".$mydomain" to "user@host" without a dot in
 * host (append_dot_mydomain). The "remote" rule uses
 * remote_header_rewrite_domain for both and rewrites nothing when it is
 * empty.
 *
 * Resolution: rewrite with the "local" rule, lowercase the domain, undo
 * "user%remote@ourdomain" and "user@remote@ourdomain" routing (flagged
 * RESOLVE_FLAG_ROUTED), then pick the address class, its transport and
 * nexthop (for the relay and default classes with the sender-dependent
 * tables, resolve_route.c), and finally let transport_maps override
 * either part (resolve_route.c).
 *
 * Interface: resolve.h. The parameters are resolve_params (resolve.c),
 * read once; the error class's transport is error_service_name.
 *
 * SECURITY: addresses are untrusted; they are handled in VSTRINGs bounded
 * by ADDRESS_MAX plus room for the appended domain, and an address over
 * ADDRESS_MAX resolves with RESOLVE_FLAG_ERROR without further parsing.
 *
 * DIAGNOSTICS: none (pure address rewriting).
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "address.h"
#include "mail_proto.h"
#include "maps.h"
#include "mem.h"
#include "msg.h"
#include "resolve.h"

#define RESOLVE_ROUTE_LOOPS 10
#define REWRITE_MAX         (ADDRESS_MAX + 512)

void
resolve_reply_init(RESOLVE_REPLY *r)
{
    r->transport = vstring_alloc(REWRITE_MAX);
    r->nexthop = vstring_alloc(REWRITE_MAX);
    r->recipient = vstring_alloc(REWRITE_MAX);
    r->flags = 0;
}

void
resolve_reply_free(RESOLVE_REPLY *r)
{
    vstring_free(r->transport);
    vstring_free(r->nexthop);
    vstring_free(r->recipient);
    r->transport = r->nexthop = r->recipient = NULL;
}

/* Remove trailing dots from the address (they end the domain). */
static void
rewrite_strip_dots(VSTRING *addr)
{
    while (LEN(addr) > 0 && STR(addr)[LEN(addr) - 1] == '.')
        vstring_truncate(addr, LEN(addr) - 1);
}

/* "host!user" -> "user@host", "user%host" -> "user@host" when no '@'. */
static void
rewrite_route_hacks(VSTRING *addr)
{
    char   *bang;
    char   *pct;

    if (strchr(STR(addr), '@'))
        return;
    if (resolve_params.swap_bangpath && (bang = strchr(STR(addr), '!')) != NULL
        && bang > STR(addr) && bang[1]) {
        char   *host = mem_strndup(STR(addr), bang - STR(addr));
        char   *user = mem_strdup(bang + 1);

        vstring_sprintf(addr, "%s@%s", user, host);
        mem_free(host);
        mem_free(user);
        return;
    }
    if (resolve_params.allow_percent_hack && (pct = strrchr(STR(addr), '%')) != NULL)
        *pct = '@';
}

/* Postfix's notice when the level-0 default append_dot_mydomain = yes
 * changes an address. */
static void
rewrite_compat_log(const char *domain, const char *mydomain)
{
    msg_info("using backwards-compatible default setting append_dot_mydomain=yes "
             "to rewrite \"%s\" to \"%s.%s\"%s", domain, domain, mydomain,
             strcasecmp(domain, "localhost") == 0 ? "; please add \"localhost\" to "
             "mydestination or other address class" : "");
}

void
rewrite_addr(const char *rule, const char *addr, VSTRING *out)
{
    int     remote = (strcmp(rule, "remote") == 0);
    const char *origin;
    const char *mydomain;
    const char *colon;
    const char *at;

    vstring_reset(out);
    if (*addr == 0)
        return;
    resolve_params_need();
    origin = remote ? resolve_params.remote_rewrite_domain : resolve_params.myorigin;
    mydomain = remote ? origin : resolve_params.mydomain;
    if (*addr == '@' && (colon = strchr(addr, ':')) != NULL && colon[1])
        addr = colon + 1;                       /* source route */
    vstring_strcpy(out, addr);
    if (remote && *origin == 0)
        return;
    rewrite_route_hacks(out);
    if (strchr(STR(out), '@'))
        rewrite_strip_dots(out);
    if (LEN(out) > 0 && STR(out)[LEN(out) - 1] == '@')
        vstring_truncate(out, LEN(out) - 1);
    if ((at = strrchr(STR(out), '@')) == NULL) {
        if (*origin && resolve_params.append_at_myorigin)
            vstring_sprintf_append(out, "@%s", origin);
        return;
    }
    if (*mydomain && at[1] != '[' && strchr(at + 1, '.') == NULL
        && resolve_params.append_dot_mydomain) {
        if (resolve_params.compat_dot_mydomain)
            rewrite_compat_log(at + 1, mydomain);
        vstring_sprintf_append(out, ".%s", mydomain);
    }
}

/* A domain name (not a literal) with a character or label Postfix rejects. */
static int
resolve_bad_domain(const char *domain)
{
    const char *cp;
    int     label = 0;

    if (*domain == '[') {
        struct sockaddr_storage sa;

        return resolve_literal_parse(domain, &sa) < 0;
    }
    for (cp = domain; *cp; cp++) {
        unsigned char ch = *cp;

        if (ch == '.') {
            if (label == 0)
                return 1;
            label = 0;
        } else if (isalnum(ch) || ch == '-' || ch == '_' || ch >= 0x80) {
            label++;
        } else {
            return 1;
        }
    }
    return label == 0;
}

/* Lowercase the domain, strip its trailing dots. */
static void
resolve_fold(VSTRING *addr)
{
    char   *at;

    rewrite_strip_dots(addr);
    if ((at = strrchr(STR(addr), '@')) != NULL)
        for (char *cp = at + 1; *cp; cp++)
            *cp = tolower((unsigned char) *cp);
}

/*
 * Undo routing through our own domains: "user@remote@ours" and, with
 * allow_percent_hack, "user%remote@ours" become "user@remote".
 */
static void
resolve_unroute(VSTRING *addr, int *flags)
{
    for (int loop = 0; loop < RESOLVE_ROUTE_LOOPS; loop++) {
        char   *at;
        char   *pct;

        resolve_fold(addr);
        at = strrchr(STR(addr), '@');
        if (at == NULL || !resolve_local(at + 1))
            return;
        *at = 0;                                /* addr is now the local part */
        if (strchr(STR(addr), '@')) {
            LEN(addr) = at - STR(addr);
        } else if (resolve_params.allow_percent_hack
                   && (pct = strrchr(STR(addr), '%')) != NULL) {
            *pct = '@';
            LEN(addr) = at - STR(addr);
        } else {
            *at = '@';                          /* a plain local address */
            return;
        }
        *flags |= RESOLVE_FLAG_ROUTED;
    }
}

/* Split "transport:nexthop"; empty parts leave the outputs alone. */
static void
resolve_split_transport(const char *spec, VSTRING *transport, VSTRING *nexthop)
{
    const char *colon = strchr(spec, ':');

    if (colon == NULL) {
        if (*spec)
            vstring_strcpy(transport, spec);
        return;
    }
    if (colon > spec)
        vstring_ncpy(transport, spec, colon - spec);
    if (colon[1])
        vstring_strcpy(nexthop, colon + 1);
}

/* Class defaults: "transport[:nexthop]" from spec, else nexthop fallback. */
static void
resolve_class(RESOLVE_REPLY *reply, int class, const char *spec, const char *fallback)
{
    vstring_reset(reply->transport);
    vstring_reset(reply->nexthop);
    resolve_split_transport(spec, reply->transport, reply->nexthop);
    if (LEN(reply->nexthop) == 0)
        vstring_strcpy(reply->nexthop, fallback);
    reply->flags |= class;
}

/*
 * The relay and default classes: the class's transport (for the default
 * class sender_dependent_default_transport_maps first), its next hop if
 * it names one, else sender_dependent_relayhost_maps, relayhost, the
 * recipient domain.
 */
static void
resolve_remote(const char *sender, RESOLVE_REPLY *reply, int class, const char *domain)
{
    const char *spec = class == RESOLVE_CLASS_RELAY ? resolve_params.relay_transport
        : resolve_sender_transport(sender, &reply->flags);
    const char *relay;

    resolve_class(reply, class, spec, "");
    if (LEN(reply->nexthop) > 0)
        return;
    relay = resolve_sender_relay(sender, &reply->flags);
    vstring_strcpy(reply->nexthop, *relay ? relay : domain);
}

void
resolve_addr(const char *sender, const char *addr, RESOLVE_REPLY *reply)
{
    const RESOLVE_PARAMS *rp = &resolve_params;
    const char *domain;
    const char *at;
    int     fail = 0;

    resolve_params_need();
    reply->flags = 0;
    vstring_reset(reply->recipient);
    if (strlen(addr) > ADDRESS_MAX) {
        reply->flags |= RESOLVE_FLAG_ERROR;
        resolve_class(reply, RESOLVE_CLASS_DEFAULT, rp->error_transport,
                      "5.1.3 bad address syntax");
        return;
    }
    rewrite_addr("local", addr, reply->recipient);
    resolve_unroute(reply->recipient, &reply->flags);
    at = strrchr(STR(reply->recipient), '@');
    domain = at ? at + 1 : NULL;
    if (at && (strchr(STR(reply->recipient), '@') != at || memchr(STR(reply->recipient), '%',
               at - STR(reply->recipient)) || memchr(STR(reply->recipient), '!',
               at - STR(reply->recipient))))
        reply->flags |= RESOLVE_FLAG_ROUTED;
    if (domain && (*domain == 0 || resolve_bad_domain(domain)))
        reply->flags |= RESOLVE_FLAG_ERROR;

    if (domain == NULL || resolve_local(domain)) {
        resolve_class(reply, RESOLVE_CLASS_LOCAL | RESOLVE_FLAG_FINAL, rp->local_transport,
                      rp->myhostname);
    } else if (resolve_domain_list("virtual_alias_domains", domain, &fail)) {
        resolve_class(reply, RESOLVE_CLASS_ALIAS | RESOLVE_FLAG_FINAL, rp->error_transport, "");
        vstring_strcpy(reply->nexthop, "User unknown in virtual alias table");
    } else if (!fail && resolve_domain_list("virtual_mailbox_domains", domain, &fail)) {
        resolve_class(reply, RESOLVE_CLASS_VIRTUAL | RESOLVE_FLAG_FINAL, rp->virtual_transport,
                      domain);
    } else if (!fail && resolve_domain_list("relay_domains", domain, &fail)) {
        resolve_remote(sender, reply, RESOLVE_CLASS_RELAY, domain);
    } else {
        resolve_remote(sender, reply, RESOLVE_CLASS_DEFAULT, domain);
    }
    if (fail)
        reply->flags |= RESOLVE_FLAG_FAIL;
    resolve_transport_maps(reply, domain);
    if (msg_verbose)
        msg_info("resolve <%s> from <%s>: flags=0x%x transport=%s nexthop=%s recipient=%s",
                 addr, sender ? sender : "", reply->flags, STR(reply->transport),
                 STR(reply->nexthop), STR(reply->recipient));
}
