/*
 * cleanup_map.c - address mapping in cleanup: canonical_maps,
 * sender_canonical_maps, recipient_canonical_maps, masquerade_domains and
 * virtual_alias_maps, for envelope and header addresses.
 *
 * Interface (cleanup.h): cleanup_map_sender, cleanup_map_rcpt,
 * cleanup_map_header.
 *
 * Order, as Postfix: an address is first qualified by the rewrite rule
 * (done by the caller for envelope addresses), then
 *   sender:    sender_canonical_maps, canonical_maps, masquerading
 *   recipient: recipient_canonical_maps, canonical_maps, masquerading,
 *              then virtual alias expansion (envelope only)
 * each step only for the classes listed in canonical_classes,
 * sender_canonical_classes, recipient_canonical_classes and
 * masquerade_classes (envelope_sender, envelope_recipient, header_sender,
 * header_recipient). Mapping happens only when the client allowed it
 * (CLEANUP_FLAG_MAP_OK; receive_override_options=no_address_mappings
 * clears it). Lookups: addr_map.h.
 *
 * Canonical mapping repeats while the result changes (at most 10 times).
 * Virtual alias expansion is one-to-many and recursive: each result is
 * qualified with the "local" rule and looked up again, except a result
 * equal to the address it came from (an address that maps to itself
 * stays); nesting deeper than virtual_alias_recursion_limit or more than
 * virtual_alias_expansion_limit addresses defer the message ("4.6.0 Alias
 * expansion error"). A table that fails defers it too (the client sees
 * the queue-file-write-error reply, as Postfix).
 *
 * Header addresses are rewritten only when the message may have its
 * headers rewritten (rewrite_context local, or remote with
 * remote_header_rewrite_domain set), with that context's rule.
 *
 * SECURITY: addresses are untrusted; every result is bounded
 * (ADDRESS_MAX via addr_map, the expansion by the limits above).
 *
 * DIAGNOSTICS: none fatal; a table lookup problem, unreasonable nesting or
 * expansion size, or a failed rewrite is a warning and a temporary failure
 * ("message not accepted, try again later"); an unknown address class or a
 * multi-valued canonical entry is a warning and is ignored.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr_map.h"
#include "address.h"
#include "cleanup.h"
#include "header_opts.h"
#include "mail_proto.h"
#include "maps.h"
#include "msg.h"

#define CLEANUP_CANON_MAX_RECURSION 10

/* Address classes. */
#define CM_ENV_FROM   (1 << 0)
#define CM_ENV_RCPT   (1 << 1)
#define CM_HDR_FROM   (1 << 2)
#define CM_HDR_RCPT   (1 << 3)

static struct {
    int     loaded;
    MAPS   *send_canon, *rcpt_canon, *canon, *virt;
    int     send_canon_flags, rcpt_canon_flags, canon_flags, masq_flags;
    ARGV   *masq_domains, *masq_except;
    int     prop_canon, prop_virt;
    long    recur_limit, exp_limit;
} cm;

static int
cleanup_map_classes(const char *param, const char *value)
{
    static const struct {
        const char *name;
        int     flag;
    } names[] = {
        {"envelope_sender", CM_ENV_FROM}, {"envelope_recipient", CM_ENV_RCPT},
        {"header_sender", CM_HDR_FROM}, {"header_recipient", CM_HDR_RCPT},
    };
    ARGV   *list = argv_split_list(value);
    int     flags = 0;

    for (size_t i = 0; i < list->argc; i++) {
        size_t  j;

        for (j = 0; j < sizeof(names) / sizeof(names[0]); j++)
            if (strcasecmp(list->argv[i], names[j].name) == 0)
                break;
        if (j < sizeof(names) / sizeof(names[0]))
            flags |= names[j].flag;
        else
            msg_warn("%s: unknown address class: %s", param, list->argv[i]);
    }
    argv_free(list);
    return flags;
}

static MAPS *
cleanup_map_open(const char *param, const char *spec)
{
    return *spec ? maps_create(param, spec, 0) : NULL;
}

void
cleanup_map_load(void)
{
    if (cm.loaded)
        return;
    cm.loaded = 1;
    cm.send_canon = cleanup_map_open("sender_canonical_maps", var_send_canon_maps);
    cm.rcpt_canon = cleanup_map_open("recipient_canonical_maps", var_rcpt_canon_maps);
    cm.canon = cleanup_map_open("canonical_maps", var_canonical_maps);
    cm.virt = cleanup_map_open("virtual_alias_maps", var_virt_alias_maps);
    cm.send_canon_flags = cleanup_map_classes("sender_canonical_classes",
                                              var_send_canon_classes);
    cm.rcpt_canon_flags = cleanup_map_classes("recipient_canonical_classes",
                                              var_rcpt_canon_classes);
    cm.canon_flags = cleanup_map_classes("canonical_classes", var_canon_classes);
    cm.masq_flags = cleanup_map_classes("masquerade_classes", var_masq_classes);
    cm.masq_domains = argv_split_list(var_masq_domains);
    cm.masq_except = argv_split_list(var_masq_exceptions);
    cm.prop_canon = addr_map_in_class(var_prop_extension, "canonical");
    cm.prop_virt = addr_map_in_class(var_prop_extension, "virtual");
    cm.recur_limit = var_virt_recur_limit;
    cm.exp_limit = var_virt_expan_limit;
}

static void
cleanup_map_fail(CLEANUP_STATE *state, MAPS *maps, const char *addr)
{
    msg_warn("%s: %s map lookup problem for %s -- message not accepted, try again later",
             state->queue_id, maps_title(maps), addr);
    state->errs |= CLEANUP_STAT_WRITE;
}

/* One-to-one mapping of addr in place; 0, or -1 on a table failure. */
static int
cleanup_map11(CLEANUP_STATE *state, MAPS *maps, int propagate, VSTRING *addr)
{
    ARGV   *list = argv_alloc();
    VSTRING *next = vstring_alloc(ADDRESS_MAX);
    int     ret = 0;
    int     count;

    for (count = 0; count < CLEANUP_CANON_MAX_RECURSION; count++) {
        int     found;

        argv_truncate(list, 0);
        found = addr_map_find(maps, STR(addr), propagate, list);
        if (found == MAP_FAIL) {
            cleanup_map_fail(state, maps, STR(addr));
            ret = -1;
            break;
        }
        if (found != MAP_FOUND || list->argc == 0)
            break;
        if (list->argc > 1)
            msg_warn("%s: multi-valued %s entry for %s", state->queue_id,
                     maps_title(maps), STR(addr));
        if (cleanup_rewrite_addr(state, "local", list->argv[0], next) < 0) {
            state->errs |= CLEANUP_STAT_DEFER;
            ret = -1;
            break;
        }
        if (strcasecmp(STR(next), STR(addr)) == 0)
            break;
        vstring_strcpy(addr, STR(next));
    }
    if (count == CLEANUP_CANON_MAX_RECURSION)
        msg_warn("%s: unreasonable %s map nesting for %s", state->queue_id,
                 maps_title(maps), STR(addr));
    argv_free(list);
    vstring_free(next);
    return ret;
}

/* Canonical mapping and masquerading of addr for one class; 0 or -1. */
static int
cleanup_map_addr(CLEANUP_STATE *state, VSTRING *addr, int klass)
{
    int     is_from = (klass & (CM_ENV_FROM | CM_HDR_FROM)) != 0;
    MAPS   *own = is_from ? cm.send_canon : cm.rcpt_canon;
    int     own_flags = is_from ? cm.send_canon_flags : cm.rcpt_canon_flags;

    if (LEN(addr) == 0)
        return 0;
    if (own && (own_flags & klass) && cleanup_map11(state, own, cm.prop_canon, addr) < 0)
        return -1;
    if (cm.canon && (cm.canon_flags & klass)
        && cleanup_map11(state, cm.canon, cm.prop_canon, addr) < 0)
        return -1;
    if (cm.masq_domains->argc > 0 && (cm.masq_flags & klass)) {
        VSTRING *out = vstring_alloc(ADDRESS_MAX);

        if (addr_masquerade(STR(addr), cm.masq_domains, cm.masq_except, out))
            vstring_strcpy(addr, STR(out));
        vstring_free(out);
    }
    return 0;
}

int
cleanup_map_sender(CLEANUP_STATE *state)
{
    if (!(state->flags & CLEANUP_FLAG_MAP_OK))
        return 0;
    cleanup_map_load();
    return cleanup_map_addr(state, state->addr, CM_ENV_FROM);
}

/* Add addr to list unless it is there already. */
static void
cleanup_map_add_unique(ARGV *list, const char *addr)
{
    for (size_t i = 0; i < list->argc; i++)
        if (strcasecmp(list->argv[i], addr) == 0)
            return;
    argv_add(list, addr);
}

/* Expand one address of the work list; 0 or -1 (errs set). */
static int
cleanup_map_expand(CLEANUP_STATE *state, const char *addr, long depth, ARGV *work,
                   ARGV *depths, ARGV *out)
{
    ARGV   *list = argv_alloc();
    VSTRING *next = vstring_alloc(ADDRESS_MAX);
    char    num[32];
    int     ret = 0;
    int     found = addr_map_find(cm.virt, addr, cm.prop_virt, list);

    if (found == MAP_FAIL) {
        cleanup_map_fail(state, cm.virt, addr);
        ret = -1;
    } else if (found != MAP_FOUND || list->argc == 0) {
        cleanup_map_add_unique(out, addr);
    } else if (depth >= cm.recur_limit) {
        msg_warn("%s: unreasonable %s map nesting for %s -- message not accepted, "
                 "try again later", state->queue_id, maps_title(cm.virt), addr);
        ret = -1;
    } else {
        for (size_t i = 0; i < list->argc && ret == 0; i++) {
            if (cleanup_rewrite_addr(state, "local", list->argv[i], next) < 0) {
                state->errs |= CLEANUP_STAT_DEFER;
                ret = -1;
            } else if (strcasecmp(STR(next), addr) == 0) {
                cleanup_map_add_unique(out, STR(next));      /* maps to itself */
            } else {
                argv_add(work, STR(next));
                snprintf(num, sizeof(num), "%ld", depth + 1);
                argv_add(depths, num);
            }
        }
    }
    if (ret == 0 && (long) (out->argc + work->argc) > cm.exp_limit) {
        msg_warn("%s: unreasonable %s map expansion size for %s -- message not accepted, "
                 "try again later", state->queue_id, maps_title(cm.virt), addr);
        ret = -1;
    }
    argv_free(list);
    vstring_free(next);
    return ret;
}

/* Virtual alias expansion of state->addr into state->rcpt_list. */
static int
cleanup_map_virtual(CLEANUP_STATE *state)
{
    ARGV   *work = argv_alloc();
    ARGV   *depths = argv_alloc();
    int     ret = 0;

    argv_add(work, STR(state->addr));
    argv_add(depths, "0");
    for (size_t i = 0; i < work->argc && ret == 0; i++)
        ret = cleanup_map_expand(state, work->argv[i], atol(depths->argv[i]), work,
                                 depths, state->rcpt_list);
    if (ret < 0 && !(state->errs & CLEANUP_STAT_WRITE)) {
        state->errs |= CLEANUP_STAT_DEFER;
        vstring_strcpy(state->reason, "4.6.0 Alias expansion error");
    }
    argv_free(work);
    argv_free(depths);
    return ret;
}

int
cleanup_map_rcpt(CLEANUP_STATE *state)
{
    argv_truncate(state->rcpt_list, 0);
    if (!(state->flags & CLEANUP_FLAG_MAP_OK)) {
        argv_add(state->rcpt_list, STR(state->addr));
        return 0;
    }
    cleanup_map_load();
    if (cleanup_map_addr(state, state->addr, CM_ENV_RCPT) < 0)
        return -1;
    if (cm.virt == NULL) {
        argv_add(state->rcpt_list, STR(state->addr));
        return 0;
    }
    return cleanup_map_virtual(state);
}

/* ---- header addresses ------------------------------------------------------ */

typedef struct {
    CLEANUP_STATE *state;
    int     klass;
} CLEANUP_HDR_CTX;

static int
cleanup_map_header_addr(void *context, const char *addr, VSTRING *out)
{
    CLEANUP_HDR_CTX *ctx = context;
    CLEANUP_STATE *state = ctx->state;

    if (cleanup_rewrite_addr(state, state->hdr_context, addr, out) < 0) {
        msg_warn("%s: address rewriting failed for <%.100s>", state->queue_id, addr);
        return 0;
    }
    if ((state->flags & CLEANUP_FLAG_MAP_OK) && cleanup_map_addr(state, out, ctx->klass) < 0)
        return 0;
    return 1;
}

void
cleanup_map_header(CLEANUP_STATE *state, int hdr_flags)
{
    CLEANUP_HDR_CTX ctx;

    if (state->hdr_context == NULL || !(hdr_flags & (HDR_OPT_SENDER | HDR_OPT_RECIP)))
        return;
    cleanup_map_load();
    ctx.state = state;
    ctx.klass = (hdr_flags & HDR_OPT_SENDER) ? CM_HDR_FROM : CM_HDR_RCPT;
    (void) header_addr_rewrite(state->header, cleanup_map_header_addr, &ctx);
}
