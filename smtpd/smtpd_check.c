/*
 * smtpd_check.c - access restrictions: relay control, access tables,
 * recipient tables.
 *
 * Interface:
 *   smtpd_check_rcpt()  at RCPT time (smtpd_delay_reject = yes, as the
 *       Postfix default): smtpd_client_restrictions, smtpd_helo_restrictions,
 *       smtpd_sender_restrictions, smtpd_relay_restrictions and
 *       smtpd_recipient_restrictions, in that order, then the recipient
 *       table check (smtpd_reject_unlisted_recipient). A "permit" ends the
 *       current list only; a reject ends everything. On reject the reply
 *       is in reply and the "reject: RCPT from" line is logged.
 *   smtpd_check_vrfy()  the recipient table check only.
 *
 * Restrictions understood: permit, reject, defer, permit_mynetworks,
 * permit_sasl_authenticated (never matches: no SASL yet),
 * permit_auth_destination, reject_unauth_destination,
 * defer_unauth_destination, reject_unlisted_recipient,
 * reject_non_fqdn_sender, reject_non_fqdn_recipient,
 * check_{client,helo,sender,recipient}_access type:table (OK, REJECT,
 * DEFER, DUNNO, NNN text, or a restriction list as the value).
 * Anything else: warning and "451 4.3.5 Server configuration error".
 *
 * Domain classes come from trivial-rewrite (resolve_clnt): local, virtual
 * alias, virtual mailbox and relay domains are authorized destinations
 * unless the address carries a sender-specified route.
 *
 * SECURITY: addresses and names here come from the client; they are only
 * used as table keys and in replies/logs (escaped by msg_*). A table or
 * resolver failure gives a 4xx (try again later), never an accept.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "address.h"
#include "mail_proto.h"
#include "mem.h"
#include "msg.h"
#include "rewrite_clnt.h"
#include "smtpd.h"

#define CHECK_DUNNO   0
#define CHECK_OK      1
#define CHECK_REJECT  2

#define CHECK_MAX_DEPTH 3

typedef struct CHECK_CTX {
    SMTPD_STATE *state;
    const char *rcpt;
    VSTRING *reply;
    RESOLVE_REPLY resolved;
    int     resolve_status;     /* 0 not yet, 1 ok, -1 failed */
    const char *reply_name;     /* "<name>" part of a reply */
    const char *reply_class;    /* "Recipient address", ... */
} CHECK_CTX;

static int check_list(CHECK_CTX *ctx, char **items, size_t count, int depth);

/* Format a reject reply "CODE DSN <name>: Class rejected: text". */
static int
check_reject(CHECK_CTX *ctx, long code, const char *dsn, const char *fmt, ...)
{
    va_list ap;

    vstring_sprintf(ctx->reply, "%ld %s ", code, dsn);
    va_start(ap, fmt);
    vstring_vsprintf_append(ctx->reply, fmt, ap);
    va_end(ap);
    return CHECK_REJECT;
}

static int
check_access_denied(CHECK_CTX *ctx, long code, const char *text)
{
    return check_reject(ctx, code, code < 500 ? "4.7.1" : "5.7.1", "<%s>: %s rejected: %s",
                        ctx->reply_name, ctx->reply_class, text ? text : "Access denied");
}

static int
check_config_error(CHECK_CTX *ctx, const char *what)
{
    msg_warn("unknown smtpd restriction: \"%s\"", what);
    return check_reject(ctx, 451, "4.3.5", "Server configuration error");
}

static RESOLVE_REPLY *
check_resolve(CHECK_CTX *ctx)
{
    if (ctx->resolve_status == 0) {
        resolve_reply_init(&ctx->resolved);
        ctx->resolve_status = resolve_clnt(ctx->state->sender ? ctx->state->sender : "",
                                           ctx->rcpt, &ctx->resolved) == 0
            && !(ctx->resolved.flags & RESOLVE_FLAG_FAIL) ? 1 : -1;
    }
    return ctx->resolve_status > 0 ? &ctx->resolved : NULL;
}

static int
check_lookup_failed(CHECK_CTX *ctx, const char *what)
{
    return check_reject(ctx, 451, "4.3.0", "<%s>: Temporary lookup failure", what);
}

/* 1 when rcpt is a destination this server accepts mail for. -1: failure */
static int
check_auth_destination(CHECK_CTX *ctx)
{
    RESOLVE_REPLY *r = check_resolve(ctx);

    if (r == NULL)
        return -1;
    if (r->flags & (RESOLVE_FLAG_ROUTED | RESOLVE_FLAG_ERROR))
        return 0;
    return (r->flags & (RESOLVE_CLASS_LOCAL | RESOLVE_CLASS_ALIAS | RESOLVE_CLASS_VIRTUAL
                        | RESOLVE_CLASS_RELAY)) != 0;
}

static int
check_unauth_destination(CHECK_CTX *ctx, long code, const char *dsn)
{
    if (ctx->rcpt == NULL)
        return CHECK_DUNNO;
    switch (check_auth_destination(ctx)) {
    case 1:
        return CHECK_DUNNO;
    case 0:
        return check_reject(ctx, code, dsn, "<%s>: Relay access denied", ctx->rcpt);
    default:
        return check_lookup_failed(ctx, ctx->rcpt);
    }
}

/* Look one key up; the first hit of keys[] wins. */
static int
check_maps_keys(MAPS *maps, const char **keys, int nkeys, const char **value)
{
    for (int i = 0; i < nkeys; i++) {
        if (keys[i] == NULL || *keys[i] == 0)
            continue;
        int     st = maps_find(maps, keys[i], value);
        if (st != MAP_NOTFOUND)
            return st;
    }
    return MAP_NOTFOUND;
}

/* Is rcpt listed in the recipient table for its domain class? */
static int
check_rcpt_table(CHECK_CTX *ctx)
{
    const SMTPD_PARAMS *p = &smtpd_params;
    RESOLVE_REPLY *r;
    MAPS   *maps;
    long    code;
    const char *table, *value;

    if (ctx->rcpt == NULL)
        return CHECK_DUNNO;
    if ((r = check_resolve(ctx)) == NULL)
        return check_lookup_failed(ctx, ctx->rcpt);
    if (r->flags & RESOLVE_CLASS_LOCAL)
        maps = p->local_rcpt_maps, code = p->unknown_local_code, table = "local recipient";
    else if (r->flags & RESOLVE_CLASS_VIRTUAL)
        maps = p->virtual_mailbox_maps, code = p->unknown_virtual_code, table = "virtual mailbox";
    else if (r->flags & RESOLVE_CLASS_ALIAS)
        maps = p->virtual_alias_maps, code = p->unknown_virtual_code, table = "virtual alias";
    else if (r->flags & RESOLVE_CLASS_RELAY)
        maps = p->relay_rcpt_maps, code = p->unknown_relay_code, table = "relay recipient";
    else
        return CHECK_DUNNO;
    if (maps == NULL)
        return CHECK_DUNNO;

    const char *addr = LEN(r->recipient) ? STR(r->recipient) : ctx->rcpt;
    VSTRING *local = vstring_alloc(ADDRESS_MAX);
    VSTRING *bare = vstring_alloc(ADDRESS_MAX);
    VSTRING *bare_local = vstring_alloc(ADDRESS_MAX);
    const char *domain = address_domain(addr);
    char   *at_domain = domain ? mem_printf("@%s", domain) : NULL;

    address_localpart(local, addr);
    /* user+ext@domain: also try without the extension */
    vstring_strcpy(bare_local, STR(local));
    if (*p->recipient_delimiter) {
        size_t  cut = strcspn(STR(local), p->recipient_delimiter);
        if (cut > 0 && cut < LEN(local))
            vstring_truncate(bare_local, cut);
    }
    vstring_sprintf(bare, "%s%s%s", STR(bare_local), domain ? "@" : "", domain ? domain : "");
    const char *keys[] = {
        addr, strcmp(STR(bare), addr) ? STR(bare) : NULL,
        (r->flags & RESOLVE_CLASS_LOCAL) ? STR(local) : NULL,
        (r->flags & RESOLVE_CLASS_LOCAL) && strcmp(STR(bare_local), STR(local)) ? STR(bare_local) : NULL,
        (r->flags & RESOLVE_CLASS_LOCAL) ? NULL : at_domain,
    };
    int     st = check_maps_keys(maps, keys, 5, &value);
    int     result = CHECK_DUNNO;

    if (st == MAP_FAIL)
        result = check_lookup_failed(ctx, ctx->rcpt);
    else if (st == MAP_NOTFOUND)
        result = check_reject(ctx, code, code < 500 ? "4.1.1" : "5.1.1",
                  "<%s>: Recipient address rejected: User unknown in %s table",
                              ctx->rcpt, table);
    mem_free(at_domain);
    vstring_free(local);
    vstring_free(bare);
    vstring_free(bare_local);
    return result;
}

/* Apply an access table value. */
static int
check_access_value(CHECK_CTX *ctx, const char *value, int depth)
{
    const char *text = value + strcspn(value, " \t");
    size_t  wlen = (size_t) (text - value);

    text += strspn(text, " \t");
    if ((wlen == 2 && strncasecmp(value, "OK", 2) == 0)
        || (wlen == 6 && strncasecmp(value, "PERMIT", 6) == 0))
        return CHECK_OK;
    if (wlen == 5 && strncasecmp(value, "DUNNO", 5) == 0)
        return CHECK_DUNNO;
    if (wlen == 6 && strncasecmp(value, "REJECT", 6) == 0)
        return check_access_denied(ctx, smtpd_params.access_code, *text ? text : NULL);
    if (wlen == 5 && strncasecmp(value, "DEFER", 5) == 0)
        return check_access_denied(ctx, smtpd_params.defer_code, *text ? text : NULL);
    if (wlen == 3 && (value[0] == '4' || value[0] == '5')
        && strspn(value, "0123456789") == 3) {
        long    code = strtol(value, NULL, 10);
        if (text[0] == value[0] && text[1] == '.' && strchr(text, ' ')) {
            const char *sp = strchr(text, ' ');
            char   *dsn = mem_strndup(text, (size_t) (sp - text));
            check_reject(ctx, code, dsn, "<%s>: %s rejected: %s",
                         ctx->reply_name, ctx->reply_class, sp + 1);
            mem_free(dsn);
            return CHECK_REJECT;
        }
        return check_access_denied(ctx, code, *text ? text : NULL);
    }
    if (depth < CHECK_MAX_DEPTH && strchr(value, ':') == NULL) {
        ARGV   *list = argv_split_list(value);
        int     st = check_list(ctx, list->argv, list->argc, depth + 1);
        argv_free(list);
        if (st != CHECK_REJECT || strncasecmp(STR(ctx->reply), "451 4.3.5", 9) != 0)
            return st;
    }
    msg_warn("access table: unsupported action \"%s\": ignored", value);
    vstring_reset(ctx->reply);
    return CHECK_DUNNO;
}

/* Keys for an address: user@domain, domain and its parents, user@. */
static int
check_address_access(CHECK_CTX *ctx, MAPS *maps, const char *addr, int depth)
{
    const char *value;
    const char *domain = address_domain(addr);
    int     st;

    if ((st = maps_find(maps, addr, &value)) == MAP_NOTFOUND && domain) {
        for (const char *d = domain; d && *d; d = strchr(d + 1, '.')) {
            const char *key = *d == '.' ? d + 1 : d;
            if ((st = maps_find(maps, key, &value)) != MAP_NOTFOUND)
                break;
            if (*d == '.' && (st = maps_find(maps, d, &value)) != MAP_NOTFOUND)
                break;
        }
        if (st == MAP_NOTFOUND) {
            char   *user = mem_strndup(addr, (size_t) (domain - addr));
            st = maps_find(maps, user, &value);
            mem_free(user);
        }
    }
    if (st == MAP_FAIL)
        return check_lookup_failed(ctx, addr);
    return st == MAP_FOUND ? check_access_value(ctx, value, depth) : CHECK_DUNNO;
}

/* Keys for a client: name and parents, address and its shorter forms. */
static int
check_client_access(CHECK_CTX *ctx, MAPS *maps, int depth)
{
    SMTPD_STATE *state = ctx->state;
    const char *value;
    int     st = MAP_NOTFOUND;

    if (strcmp(state->name, "unknown") != 0)
        for (const char *d = state->name; d && *d && st == MAP_NOTFOUND; d = strchr(d + 1, '.'))
            st = maps_find(maps, *d == '.' ? d + 1 : d, &value);
    if (st == MAP_NOTFOUND) {
        char   *addr = mem_strdup(state->addr);
        char    sep = strchr(addr, ':') ? ':' : '.';
        for (;;) {
            if ((st = maps_find(maps, addr, &value)) != MAP_NOTFOUND)
                break;
            char   *cut = strrchr(addr, sep);
            if (cut == NULL)
                break;
            *cut = 0;
        }
        mem_free(addr);
    }
    if (st == MAP_FAIL)
        return check_lookup_failed(ctx, state->namaddr);
    return st == MAP_FOUND ? check_access_value(ctx, value, depth) : CHECK_DUNNO;
}

/* check_*_access: tables are opened on first use and kept. */
static MAPS *
check_maps(const char *spec)
{
    static ARGV *names;
    static MAPS **tables;

    if (names == NULL)
        names = argv_alloc();
    for (size_t i = 0; i < names->argc; i++)
        if (strcmp(names->argv[i], spec) == 0)
            return tables[i];
    tables = mem_realloc_array(tables, names->argc + 1, sizeof(*tables));
    tables[names->argc] = maps_create("smtpd access", spec, 0);
    argv_add(names, spec);
    return tables[names->argc - 1];
}

static int
check_access_cmd(CHECK_CTX *ctx, const char *name, const char *table, int depth)
{
    SMTPD_STATE *state = ctx->state;
    MAPS   *maps = check_maps(table);

    if (strcasecmp(name, "check_client_access") == 0)
        return check_client_access(ctx, maps, depth);
    if (strcasecmp(name, "check_helo_access") == 0) {
        if (state->helo_name == NULL)
            return CHECK_DUNNO;
        return check_address_access(ctx, maps, state->helo_name, depth);
    }
    if (strcasecmp(name, "check_sender_access") == 0) {
        if (state->sender == NULL || *state->sender == 0)
            return CHECK_DUNNO;
        return check_address_access(ctx, maps, state->sender, depth);
    }
    if (ctx->rcpt == NULL)
        return CHECK_DUNNO;
    return check_address_access(ctx, maps, ctx->rcpt, depth);
}

static int
check_non_fqdn(CHECK_CTX *ctx, const char *addr, const char *what)
{
    const char *domain;

    if (addr == NULL || *addr == 0)
        return CHECK_DUNNO;
    domain = address_domain(addr);
    if (domain && strchr(domain, '.') && domain[strlen(domain) - 1] != '.')
        return CHECK_DUNNO;
    return check_reject(ctx, 504, "5.5.2", "<%s>: %s rejected: need fully-qualified address",
                        addr, what);
}

/* One restriction without argument. */
static int
check_simple(CHECK_CTX *ctx, const char *name)
{
    const SMTPD_PARAMS *p = &smtpd_params;

    if (strcasecmp(name, "permit") == 0)
        return CHECK_OK;
    if (strcasecmp(name, "reject") == 0)
        return check_access_denied(ctx, p->reject_code, NULL);
    if (strcasecmp(name, "defer") == 0)
        return check_access_denied(ctx, p->defer_code, NULL);
    if (strcasecmp(name, "permit_mynetworks") == 0) {
        int     st = netmatch_match(p->mynetworks, ctx->state->name, ctx->state->addr);
        return st > 0 ? CHECK_OK : st < 0 ? check_lookup_failed(ctx, ctx->state->namaddr) : CHECK_DUNNO;
    }
    if (strcasecmp(name, "permit_sasl_authenticated") == 0)
        return CHECK_DUNNO;
    if (strcasecmp(name, "reject_unauth_destination") == 0)
        return check_unauth_destination(ctx, p->relay_code, "5.7.1");
    if (strcasecmp(name, "defer_unauth_destination") == 0)
        return check_unauth_destination(ctx, p->relay_code - 100, "4.7.1");
    if (strcasecmp(name, "permit_auth_destination") == 0) {
        if (ctx->rcpt == NULL)
            return CHECK_DUNNO;
        int     st = check_auth_destination(ctx);
        return st > 0 ? CHECK_OK : st < 0 ? check_lookup_failed(ctx, ctx->rcpt) : CHECK_DUNNO;
    }
    if (strcasecmp(name, "reject_unlisted_recipient") == 0
        || strcasecmp(name, "check_recipient_maps") == 0)
        return check_rcpt_table(ctx);
    if (strcasecmp(name, "reject_non_fqdn_recipient") == 0)
        return check_non_fqdn(ctx, ctx->rcpt, "Recipient address");
    if (strcasecmp(name, "reject_non_fqdn_sender") == 0)
        return check_non_fqdn(ctx, ctx->state->sender, "Sender address");
    return check_config_error(ctx, name);
}

static int
check_list(CHECK_CTX *ctx, char **items, size_t count, int depth)
{
    for (size_t i = 0; i < count; i++) {
        const char *name = items[i];
        int     st;

        if (strncasecmp(name, "check_", 6) == 0 && strlen(name) > 7
            && strcasecmp(name + strlen(name) - 7, "_access") == 0) {
            if (i + 1 >= count)
                return check_config_error(ctx, name);
            st = check_access_cmd(ctx, name, items[++i], depth);
        } else {
            st = check_simple(ctx, name);
        }
        if (st != CHECK_DUNNO)
            return st;
    }
    return CHECK_DUNNO;
}

static int
check_run(CHECK_CTX *ctx, ARGV *list, const char *name, const char *class)
{
    ctx->reply_name = name;
    ctx->reply_class = class;
    return check_list(ctx, list->argv, list->argc, 0);
}

static void
check_ctx_done(CHECK_CTX *ctx)
{
    if (ctx->resolve_status != 0)
        resolve_reply_free(&ctx->resolved);
}

int
smtpd_check_rcpt(SMTPD_STATE *state, const char *rcpt, VSTRING *reply)
{
    const SMTPD_PARAMS *p = &smtpd_params;
    CHECK_CTX ctx;
    int     st = CHECK_DUNNO;

    memset(&ctx, 0, sizeof(ctx));
    ctx.state = state;
    ctx.rcpt = rcpt;
    ctx.reply = reply;
    vstring_reset(reply);
    if ((st = check_run(&ctx, p->client_restrictions, state->namaddr, "Client host")) != CHECK_REJECT
        && (st = check_run(&ctx, p->helo_restrictions, state->helo_name ? state->helo_name : "",
                           "Helo command")) != CHECK_REJECT
        && (st = check_run(&ctx, p->sender_restrictions, state->sender ? state->sender : "",
                           "Sender address")) != CHECK_REJECT
        && (st = check_run(&ctx, p->relay_restrictions, rcpt, "Recipient address")) != CHECK_REJECT
        && (st = check_run(&ctx, p->recipient_restrictions, rcpt,
                           "Recipient address")) != CHECK_REJECT
        && p->reject_unlisted_recipient)
        st = check_rcpt_table(&ctx);
    check_ctx_done(&ctx);
    if (st == CHECK_REJECT) {
        smtpd_log_reject(state, STR(reply));
        return -1;
    }
    return 0;
}

int
smtpd_check_vrfy(SMTPD_STATE *state, const char *rcpt, VSTRING *reply)
{
    CHECK_CTX ctx;
    int     st;

    memset(&ctx, 0, sizeof(ctx));
    ctx.state = state;
    ctx.rcpt = rcpt;
    ctx.reply = reply;
    vstring_reset(reply);
    st = smtpd_params.reject_unlisted_recipient ? check_rcpt_table(&ctx) : CHECK_DUNNO;
    check_ctx_done(&ctx);
    if (st == CHECK_REJECT) {
        smtpd_log_reject(state, STR(reply));
        return -1;
    }
    return 0;
}
