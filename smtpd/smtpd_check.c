/*
 * smtpd_check.c - access restrictions: the restriction stages, relay
 * control, access tables, recipient tables, DNS-based checks.
 *
 * Interface: smtpd_check_rcpt() and smtpd_check_vrfy() (smtpd.h), the
 * other stages in smtpd_check.h.
 *
 * Stages and when they run (as Postfix): smtpd_client_restrictions,
 * smtpd_helo_restrictions and smtpd_sender_restrictions at RCPT time when
 * smtpd_delay_reject = yes (the default), otherwise at connect, HELO and
 * MAIL; then smtpd_relay_restrictions, smtpd_recipient_restrictions and
 * the recipient table check (smtpd_reject_unlisted_recipient) at RCPT;
 * smtpd_data_restrictions at DATA; smtpd_end_of_data_restrictions after
 * the content. A "permit" ends the current list only; a reject ends
 * everything.
 *
 * Restrictions: permit, reject, defer, defer_if_permit, defer_if_reject,
 * warn_if_reject, permit_mynetworks, permit_sasl_authenticated (after
 * AUTH, smtpd_sasl.c), permit_tls_clientcerts, permit_tls_all_clientcerts
 * and check_ccert_access (smtpd_check_tls.c), permit_auth_destination, reject_unauth_destination,
 * defer_unauth_destination, reject_unlisted_recipient, reject_unlisted_sender,
 * reject_non_fqdn_{sender,recipient,helo_hostname}, reject_invalid_helo_hostname,
 * reject_unknown_{sender,recipient}_domain, reject_unknown_client_hostname,
 * reject_unknown_reverse_client_hostname, reject_rbl_client,
 * reject_rhsbl_{client,sender,helo}, reject_unauth_pipelining,
 * reject_sender_login_mismatch and its authenticated/known/unauthenticated
 * variants (smtpd_sender_login_maps), reject_unverified_{recipient,sender}
 * (smtpd_check_verify.c), check_{client,helo,sender,recipient}_access type:table, a type:table
 * alone (the check_*_access of the stage the list or class is used in,
 * as Postfix), and the names in smtpd_restriction_classes. Access table values: OK, REJECT, DEFER,
 * DEFER_IF_REJECT, DEFER_IF_PERMIT, DUNNO, HOLD, DISCARD, FILTER, REDIRECT,
 * PREPEND, WARN (each with optional text), "4NN/5NN text", or a
 * restriction list. Anything else: warning and "451 4.3.5 Server
 * configuration error". soft_bounce turns 5xx replies into 4xx.
 *
 * Valid addresses (reject_unlisted_recipient/sender and the implicit
 * smtpd_reject_unlisted_* checks) by address class, as Postfix: listed in
 * virtual_alias_maps or the canonical maps is valid anywhere; else virtual
 * alias domains have no user, local domains need local_recipient_maps,
 * virtual mailbox domains virtual_mailbox_maps, relay domains
 * relay_recipient_maps.
 *
 * compatibility_level: below 3.6 (smtpd_relay_before_recipient_restrictions
 * = no) smtpd_recipient_restrictions run before smtpd_relay_restrictions;
 * where a default in use is a backwards-compatible one, Postfix's "using
 * backwards-compatible default setting" lines are logged (smtpd_conf.compat_*).
 *
 * Start-up: smtpd_check_relay_safety() makes smtpd exit (fatal) when
 * neither smtpd_relay_restrictions nor smtpd_recipient_restrictions can
 * stop unauthorized relaying, as Postfix does.
 *
 * The per-session and per-message results (a connect-time reject, HOLD,
 * DISCARD, FILTER, REDIRECT, PREPEND) live in the session, state->check;
 * what is static here is configuration (the access tables, opened once).
 *
 * SECURITY: addresses and names here come from the client; they are only
 * used as table keys, DNS query names (bounded, checked for syntax) and in
 * replies/logs (escaped by msg_*). A table or resolver failure gives a 4xx
 * (try again later), never an accept.
 *
 * DIAGNOSTICS: fatal at start when neither smtpd_relay_restrictions nor
 * smtpd_recipient_restrictions can refuse relaying (no open relay). At run
 * time an unknown restriction is a warning and a "451 4.3.5 Server
 * configuration error" reply; a bad access table action argument is a
 * warning too.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr_map.h"
#include "address.h"
#include "dns.h"
#include "mail_proto.h"
#include "mem.h"
#include "msg.h"
#include "printable.h"
#include "record.h"
#include "rewrite_clnt.h"
#include "smtpd.h"
#include "smtpd_check.h"
#include "receive_opts.h"
#include "smtpd_policy.h"
#include "valid_hostname.h"

#include "smtpd_check_impl.h"

static int check_list(CHECK_CTX *ctx, char **items, size_t count, int depth);
static int check_takes_arg(const char *name);

/* ---- replies and logging ------------------------------------------------- */

/*
 * Format a reject reply "CODE DSN text". soft_bounce makes 5xx 4xx; a
 * pending defer_if_reject replaces a 5xx; warn_if_reject only logs.
 */
int
check_reject(CHECK_CTX *ctx, long code, const char *dsn, const char *fmt, ...)
{
    va_list ap;
    VSTRING *text = vstring_alloc(1024);

    va_start(ap, fmt);
    vstring_vsprintf_append(text, fmt, ap);
    va_end(ap);
    if (var_soft_bounce && code >= 500 && code < 600)
        code -= 100;
    vstring_sprintf(ctx->reply, "%ld %c%s %s", code, code < 500 ? '4' : '5',
                    dsn[0] && dsn[1] == '.' ? dsn + 1 : ".7.1", STR(text));
    vstring_free(text);
    if (code >= 500 && LEN(ctx->defer_if_reject) > 0)
        vstring_strcpy(ctx->reply, STR(ctx->defer_if_reject));
    if (ctx->warn_next) {
        smtpd_chat_log_action(ctx->state, "reject_warning", STR(ctx->reply));
        vstring_reset(ctx->reply);
        return CHECK_DUNNO;
    }
    return CHECK_REJECT;
}

/*
 * An action's text may start with an enhanced status code ("REJECT 5.7.2
 * text", a policy server's "DEFER_IF_PERMIT 4.7.24 text"): it replaces
 * the default one (access(5)). Returns the text after it; dsn gets it or dflt.
 */
static const char *
check_text_dsn(const char *text, const char *dflt, char *dsn, size_t size)
{
    size_t  subject, detail, n;

    snprintf(dsn, size, "%s", dflt);
    if (text == NULL || (text[0] != '2' && text[0] != '4' && text[0] != '5') || text[1] != '.')
        return text;
    subject = strspn(text + 2, "0123456789");
    if (subject < 1 || subject > 3 || text[2 + subject] != '.')
        return text;
    detail = strspn(text + 3 + subject, "0123456789");
    n = 3 + subject + detail;
    if (detail < 1 || detail > 3 || (text[n] != ' ' && text[n] != 0))
        return text;
    snprintf(dsn, size, "%.*s", (int) n, text);
    text += n + strspn(text + n, " ");
    return *text ? text : NULL;
}

static int
check_access_denied(CHECK_CTX *ctx, long code, const char *text)
{
    char    dsn[16];

    text = check_text_dsn(text, code < 500 ? "4.7.1" : "5.7.1", dsn, sizeof(dsn));
    return check_reject(ctx, code, dsn, "<%s>: %s rejected: %s",
                        ctx->reply_name, ctx->reply_class, text ? text : "Access denied");
}

static int
check_config_error(CHECK_CTX *ctx, const char *what)
{
    msg_warn("unknown smtpd restriction: \"%s\"", what);
    vstring_strcpy(ctx->reply, "451 4.3.5 Server configuration error");
    return CHECK_REJECT;
}

int
check_lookup_failed(CHECK_CTX *ctx, const char *what)
{
    vstring_sprintf(ctx->reply, "451 4.3.0 <%s>: Temporary lookup failure", what);
    return CHECK_REJECT;
}

/* defer_if_permit / defer_if_reject: remember the reply for later. */
static int
check_defer_if(CHECK_CTX *ctx, VSTRING *slot, const char *what, const char *text)
{
    long    code = var_defer_code;
    char    dsn[16];

    text = check_text_dsn(text, "4.7.1", dsn, sizeof(dsn));
    vstring_sprintf(slot, "%ld 4%s <%s>: %s rejected: %s", code < 500 ? code : 450, dsn + 1,
                    ctx->reply_name, ctx->reply_class, text ? text : what);
    return CHECK_DUNNO;
}

/* ---- relay control and recipient tables --------------------------------- */

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

/* 1 when rcpt is a destination this server accepts mail for. -1: failure */
static int
check_auth_destination(CHECK_CTX *ctx)
{
    RESOLVE_REPLY *r = check_resolve(ctx);

    if (r == NULL)
        return -1;
    if (r->flags & (RESOLVE_FLAG_ROUTED | RESOLVE_FLAG_ERROR))
        return 0;
    if ((r->flags & RESOLVE_CLASS_RELAY) && smtpd_conf.compat_relay_domains) {
        const char *domain = address_domain(STR(r->recipient));

        msg_info("using backwards-compatible default setting relay_domains=$mydestination "
                 "to accept mail for domain \"%s\"", domain ? domain : "");
    }
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

/* Is addr listed in maps (the canonical(5)/virtual(5) key order, as
 * Postfix's mail_addr_find)? MAP_*; no table: MAP_NOTFOUND. */
static int
check_addr_listed(MAPS *maps, const char *addr)
{
    return maps ? addr_map_find(maps, addr, 0, NULL) : MAP_NOTFOUND;
}

/* postmaster, MAILER-DAEMON, $double_bounce_sender: valid in every local
 * domain (qmgr and bounce absorb or make them), as Postfix. */
static int
check_local_exempt(const char *addr)
{
    const char *names[] = {var_double_bounce_sender, "postmaster", "MAILER-DAEMON"};
    const char *at = strrchr(addr, '@');
    size_t  len = at ? (size_t) (at - addr) : strlen(addr);

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strlen(names[i]) == len && strncasecmp(addr, names[i], len) == 0)
            return 1;
    return 0;
}

static int
check_user_unknown(CHECK_CTX *ctx, const char *addr, const char *class, long code,
                   const char *table)
{
    int     show = var_show_unk_rcpt_table;

    return check_reject(ctx, code, strcmp(class, "Sender address") == 0 ? "5.1.0" : "5.1.1",
                        "<%s>: %s rejected: User unknown%s%s%s", addr, class,
                        show ? " in " : "", show ? table : "", show ? " table" : "");
}

/*
 * The address classes, as Postfix's reject_unlisted_*: an address that
 * sender/recipient_canonical_maps, canonical_maps or virtual_alias_maps
 * list is valid; else a virtual alias domain has no other user; a local
 * domain needs local_recipient_maps, a virtual mailbox domain
 * virtual_mailbox_maps, a relay domain relay_recipient_maps (each only
 * when not empty).
 */
static int
check_addr_class(CHECK_CTX *ctx, const char *addr, const char *class, const RESOLVE_REPLY *r)
{
    const SMTPD_CONF *c = &smtpd_conf;
    const char *full = LEN(r->recipient) ? STR(r->recipient) : addr;
    MAPS   *valid[] = {
        strcmp(class, "Sender address") == 0 ? c->send_canon_maps : c->rcpt_canon_maps,
        c->canonical_maps, c->virtual_alias_maps,
    };
    MAPS   *maps = NULL;
    long    code = 0;
    const char *table = NULL;
    int     st;

    for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++)
        if ((st = check_addr_listed(valid[i], full)) != MAP_NOTFOUND)
            return st == MAP_FOUND ? CHECK_DUNNO : check_lookup_failed(ctx, addr);
    if (r->flags & RESOLVE_CLASS_ALIAS)
        return check_user_unknown(ctx, addr, class, var_virt_alias_code, "virtual alias");
    if ((r->flags & RESOLVE_CLASS_LOCAL) && !check_local_exempt(full))
        maps = c->local_rcpt_maps, code = var_local_rcpt_code, table = "local recipient";
    else if (r->flags & RESOLVE_CLASS_VIRTUAL)
        maps = c->virtual_mailbox_maps, code = var_virt_mailbox_code, table = "virtual mailbox";
    else if (r->flags & RESOLVE_CLASS_RELAY)
        maps = c->relay_rcpt_maps, code = var_relay_rcpt_code, table = "relay recipient";
    if (maps && (st = check_addr_listed(maps, full)) != MAP_FOUND)
        return st == MAP_FAIL ? check_lookup_failed(ctx, addr)
            : check_user_unknown(ctx, addr, class, code, table);
    if ((r->flags & RESOLVE_CLASS_RELAY) && c->compat_relay_domains)
        msg_info("using backwards-compatible default setting relay_domains=$mydestination "
                 "to accept mail for address \"%s\"", addr);
    return CHECK_DUNNO;
}

/* Is addr a valid address (RCPT or sender)? The recipient is resolved once
 * per RCPT (check_resolve), another address here. */
static int
check_addr_table(CHECK_CTX *ctx, const char *addr, const char *class)
{
    RESOLVE_REPLY rr;
    const RESOLVE_REPLY *r = &rr;
    int     result;

    if (addr == NULL || *addr == 0)
        return CHECK_DUNNO;
    resolve_reply_init(&rr);
    if (addr == ctx->rcpt)
        r = check_resolve(ctx);
    else if (resolve_clnt(ctx->state->sender ? ctx->state->sender : "", addr, &rr) != 0)
        rr.flags |= RESOLVE_FLAG_FAIL;
    if (r == NULL || (r->flags & RESOLVE_FLAG_FAIL))
        result = check_lookup_failed(ctx, addr);
    else
        result = check_addr_class(ctx, addr, class, r);
    resolve_reply_free(&rr);
    return result;
}

/* The implicit recipient table check; receive_override_options =
 * no_unknown_recipient_checks (the after-filter smtpd) turns it off. */
static int
check_rcpt_table(CHECK_CTX *ctx)
{
    if (receive_opts_has(RECEIVE_OPT_NO_UNKN_RCPT))
        return CHECK_DUNNO;
    return check_addr_table(ctx, ctx->rcpt, "Recipient address");
}

/* ---- access tables ------------------------------------------------------- */

static int
check_word(const char *value, size_t wlen, const char *word)
{
    return wlen == strlen(word) && strncasecmp(value, word, wlen) == 0;
}

/* "triggers HOLD action" or the table's own text. */
static void
check_log_action(CHECK_CTX *ctx, const char *action, const char *text, const char *dflt)
{
    char   *line = *text ? mem_printf("<%s>: %s %s", ctx->reply_name, ctx->reply_class, text)
        : mem_printf("<%s>: %s %s", ctx->reply_name, ctx->reply_class, dflt);

    smtpd_chat_log_action(ctx->state, action, line);
    mem_free(line);
}

/* HOLD, DISCARD, FILTER, REDIRECT, PREPEND, WARN; -1: not one of them. */
static int
check_access_action(CHECK_CTX *ctx, const char *value, size_t wlen, const char *text)
{
    char   *dflt;

    if (check_word(value, wlen, "HOLD")) {
        ctx->state->check.flags |= CLEANUP_FLAG_HOLD;
        check_log_action(ctx, "hold", text, "triggers HOLD action");
        return CHECK_DUNNO;
    }
    if (check_word(value, wlen, "DISCARD")) {
        ctx->state->check.flags |= CLEANUP_FLAG_DISCARD;
        check_log_action(ctx, "discard", text, "triggers DISCARD action");
        return CHECK_OK;
    }
    if (check_word(value, wlen, "FILTER") || check_word(value, wlen, "REDIRECT")) {
        int     filter = toupper((unsigned char) value[0]) == 'F';
        char  **slot = filter ? &ctx->state->check.filter : &ctx->state->check.redirect;

        if (*text == 0 || (filter ? strchr(text, ':') == NULL : strchr(text, '@') == NULL)) {
            msg_warn("access table: bad %s action argument: \"%s\"",
                     filter ? "FILTER" : "REDIRECT", text);
            return check_config_error(ctx, value);
        }
        mem_free(*slot);
        *slot = mem_strdup(text);
        dflt = mem_printf("triggers %s %s", filter ? "FILTER" : "REDIRECT", text);
        check_log_action(ctx, filter ? "filter" : "redirect", "", dflt);
        mem_free(dflt);
        return CHECK_DUNNO;
    }
    if (check_word(value, wlen, "PREPEND")) {
        ARGV  **prepend = &ctx->state->check.prepend;

        if (*prepend == NULL)
            *prepend = argv_alloc();
        if (*text)
            argv_add(*prepend, text);
        return CHECK_DUNNO;
    }
    if (check_word(value, wlen, "WARN")) {
        smtpd_chat_log_action(ctx->state, "warn", text);
        return CHECK_DUNNO;
    }
    return -1;
}

/* "4NN text" / "5NN [X.Y.Z] text" from a table. */
static int
check_access_numeric(CHECK_CTX *ctx, const char *value, const char *text)
{
    long    code = strtol(value, NULL, 10);

    if (text[0] == value[0] && text[1] == '.' && strchr(text, ' ')) {
        const char *sp = strchr(text, ' ');
        char   *dsn = mem_strndup(text, (size_t) (sp - text));
        int     st = check_reject(ctx, code, dsn, "<%s>: %s rejected: %s",
                                  ctx->reply_name, ctx->reply_class, sp + 1);
        mem_free(dsn);
        return st;
    }
    return check_access_denied(ctx, code, *text ? text : NULL);
}

/* Apply an access table value. */
int
check_access_value(CHECK_CTX *ctx, const char *value, int depth)
{
    const char *text = value + strcspn(value, " \t");
    size_t  wlen = (size_t) (text - value);
    int     st;

    text += strspn(text, " \t");
    if (check_word(value, wlen, "OK"))
        return CHECK_OK;
    if (check_word(value, wlen, "DUNNO"))
        return CHECK_DUNNO;
    if (check_word(value, wlen, "REJECT"))
        return check_access_denied(ctx, var_access_map_code, *text ? text : NULL);
    if (check_word(value, wlen, "DEFER"))
        return check_access_denied(ctx, var_defer_code, *text ? text : NULL);
    if (check_word(value, wlen, "DEFER_IF_REJECT"))
        return check_defer_if(ctx, ctx->defer_if_reject, "Service unavailable", *text ? text : NULL);
    if (check_word(value, wlen, "DEFER_IF_PERMIT"))
        return check_defer_if(ctx, ctx->defer_if_permit, "Service unavailable", *text ? text : NULL);
    if ((st = check_access_action(ctx, value, wlen, text)) >= 0)
        return st;
    if (wlen == 3 && (value[0] == '4' || value[0] == '5') && strspn(value, "0123456789") == 3)
        return check_access_numeric(ctx, value, text);
    if (depth < CHECK_MAX_DEPTH) {
        ARGV   *list = argv_split_list(value);

        st = check_list(ctx, list->argv, list->argc, depth + 1);
        argv_free(list);
        return st;
    }
    return check_config_error(ctx, value);
}

/*
 * An access table list is kept twice: every table for the whole key
 * (address, host name, client address), and only the "fixed" tables
 * (not regexp/pcre/cidr) for the partial keys (parent domains, user@,
 * address prefixes), as Postfix does.
 */
typedef struct CHECK_TABLE {
    MAPS   *all;
    MAPS   *fixed;
} CHECK_TABLE;

/* Parents of a domain: "example.com" (or ".example.com"). */
static int
check_parent_keys(CHECK_TABLE *t, const char *domain, const char **value)
{
    int     st = MAP_NOTFOUND;

    for (const char *d = strchr(domain, '.'); st == MAP_NOTFOUND && d; d = strchr(d + 1, '.'))
        st = maps_find(t->fixed, smtpd_conf.parent_matches ? d + 1 : d, value);
    return st;
}

/* Keys for an address: user@domain, domain and its parents, user@. */
static int
check_address_access(CHECK_CTX *ctx, CHECK_TABLE *t, const char *addr, int depth)
{
    const char *value;
    const char *domain = address_domain(addr);
    int     st;

    if ((st = maps_find(t->all, addr, &value)) == MAP_NOTFOUND && domain) {
        if ((st = maps_find(t->fixed, domain, &value)) == MAP_NOTFOUND)
            st = check_parent_keys(t, domain, &value);
        if (st == MAP_NOTFOUND) {
            char   *user = mem_strndup(addr, (size_t) (domain - addr));
            st = maps_find(t->fixed, user, &value);
            mem_free(user);
        }
    }
    if (st == MAP_FAIL)
        return check_lookup_failed(ctx, addr);
    return st == MAP_FOUND ? check_access_value(ctx, value, depth) : CHECK_DUNNO;
}

/* Keys for a client: name and parents, address and its shorter forms. */
static int
check_client_access(CHECK_CTX *ctx, CHECK_TABLE *t, int depth)
{
    SMTPD_STATE *state = ctx->state;
    const char *value;
    int     st = MAP_NOTFOUND;

    if (strcmp(state->name, "unknown") != 0
        && (st = maps_find(t->all, state->name, &value)) == MAP_NOTFOUND)
        st = check_parent_keys(t, state->name, &value);
    if (st == MAP_NOTFOUND && (st = maps_find(t->all, state->addr, &value)) == MAP_NOTFOUND) {
        char   *addr = mem_strdup(state->addr);
        char    sep = strchr(addr, ':') ? ':' : '.';
        char   *cut;

        while (st == MAP_NOTFOUND && (cut = strrchr(addr, sep)) != NULL) {
            *cut = 0;
            st = maps_find(t->fixed, addr, &value);
        }
        mem_free(addr);
    }
    if (st == MAP_FAIL)
        return check_lookup_failed(ctx, state->namaddr);
    return st == MAP_FOUND ? check_access_value(ctx, value, depth) : CHECK_DUNNO;
}

/* The spec without pattern tables. */
static char *
check_fixed_spec(const char *spec)
{
    ARGV   *list = argv_split_list(spec);
    VSTRING *out = vstring_alloc(VSTRING_UNLIMITED);

    for (size_t i = 0; i < list->argc; i++) {
        const char *type = list->argv[i];

        while (strncmp(type, "proxy:", 6) == 0)
            type += 6;
        if (strncmp(type, "regexp:", 7) && strncmp(type, "pcre:", 5) && strncmp(type, "cidr:", 5))
            vstring_sprintf_append(out, "%s%s", LEN(out) ? " " : "", list->argv[i]);
    }
    argv_free(list);
    return vstring_export(out);
}

/* check_*_access: a table is opened once (smtpd_check_preopen() at start, or
 * on first use when an access table result names it) and kept: configuration,
 * shared by the sessions of the process. */
static CHECK_TABLE *
check_maps(const char *spec)
{
    static ARGV *names;
    static CHECK_TABLE *tables;
    char   *fixed;

    if (names == NULL)
        names = argv_alloc();
    for (size_t i = 0; i < names->argc; i++)
        if (strcmp(names->argv[i], spec) == 0)
            return &tables[i];
    tables = mem_realloc_array(tables, names->argc + 1, sizeof(*tables));
    tables[names->argc].all = maps_create("smtpd access", spec, 0);
    fixed = check_fixed_spec(spec);
    tables[names->argc].fixed = strcmp(fixed, spec) == 0 ? tables[names->argc].all
        : maps_create("smtpd access", fixed, 0);
    mem_free(fixed);
    argv_add(names, spec);
    return &tables[names->argc - 1];
}

/* Open the tables of one restriction list: those named after
 * check_*_access, and those named bare (type:table, see check_bare_table). */
static void
check_preopen_list(const ARGV *list)
{
    for (size_t i = 0; i < list->argc; i++) {
        const char *name = list->argv[i];

        if (check_takes_arg(name) || strcasecmp(name, "check_policy_service") == 0) {
            if (i + 1 < list->argc && strncasecmp(name, "check_", 6) == 0
                && check_takes_arg(name) && strchr(list->argv[i + 1], ':'))
                (void) check_maps(list->argv[i + 1]);
            i++;
        } else if (strchr(name, ':')) {
            (void) check_maps(name);
        }
    }
}

/*
 * smtpd_check_preopen - open every check_*_access table of the restriction
 * lists and restriction classes now (pre_init, as root, before the chroot);
 * check_maps() keeps them, so lookups later never open files in the jail.
 */
void
smtpd_check_preopen(void)
{
    const SMTPD_CONF *c = &smtpd_conf;
    const ARGV *lists[] = {
        c->client_restrictions, c->helo_restrictions, c->sender_restrictions,
        c->relay_restrictions, c->recipient_restrictions, c->data_restrictions,
        c->eod_restrictions, c->etrn_restrictions,
    };
    HTABLE_INFO **classes = htable_list(c->classes);

    check_tls_preopen();
    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
        check_preopen_list(lists[i]);
    for (HTABLE_INFO **ht = classes; *ht; ht++)
        check_preopen_list((*ht)->value);
    mem_free(classes);
}

/* A restriction class's list, or NULL: name is not a class. */
static const ARGV *
check_class(const char *name)
{
    return htable_find(smtpd_conf.classes, name);
}

/* ---- the relay safety net ------------------------------------------------- */

#define RELAY_SCAN_NONE    0    /* nothing that stops relaying */
#define RELAY_SCAN_STOPS   1    /* a restriction that can stop it */
#define RELAY_SCAN_PERMIT  2    /* an unconditional permit comes first */

static const char *check_relay_stoppers[] = {
    "reject_unauth_destination", "defer_unauth_destination", "reject", "defer",
    "defer_if_permit", NULL,
};

/*
 * Scan a restriction list, in order, for a restriction that can refuse
 * mail for a foreign destination. Nothing after an unconditional
 * "permit" counts, nor the restriction after warn_if_reject (it only
 * logs); the arguments of check_*_access, reject_rbl_client, ... are
 * skipped; restriction classes are followed (bounded depth).
 */
static int
check_relay_scan(const ARGV *list, int depth)
{
    const ARGV *sub;
    int     warn_only = 0;

    for (size_t i = 0; i < list->argc; i++) {
        const char *name = list->argv[i];
        int     st = RELAY_SCAN_NONE;

        if (strcasecmp(name, "warn_if_reject") == 0) {
            warn_only = 1;
            continue;
        }
        if (strcasecmp(name, "permit") == 0)
            return RELAY_SCAN_PERMIT;
        if (check_takes_arg(name) || strcasecmp(name, "check_policy_service") == 0) {
            i++;
        } else if (!warn_only) {
            for (const char **cpp = check_relay_stoppers; *cpp; cpp++)
                if (strcasecmp(name, *cpp) == 0)
                    return RELAY_SCAN_STOPS;
            if (depth < CHECK_MAX_DEPTH && (sub = check_class(name)) != NULL)
                st = check_relay_scan(sub, depth + 1);
            if (st != RELAY_SCAN_NONE)
                return st;
        }
        warn_only = 0;
    }
    return RELAY_SCAN_NONE;
}

/*
 * smtpd_check_relay_safety - refuse to run as an open relay: unless
 * smtpd_relay_restrictions or smtpd_recipient_restrictions has a working
 * restriction that can refuse relaying, log a fatal error naming both
 * parameters and exit (master then throttles the service), as Postfix
 * does. Called at start-up, before any client is served.
 */
void
smtpd_check_relay_safety(void)
{
    if (check_relay_scan(smtpd_conf.relay_restrictions, 0) == RELAY_SCAN_STOPS
        || check_relay_scan(smtpd_conf.recipient_restrictions, 0) == RELAY_SCAN_STOPS)
        return;
    msg_fatal("in parameter smtpd_relay_restrictions or smtpd_recipient_restrictions, "
              "specify at least one working instance of: reject_unauth_destination, "
              "defer_unauth_destination, reject, defer or defer_if_permit");
}

static int
check_access_cmd(CHECK_CTX *ctx, const char *name, const char *table, int depth)
{
    SMTPD_STATE *state = ctx->state;
    CHECK_TABLE *maps = check_maps(table);
    const char *save_name = ctx->reply_name, *save_class = ctx->reply_class;
    int     st = CHECK_DUNNO;

    if (strcasecmp(name, "check_client_access") == 0) {
        ctx->reply_name = state->namaddr;
        ctx->reply_class = "Client host";
        st = check_client_access(ctx, maps, depth);
    } else if (strcasecmp(name, "check_helo_access") == 0) {
        if (state->helo_name) {
            ctx->reply_name = state->helo_name;
            ctx->reply_class = "Helo command";
            st = check_address_access(ctx, maps, state->helo_name, depth);
        }
    } else if (strcasecmp(name, "check_sender_access") == 0) {
        if (state->sender) {
            ctx->reply_name = state->sender;
            ctx->reply_class = "Sender address";
            st = check_address_access(ctx, maps, *state->sender ? state->sender
                                      : var_smtpd_null_key, depth);
        }
    } else if (strcasecmp(name, "check_ccert_access") == 0) {
        st = check_ccert_access(ctx, maps->all, depth);
    } else if (strcasecmp(name, "check_recipient_access") == 0) {
        if (ctx->rcpt) {
            ctx->reply_name = ctx->rcpt;
            ctx->reply_class = "Recipient address";
            st = check_address_access(ctx, maps, ctx->rcpt, depth);
        }
    } else {
        st = check_config_error(ctx, name);
    }
    ctx->reply_name = save_name;
    ctx->reply_class = save_class;
    return st;
}

/* ---- the restriction list ------------------------------------------------- */

static int
check_pipelining(CHECK_CTX *ctx)
{
    SMTPD_STATE *state = ctx->state;

    if (stream_buffered(state->client) == 0)
        return CHECK_DUNNO;
    if (strcmp(state->where, "DATA") != 0 && strcmp(state->protocol, "ESMTP") == 0)
        return CHECK_DUNNO;
    return check_reject(ctx, CHECK_UNAUTH_PIPELINING_CODE, "5.5.0",
                        "<%s>: %s rejected: Improper use of SMTP command pipelining",
                        ctx->reply_name, ctx->reply_class);
}

/* permit_mynetworks; Postfix's notice when only the level-0 default
 * mynetworks_style (subnet) lets the client in. */
static int
check_mynetworks(CHECK_CTX *ctx)
{
    const SMTPD_CONF *c = &smtpd_conf;
    SMTPD_STATE *state = ctx->state;
    int     st = netmatch_match(c->mynetworks, state->name, state->addr);

    if (st < 0)
        return check_lookup_failed(ctx, state->namaddr);
    if (st == 0)
        return CHECK_DUNNO;
    if (c->compat_mynetworks && netmatch_match(c->compat_mynetworks, state->name, state->addr) == 0)
        msg_info("using backwards-compatible default setting mynetworks_style=%s "
                 "to permit request from client \"%s\"", c->mynetworks_style, state->namaddr);
    return CHECK_OK;
}

/*
 * The reject_*_sender_login_mismatch restrictions (smtpd_sender_login_maps:
 * sender address -> the login names that own it, separated by commas or
 * white space; looked up as canonical(5) keys). auth: check an
 * authenticated client (its login must own the sender; with known_only
 * only when the address has owners); unauth: an unauthenticated client
 * may not use an address that has an owner. Postfix's 553 replies.
 */
static int
check_sender_login(CHECK_CTX *ctx, int auth, int unauth, int known_only)
{
    SMTPD_STATE *state = ctx->state;
    ARGV   *owners = argv_alloc();
    int     st, owned = 0;

    if (smtpd_conf.sender_login_maps == NULL || state->sender == NULL || !*state->sender
        || (state->sasl_username ? !auth : !unauth)) {
        argv_free(owners);
        return CHECK_DUNNO;
    }
    st = addr_map_find(smtpd_conf.sender_login_maps, state->sender, 0, owners);
    for (size_t i = 0; st == MAP_FOUND && state->sasl_username && i < owners->argc; i++)
        owned |= strcasecmp(owners->argv[i], state->sasl_username) == 0;
    argv_free(owners);
    if (st == MAP_FAIL)
        return check_lookup_failed(ctx, state->sender);
    if (state->sasl_username == NULL)
        return st == MAP_FOUND ? check_reject(ctx, 553, "5.7.1", "<%s>: Sender address "
                                              "rejected: not logged in", state->sender)
            : CHECK_DUNNO;
    if (owned || (st != MAP_FOUND && known_only))
        return CHECK_DUNNO;
    return check_reject(ctx, 553, "5.7.1", "<%s>: Sender address rejected: not owned by user %s",
                        state->sender, state->sasl_username);
}

/* One restriction without argument. */
static int
check_simple(CHECK_CTX *ctx, const char *name, int depth)
{
    const ARGV *class;

    if (strcasecmp(name, "permit") == 0)
        return CHECK_OK;
    if (strcasecmp(name, "reject") == 0)
        return check_access_denied(ctx, var_reject_code, NULL);
    if (strcasecmp(name, "defer") == 0)
        return check_access_denied(ctx, var_defer_code, NULL);
    if (strcasecmp(name, "defer_if_permit") == 0)
        return check_defer_if(ctx, ctx->defer_if_permit, "defer_if_permit requested", NULL);
    if (strcasecmp(name, "defer_if_reject") == 0)
        return check_defer_if(ctx, ctx->defer_if_reject, "defer_if_reject requested", NULL);
    if (strcasecmp(name, "permit_mynetworks") == 0)
        return check_mynetworks(ctx);
    if (strcasecmp(name, "permit_sasl_authenticated") == 0)
        return ctx->state->sasl_username ? CHECK_OK : CHECK_DUNNO;
    if (strcasecmp(name, "permit_tls_clientcerts") == 0)
        return check_tls_clientcerts(ctx, 0);
    if (strcasecmp(name, "permit_tls_all_clientcerts") == 0)
        return check_tls_clientcerts(ctx, 1);
    if (strcasecmp(name, "reject_unauth_destination") == 0)
        return check_unauth_destination(ctx, var_relay_code, "5.7.1");
    if (strcasecmp(name, "defer_unauth_destination") == 0)
        return check_unauth_destination(ctx, var_relay_code - 100, "4.7.1");
    if (strcasecmp(name, "permit_auth_destination") == 0) {
        if (ctx->rcpt == NULL)
            return CHECK_DUNNO;
        int     st = check_auth_destination(ctx);
        return st > 0 ? CHECK_OK : st < 0 ? check_lookup_failed(ctx, ctx->rcpt) : CHECK_DUNNO;
    }
    if (strcasecmp(name, "reject_unlisted_recipient") == 0
        || strcasecmp(name, "check_recipient_maps") == 0)
        return check_rcpt_table(ctx);
    if (strcasecmp(name, "reject_unlisted_sender") == 0)
        return check_addr_table(ctx, ctx->state->sender, "Sender address");
    if (strcasecmp(name, "reject_non_fqdn_recipient") == 0)
        return check_non_fqdn(ctx, ctx->rcpt, "Recipient address");
    if (strcasecmp(name, "reject_non_fqdn_sender") == 0)
        return check_non_fqdn(ctx, ctx->state->sender, "Sender address");
    if (strcasecmp(name, "reject_invalid_helo_hostname") == 0)
        return check_helo_syntax(ctx, 0);
    if (strcasecmp(name, "reject_non_fqdn_helo_hostname") == 0)
        return check_helo_syntax(ctx, 1);
    if (strcasecmp(name, "reject_unknown_sender_domain") == 0)
        return check_unknown_domain(ctx, ctx->state->sender, "Sender address", 1);
    if (strcasecmp(name, "reject_unknown_recipient_domain") == 0)
        return check_unknown_domain(ctx, ctx->rcpt, "Recipient address", 0);
    if (strcasecmp(name, "reject_unverified_recipient") == 0)
        return check_unverified(ctx, ctx->rcpt, 0);
    if (strcasecmp(name, "reject_unverified_sender") == 0)
        return check_unverified(ctx, ctx->state->sender, 1);
    if (strcasecmp(name, "reject_unknown_client_hostname") == 0
        || strcasecmp(name, "reject_unknown_client") == 0)
        return check_unknown_client(ctx, 0);
    if (strcasecmp(name, "reject_unknown_reverse_client_hostname") == 0)
        return check_unknown_client(ctx, 1);
    if (strcasecmp(name, "reject_unauth_pipelining") == 0)
        return check_pipelining(ctx);
    if (strcasecmp(name, "reject_sender_login_mismatch") == 0)
        return check_sender_login(ctx, 1, 1, 0);
    if (strcasecmp(name, "reject_authenticated_sender_login_mismatch") == 0)
        return check_sender_login(ctx, 1, 0, 0);
    if (strcasecmp(name, "reject_known_sender_login_mismatch") == 0)
        return check_sender_login(ctx, 1, 1, 1);
    if (strcasecmp(name, "reject_unauthenticated_sender_login_mismatch") == 0)
        return check_sender_login(ctx, 0, 1, 0);
    if (depth < CHECK_MAX_DEPTH && (class = check_class(name)) != NULL)
        return check_list(ctx, class->argv, class->argc, depth + 1);
    return check_config_error(ctx, name);
}

static int
check_takes_arg(const char *name)
{
    return (strncasecmp(name, "check_", 6) == 0 && strlen(name) > 7
            && strcasecmp(name + strlen(name) - 7, "_access") == 0)
        || strcasecmp(name, "reject_rbl_client") == 0
        || strncasecmp(name, "reject_rhsbl_", 13) == 0;
}

/*
 * A type:table named alone in a list: the check_*_access of the stage the
 * list (or the restriction class) is used in, as Postfix; the DATA and
 * end-of-data stages have none (a configuration error, Postfix's warning).
 */
static int
check_bare_table(CHECK_CTX *ctx, const char *table, int depth)
{
    if (ctx->stage_acl == NULL) {
        msg_warn("specify one of (check_client_access, check_reverse_client_hostname_access, "
                 "check_helo_access, check_sender_access, check_recipient_access, "
                 "check_etrn_access) before %s restriction \"%s\"", ctx->reply_class, table);
        vstring_strcpy(ctx->reply, "451 4.3.5 Server configuration error");
        return CHECK_REJECT;
    }
    return check_access_cmd(ctx, ctx->stage_acl, table, depth);
}

static int
check_list(CHECK_CTX *ctx, char **items, size_t count, int depth)
{
    for (size_t i = 0; i < count; i++) {
        const char *name = items[i];
        int     st;

        if (strcasecmp(name, "warn_if_reject") == 0) {
            ctx->warn_next = 1;
            continue;
        }
        if (strcasecmp(name, "check_policy_service") == 0) {
            VSTRING *action;

            if (i + 1 >= count)
                return check_config_error(ctx, name);
            /* on failure the action is smtpd_policy_service_default_action */
            action = vstring_alloc(SMTPD_POLICY_LINE_MAX);
            (void) smtpd_policy_query(ctx->state, items[++i], action);
            st = check_access_value(ctx, STR(action), depth);
            vstring_free(action);
        } else if (check_takes_arg(name)) {
            if (i + 1 >= count)
                return check_config_error(ctx, name);
            if (strncasecmp(name, "check_", 6) == 0)
                st = check_access_cmd(ctx, name, items[++i], depth);
            else
                st = check_rbl(ctx, name, items[++i]);
        } else if (strchr(name, ':')) {
            st = check_bare_table(ctx, name, depth);
        } else {
            st = check_simple(ctx, name, depth);
        }
        ctx->warn_next = 0;
        if (st != CHECK_DUNNO)
            return st;
    }
    return CHECK_DUNNO;
}

/* ---- stages ---------------------------------------------------------------- */

static void
check_ctx_init(CHECK_CTX *ctx, SMTPD_STATE *state, const char *rcpt, VSTRING *reply)
{
    memset(ctx, 0, sizeof(*ctx));
    ctx->state = state;
    ctx->rcpt = rcpt;
    ctx->reply = reply;
    ctx->defer_if_permit = vstring_alloc(1024);
    ctx->defer_if_reject = vstring_alloc(1024);
    vstring_reset(reply);
}

/* The access check a bare type:table stands for, by stage (reply class). */
static const char *
check_stage_acl(const char *class)
{
    static const char *const map[][2] = {
        {"Client host", "check_client_access"},
        {"Helo command", "check_helo_access"},
        {"Sender address", "check_sender_access"},
        {"Recipient address", "check_recipient_access"},
    };

    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(class, map[i][0]) == 0)
            return map[i][1];
    return NULL;
}

static int
check_run(CHECK_CTX *ctx, const ARGV *list, const char *name, const char *class)
{
    ctx->reply_name = name;
    ctx->reply_class = class;
    ctx->stage_acl = check_stage_acl(class);
    return check_list(ctx, list->argv, list->argc, 0);
}

/* The end of a stage: defer_if_permit applies unless rejected; log. */
static int
check_done(CHECK_CTX *ctx, int st)
{
    if (st != CHECK_REJECT && LEN(ctx->defer_if_permit) > 0) {
        vstring_strcpy(ctx->reply, STR(ctx->defer_if_permit));
        st = CHECK_REJECT;
    }
    if (ctx->resolve_status != 0)
        resolve_reply_free(&ctx->resolved);
    vstring_free(ctx->defer_if_permit);
    vstring_free(ctx->defer_if_reject);
    if (st == CHECK_REJECT) {
        if (!ctx->no_log)
            smtpd_chat_log_reject(ctx->state, STR(ctx->reply));
        return -1;
    }
    return 0;
}

/* smtpd_sender_restrictions, then smtpd_reject_unlisted_sender. */
static int
check_sender_stage(CHECK_CTX *ctx)
{
    SMTPD_STATE *state = ctx->state;
    int     st = check_run(ctx, smtpd_conf.sender_restrictions,
                           state->sender ? state->sender : "", "Sender address");

    if (st != CHECK_REJECT && var_smtpd_rej_unl_from)
        st = check_addr_table(ctx, state->sender, "Sender address");
    return st;
}

static const char *
check_helo_label(SMTPD_STATE *state)
{
    return state->helo_name ? state->helo_name : "";
}

/*
 * smtpd_relay_restrictions and smtpd_recipient_restrictions, in the order
 * smtpd_relay_before_recipient_restrictions gives (no below level 3.6).
 * With the level-0 empty smtpd_relay_restrictions, Postfix's stand-in list
 * runs for its notice only. *first_rejected: the first list rejected.
 */
static int
check_rcpt_lists(CHECK_CTX *ctx, const char *rcpt, int *first_rejected)
{
    const SMTPD_CONF *c = &smtpd_conf;
    const ARGV *relay = c->compat_relay_restrictions ? c->compat_relay_restrictions
        : c->relay_restrictions;
    const ARGV *lists[2] = {var_relay_before_rcpt ? relay : c->recipient_restrictions,
                            var_relay_before_rcpt ? c->recipient_restrictions : relay};
    int     st = CHECK_DUNNO;

    *first_rejected = 0;
    for (int n = 0; n < 2 && st != CHECK_REJECT; n++) {
        st = check_run(ctx, lists[n], rcpt, "Recipient address");
        if (lists[n] == c->compat_relay_restrictions && st != CHECK_REJECT) {
            if (st == CHECK_DUNNO)
                msg_info("using backwards-compatible default setting \"smtpd_relay_restrictions "
                         "= (empty)\" to avoid \"Relay access denied\" error for recipient "
                         "\"%s\" from client \"%s\"", rcpt, ctx->state->namaddr);
            st = CHECK_DUNNO;
        }
        *first_rejected = (n == 0 && st == CHECK_REJECT);
    }
    return st;
}

/* Postfix's notice: a non-ASCII address taken with the level-0 default
 * smtputf8_enable = no. */
static void
check_compat_utf8(SMTPD_STATE *state, const char *addr, const char *what)
{
    const char *cp = addr;
    char   *copy;

    while (cp && *cp && !(*cp & 0x80))
        cp++;
    if (!smtpd_conf.compat_smtputf8 || cp == NULL || *cp == 0)
        return;
    copy = printable_fix(mem_strdup(addr), 0);
    msg_info("using backwards-compatible default setting smtputf8_enable=no "
             "to accept non-ASCII %s address \"%s\" from %s", what, copy, state->namaddr);
    mem_free(copy);
}

int
smtpd_check_rcpt(SMTPD_STATE *state, const char *rcpt, VSTRING *reply)
{
    const SMTPD_CONF *c = &smtpd_conf;
    CHECK_CTX ctx;
    int     st = CHECK_DUNNO, ret, first_rejected;

    check_compat_utf8(state, rcpt, "recipient");
    check_ctx_init(&ctx, state, rcpt, reply);
    if (var_smtpd_delay_reject
        && ((st = check_run(&ctx, c->client_restrictions, state->namaddr, "Client host")) == CHECK_REJECT
            || (st = check_run(&ctx, c->helo_restrictions, check_helo_label(state),
                               "Helo command")) == CHECK_REJECT
            || (st = check_sender_stage(&ctx)) == CHECK_REJECT))
        return check_done(&ctx, st);
    st = check_rcpt_lists(&ctx, rcpt, &first_rejected);
    if (st != CHECK_REJECT && var_smtpd_rej_unl_rcpt)
        st = check_rcpt_table(&ctx);
    ret = check_done(&ctx, st);
    if (first_rejected && c->compat_relay_before)
        msg_info("using backwards-compatible default setting "
                 "smtpd_relay_before_recipient_restrictions=no to reject recipient \"%s\" "
                 "from client \"%s\"", rcpt, state->namaddr);
    return ret;
}

int
smtpd_check_vrfy(SMTPD_STATE *state, const char *rcpt, VSTRING *reply)
{
    CHECK_CTX ctx;

    check_ctx_init(&ctx, state, rcpt, reply);
    return check_done(&ctx, var_smtpd_rej_unl_rcpt ?
                      check_rcpt_table(&ctx) : CHECK_DUNNO);
}

int
smtpd_check_connect(SMTPD_STATE *state, VSTRING *reply)
{
    CHECK_CTX ctx;
    int     st = CHECK_DUNNO;

    mem_free(state->check.denied);
    state->check.denied = NULL;
    smtpd_check_reset(state);
    check_ctx_init(&ctx, state, NULL, reply);
    if (!var_smtpd_delay_reject)
        st = check_run(&ctx, smtpd_conf.client_restrictions, state->namaddr, "Client host");
    if (check_done(&ctx, st) != 0) {
        state->check.denied = mem_strdup(STR(reply));
        return -1;
    }
    return 0;
}

int
smtpd_check_denied(SMTPD_STATE *state)
{
    return state->check.denied != NULL;
}

int
smtpd_check_helo_stage(SMTPD_STATE *state, VSTRING *reply)
{
    CHECK_CTX ctx;
    int     st = CHECK_DUNNO;

    check_ctx_init(&ctx, state, NULL, reply);
    if (!var_smtpd_delay_reject)
        st = check_run(&ctx, smtpd_conf.helo_restrictions, check_helo_label(state),
                       "Helo command");
    return check_done(&ctx, st);
}

/* ETRN: smtpd_etrn_restrictions, with the domain as the reply's name. */
int
smtpd_check_etrn_stage(SMTPD_STATE *state, const char *domain, VSTRING *reply)
{
    CHECK_CTX ctx;

    check_ctx_init(&ctx, state, NULL, reply);
    return check_done(&ctx, check_run(&ctx, smtpd_conf.etrn_restrictions, domain,
                                      "Etrn command"));
}

int
smtpd_check_mail_stage(SMTPD_STATE *state, VSTRING *reply)
{
    CHECK_CTX ctx;
    int     st = CHECK_DUNNO;

    if (var_helo_required && state->helo_name == NULL) {
        vstring_strcpy(reply, "503 5.5.1 Error: send HELO/EHLO first");
        return -1;
    }
    check_compat_utf8(state, state->sender, "sender");
    check_ctx_init(&ctx, state, NULL, reply);
    if (!var_smtpd_delay_reject)
        st = check_sender_stage(&ctx);
    return check_done(&ctx, st);
}

/* DATA and end-of-data: the recipient (for checks and to=<>) only when
 * there is one. */
static int
check_message_stage(SMTPD_STATE *state, VSTRING *reply, const ARGV *list, const char *name,
                    const char *class, int no_log)
{
    CHECK_CTX ctx;
    char   *rcpt = state->rcpt_count == 1 ? state->recipient : NULL;
    int     st;

    check_ctx_init(&ctx, state, rcpt, reply);
    ctx.no_log = no_log;
    state->cur_rcpt = rcpt;
    st = check_done(&ctx, check_run(&ctx, list, name, class));
    state->cur_rcpt = NULL;
    return st;
}

int
smtpd_check_data_stage(SMTPD_STATE *state, VSTRING *reply)
{
    return check_message_stage(state, reply, smtpd_conf.data_restrictions, "DATA",
                               "Data command", 0);
}

int
smtpd_check_eod_stage(SMTPD_STATE *state, VSTRING *reply)
{
    if (check_message_stage(state, reply, smtpd_conf.eod_restrictions, "END-OF-MESSAGE",
                            "End-of-data", 1) != 0)
        return -1;
    return (state->check.flags & CLEANUP_FLAG_DISCARD) ? 1 : 0;
}

void
smtpd_check_reset(SMTPD_STATE *state)
{
    SMTPD_CHECK_RESULT *r = &state->check;

    r->flags = 0;
    smtpd_policy_reset(state);
    mem_free(r->filter);
    mem_free(r->redirect);
    r->filter = r->redirect = NULL;
    argv_free(r->prepend);
    r->prepend = NULL;
}

/* The end of the session: smtpd_check_reset() and the session's results. */
void
smtpd_check_free(SMTPD_STATE *state)
{
    smtpd_check_reset(state);
    mem_free(state->check.denied);
    state->check.denied = NULL;
}

void
smtpd_check_envelope(SMTPD_STATE *state, STREAM *cleanup)
{
    const SMTPD_CHECK_RESULT *r = &state->check;

    if (r->flags)
        rec_printf(cleanup, REC_TYPE_FLGS, "%d", r->flags);
    if (r->filter)
        rec_puts(cleanup, REC_TYPE_CONTENT_FILTER, r->filter);
    if (r->redirect)
        rec_puts(cleanup, REC_TYPE_RDR, r->redirect);
}

void
smtpd_check_prepend(SMTPD_STATE *state, ARGV *lines)
{
    const ARGV *prepend = state->check.prepend;

    for (size_t i = 0; prepend && i < prepend->argc; i++)
        argv_add(lines, prepend->argv[i]);
}
