/*
 * cleanup_envelope.c - cleanup state and the envelope records.
 *
 * Interface (cleanup.h): cleanup_state_alloc/free, cleanup_start,
 * cleanup_record (dispatch by section), cleanup_record_max, cleanup_finish.
 * cleanup_rewrite_addr: state->rewrite (rewrite_clnt()) behind a small
 * per-message cache kept in the state.
 *
 * Envelope records from the client, in order (mail_proto.h): TIME, [FULL],
 * ATTR..., FROM, per recipient [DSN_ORCPT] [DSN_NOTIFY] [ORCP] RCPT,
 * [DSN_ENVID] [DSN_RET], then MESG. The sender and recipients are
 * rewritten with the "local" rule, then mapped (canonical, masquerading,
 * virtual aliases: cleanup_map.c); a recipient whose address changed gets
 * an ORCP record with the original (unless the client sent one), one
 * RCPT per virtual alias expansion result.
 * Duplicate recipients (same address and original) are dropped, up to
 * duplicate_filter_limit remembered addresses.
 *
 * SECURITY: the client is smtpd or pickup, whose data come from the
 * network or from local users. Records arrive bounded (record size by
 * cleanup_record_max), a record type that is not allowed where it
 * arrives is a protocol error, ATTR records must be "name=value" with a
 * short name, and the numbers of ATTR records and recipients are capped.
 *
 * DIAGNOSTICS: none fatal; an unexpected record type, a recipient before
 * the sender, too many recipients or a failed address rewrite is a warning
 * and a failed message; an empty recipient or an invalid content filter is
 * a warning and is ignored.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "cleanup.h"
#include "mail_proto.h"
#include "mem.h"
#include "msg.h"
#include "record.h"
#include "rewrite_clnt.h"

#define CLEANUP_ADDR_MAX    4096


/* ---- duplicate recipient filter ------------------------------------------ */

/*
 * 1 if key was seen before; otherwise remember it, while fewer than
 * duplicate_filter_limit keys are remembered (later ones pass unchecked).
 */
static int
cleanup_dup_seen(CLEANUP_STATE *state, const char *key)
{
    if (htable_locate(state->dups, key) != NULL)
        return 1;
    if (htable_used(state->dups) < state->dup_limit)
        htable_enter(state->dups, key, NULL);
    return 0;
}

/* ---- state ---------------------------------------------------------------- */

/*
 * The last few rewrite answers of the current message, in its state:
 * smtpd's header From:/To: addresses are usually the envelope ones again,
 * and each repeat would be another trivial-rewrite round trip. Failures
 * are not kept; neither are long addresses.
 */
#define CLEANUP_RW_KEY_MAX  1024

int
cleanup_rewrite_addr(CLEANUP_STATE *state, const char *rule, const char *addr, VSTRING *out)
{
    int     i, slot;

    for (i = 0; i < CLEANUP_RW_CACHE; i++) {
        if (state->rw_cache[i].addr && strcmp(state->rw_cache[i].addr, addr) == 0
            && strcmp(state->rw_cache[i].rule, rule) == 0) {
            vstring_strcpy(out, state->rw_cache[i].result);
            return 0;
        }
    }
    if (state->rewrite(rule, addr, out) < 0)
        return -1;
    if (strlen(addr) < CLEANUP_RW_KEY_MAX && LEN(out) < CLEANUP_RW_KEY_MAX) {
        slot = state->rw_next;
        state->rw_next = (state->rw_next + 1) % CLEANUP_RW_CACHE;
        mem_free(state->rw_cache[slot].rule);
        mem_free(state->rw_cache[slot].addr);
        mem_free(state->rw_cache[slot].result);
        state->rw_cache[slot].rule = mem_strdup(rule);
        state->rw_cache[slot].addr = mem_strdup(addr);
        state->rw_cache[slot].result = mem_strdup(STR(out));
    }
    return 0;
}

CLEANUP_STATE *
cleanup_state_alloc(const char *queue_id, STREAM *dst)
{
    CLEANUP_STATE *state = mem_alloc(sizeof(*state));

    state->queue_id = mem_strdup(queue_id);
    state->dst = dst;
    state->reason = vstring_alloc(1024);
    state->section = CLEANUP_SECT_ENVELOPE;
    state->rewrite = rewrite_clnt;
    state->orcp = vstring_alloc(CLEANUP_ENV_RECORD_MAX);
    state->dsn_orcpt = vstring_alloc(CLEANUP_ENV_RECORD_MAX);
    state->dsn_notify = vstring_alloc(CLEANUP_ENV_RECORD_MAX);
    state->rcpt_max = var_smtpd_rcpt_limit * 10 > 10000 ? var_smtpd_rcpt_limit * 10 : 10000;
    state->hdr_context = "local";
    state->dups = htable_create(0);
    state->dup_limit = var_dup_filter_limit > 0 ? (size_t) var_dup_filter_limit : 0;
    state->size_limit = var_message_limit;
    state->line_limit = var_line_limit;
    state->header_limit = var_header_limit;
    state->replace_cr_lf = var_replace_cr_lf;
    state->hop_limit = var_hopcount_limit;
    state->line = vstring_alloc(state->header_limit);
    state->header = vstring_alloc(state->header_limit);
    state->scratch = vstring_alloc(VSTRING_UNLIMITED);
    state->addr = vstring_alloc(CLEANUP_ADDR_MAX);
    state->rcpt_list = argv_alloc();
    state->bcc = argv_alloc();
    return state;
}

void
cleanup_state_free(CLEANUP_STATE *state)
{
    for (int i = 0; i < CLEANUP_RW_CACHE; i++) {
        mem_free(state->rw_cache[i].rule);
        mem_free(state->rw_cache[i].addr);
        mem_free(state->rw_cache[i].result);
    }
    mem_free(state->queue_id);
    mem_free(state->sender);
    mem_free(state->fullname);
    vstring_free(state->reason);
    vstring_free(state->orcp);
    vstring_free(state->dsn_orcpt);
    vstring_free(state->dsn_notify);
    htable_free(state->dups, NULL);
    vstring_free(state->line);
    vstring_free(state->header);
    vstring_free(state->scratch);
    vstring_free(state->addr);
    argv_free(state->rcpt_list);
    mem_free(state->rcpt_offs);
    cleanup_checks_free(state);
    cleanup_milter_free(state);
    mem_free(state);
}

int
cleanup_start(CLEANUP_STATE *state)
{
    /* Placeholder of the final width, rewritten by cleanup_out_final(). */
    if (rec_size_put(state->dst, 0L, 0L, 0L, 0L) < 0)
        state->errs |= CLEANUP_STAT_WRITE;
    return state->errs ? -1 : 0;
}

size_t
cleanup_record_max(const CLEANUP_STATE *state)
{
    if (state->section == CLEANUP_SECT_CONTENT)
        return state->line_limit > CLEANUP_ENV_RECORD_MAX ? state->line_limit
            : CLEANUP_ENV_RECORD_MAX;
    return CLEANUP_ENV_RECORD_MAX;
}

/* ---- envelope records ------------------------------------------------------ */

/* Rewrite addr with the "local" rule into state->addr; 0 or -1 (deferred). */
static int
cleanup_rewrite(CLEANUP_STATE *state, const char *addr)
{
    if (*addr == 0) {
        vstring_reset(state->addr);
        return 0;
    }
    if (cleanup_rewrite_addr(state, "local", addr, state->addr) < 0) {
        msg_warn("%s: address rewriting failed for <%.100s>", state->queue_id, addr);
        state->errs |= CLEANUP_STAT_DEFER;
        return -1;
    }
    return 0;
}

static int
cleanup_time(CLEANUP_STATE *state, const char *data)
{
    char   *end;

    state->time_sec = strtol(data, &end, 10);
    state->time_usec = 0;
    if (end == data || state->time_sec < 0)
        return -1;
    if (*end == ' ')
        state->time_usec = strtol(end + 1, &end, 10);
    if (*end != 0 || state->time_usec < 0 || state->time_usec > 999999)
        return -1;
    state->have_time = 1;
    cleanup_out(state, REC_TYPE_TIME, data, strlen(data));
    return 0;
}

/*
 * The content filter of the message, "transport:nexthop": from the
 * client's content_filter parameter (ATTR_CONTENT_FILTER) or from an
 * smtpd access FILTER action (CONTENT_FILTER record). The last one
 * wins, and a header/body check FILTER action later overrides it; the
 * final value is written once, in the extracted section
 * (cleanup_checks_extracted). An empty value sets nothing; a value
 * without a transport name is ignored with a warning.
 */
static void
cleanup_content_filter(CLEANUP_STATE *state, const char *value)
{
    const char *colon = strchr(value, ':');

    if (*value == 0)
        return;
    if (colon == NULL || colon == value || strcspn(value, " \t\r\n") != strlen(value)) {
        msg_warn("%s: ignoring invalid content filter: \"%.100s\"", state->queue_id, value);
        return;
    }
    mem_free(state->filter);
    state->filter = mem_strdup(value);
}

static int
cleanup_attr(CLEANUP_STATE *state, const char *data)
{
    const char *eq = strchr(data, '=');

    if (eq == NULL || eq == data || eq - data > 100 || ++state->attr_count > CLEANUP_ATTR_MAX)
        return -1;
    if (strncmp(data, ATTR_RWR_CONTEXT "=", sizeof(ATTR_RWR_CONTEXT)) == 0) {
        if (strcmp(eq + 1, "local") == 0)
            state->hdr_context = "local";
        else if (strcmp(eq + 1, "remote") == 0)
            state->hdr_context = *var_remote_rwr_domain ? "remote" : NULL;
        else
            return -1;
    } else if (strncmp(data, ATTR_CONTENT_FILTER "=", sizeof(ATTR_CONTENT_FILTER)) == 0) {
        cleanup_content_filter(state, eq + 1);
        return 0;                       /* becomes the CONTENT_FILTER record */
    } else {
        char   *name = mem_strndup(data, eq - data);

        cleanup_checks_attr(state, name, eq + 1);
        mem_free(name);
    }
    cleanup_out_str(state, REC_TYPE_ATTR, data);
    return 0;
}

static int
cleanup_from(CLEANUP_STATE *state, const char *data)
{
    struct timeval tv;
    char    buf[64];

    if (state->have_from)
        return -1;
    state->have_from = 1;
    if (!state->have_time) {
        gettimeofday(&tv, NULL);
        state->time_sec = tv.tv_sec;
        state->time_usec = tv.tv_usec;
        state->have_time = 1;
        snprintf(buf, sizeof(buf), "%ld %ld", state->time_sec, state->time_usec);
        cleanup_out_str(state, REC_TYPE_TIME, buf);
    }
    if (var_delay_warn_time > 0) {
        snprintf(buf, sizeof(buf), "%15ld", state->time_sec + var_delay_warn_time);
        cleanup_out_str(state, REC_TYPE_WARN, buf);
    }
    if (cleanup_rewrite(state, data) < 0 || cleanup_map_sender(state) < 0)
        return 0;
    state->sender = mem_strdup(STR(state->addr));
    cleanup_out_str(state, REC_TYPE_FROM, state->sender);
    return 0;
}

/* Remember a DSN/ORCP record for the next RCPT. */
static int
cleanup_pending(VSTRING *buf, int *have, const char *data)
{
    if (*have)
        return -1;
    *have = 1;
    vstring_strcpy(buf, data);
    return 0;
}

static void
cleanup_pending_reset(CLEANUP_STATE *state)
{
    state->have_orcp = state->have_dsn_orcpt = state->have_dsn_notify = 0;
}

/* Remember where a RCPT record goes (REDIRECT and bounces mark them done later). */
void
cleanup_rcpt_offset_add(CLEANUP_STATE *state, off_t offset)
{
    if (state->rcpt_noffs == state->rcpt_coffs) {
        state->rcpt_coffs = state->rcpt_coffs ? state->rcpt_coffs * 2 : 16;
        state->rcpt_offs = mem_realloc_array(state->rcpt_offs, state->rcpt_coffs,
                                             sizeof(off_t));
    }
    state->rcpt_offs[state->rcpt_noffs++] = offset;
}

static void
cleanup_rcpt_offset(CLEANUP_STATE *state)
{
    cleanup_rcpt_offset_add(state, stream_tell(state->dst));
}

/* One final recipient address (after mapping) with its original. */
static void
cleanup_rcpt_out(CLEANUP_STATE *state, const char *orig, const char *data, const char *addr)
{
    char   *key = mem_printf("%s\n%s", orig, addr);

    if (!cleanup_dup_seen(state, key)) {
        if (state->have_dsn_notify) {
            cleanup_out_str(state, REC_TYPE_DSN_NOTIFY, STR(state->dsn_notify));
            state->notify_any |= atoi(STR(state->dsn_notify)) & 0xff;
        }
        if (state->have_dsn_orcpt)
            cleanup_out_str(state, REC_TYPE_DSN_ORCPT, STR(state->dsn_orcpt));
        if (state->have_orcp || strcmp(data, addr) != 0)
            cleanup_out_str(state, REC_TYPE_ORCP, orig);
        cleanup_rcpt_offset(state);
        cleanup_out_str(state, REC_TYPE_RCPT, addr);
        state->rcpt_count++;
    }
    mem_free(key);
}

static int
cleanup_rcpt(CLEANUP_STATE *state, const char *data)
{
    const char *orig = state->have_orcp ? STR(state->orcp) : data;

    if (!state->have_from || ++state->rcpt_seen > state->rcpt_max) {
        msg_warn("%s: %s", state->queue_id, state->have_from ? "too many recipients"
                 : "recipient before sender");
        return -1;
    }
    if (*data == 0) {
        msg_warn("%s: empty recipient address ignored", state->queue_id);
        cleanup_pending_reset(state);
        return 0;
    }
    if (state->first_rcpt == NULL)
        state->first_rcpt = mem_strdup(orig);
    if (cleanup_rewrite(state, data) < 0 || cleanup_map_rcpt(state) < 0) {
        cleanup_pending_reset(state);
        return 0;
    }
    for (size_t i = 0; i < state->rcpt_list->argc; i++)
        cleanup_rcpt_out(state, orig, data, state->rcpt_list->argv[i]);
    cleanup_pending_reset(state);
    return 0;
}

static int
cleanup_mesg(CLEANUP_STATE *state)
{
    if (!state->have_from || state->have_orcp || state->have_dsn_orcpt
        || state->have_dsn_notify)
        return -1;
    cleanup_out(state, REC_TYPE_MESG, "", 0);
    state->data_offset = stream_tell(state->dst);
    state->section = CLEANUP_SECT_CONTENT;
    state->in_headers = 1;
    return 0;
}

static int
cleanup_envelope(CLEANUP_STATE *state, int type, const char *data, size_t len)
{
    if (memchr(data, 0, len))                   /* envelope data is text */
        return -1;
    switch (type) {
    case REC_TYPE_TIME:
        return state->have_time || state->have_from ? -1 : cleanup_time(state, data);
    case REC_TYPE_FULL:
        if (state->fullname || state->have_from)
            return -1;
        state->fullname = mem_strdup(data);
        cleanup_out(state, type, data, len);
        return 0;
    case REC_TYPE_ATTR:
        return cleanup_attr(state, data);
    case REC_TYPE_FROM:
        return cleanup_from(state, data);
    case REC_TYPE_ORCP:
        return cleanup_pending(state->orcp, &state->have_orcp, data);
    case REC_TYPE_DSN_ORCPT:
        return cleanup_pending(state->dsn_orcpt, &state->have_dsn_orcpt, data);
    case REC_TYPE_DSN_NOTIFY:
        return cleanup_pending(state->dsn_notify, &state->have_dsn_notify, data);
    case REC_TYPE_RCPT:
        return cleanup_rcpt(state, data);
    case REC_TYPE_DSN_ENVID:
    case REC_TYPE_DSN_RET:
    case REC_TYPE_CTIM:
    case REC_TYPE_WARN:
        cleanup_out(state, type, data, len);
        return 0;
    case REC_TYPE_CONTENT_FILTER:       /* smtpd access action FILTER */
        cleanup_content_filter(state, data);
        return 0;
    case REC_TYPE_FLGS:                 /* smtpd access actions: HOLD, DISCARD */
        state->flags |= atoi(data) & (CLEANUP_FLAG_HOLD | CLEANUP_FLAG_DISCARD);
        return 0;
    case REC_TYPE_RDR:                  /* smtpd access action REDIRECT */
        if (*data == 0 || len > CLEANUP_ADDR_MAX)
            return -1;
        mem_free(state->redirect);
        state->redirect = mem_strdup(data);
        return 0;
    case REC_TYPE_MESG:
        return cleanup_mesg(state);
    default:
        return -1;
    }
}

int
cleanup_record(CLEANUP_STATE *state, int type, const char *data, size_t len)
{
    int     ret;

    switch (state->section) {
    case CLEANUP_SECT_ENVELOPE:
        ret = cleanup_envelope(state, type, data, len);
        break;
    case CLEANUP_SECT_CONTENT:
        ret = cleanup_message(state, type, data, len);
        break;
    case CLEANUP_SECT_EXTRA:
        if (type != REC_TYPE_END) {
            ret = -1;
            break;
        }
        state->section = CLEANUP_SECT_DONE;
        return 1;
    default:
        ret = -1;
        break;
    }
    if (ret < 0) {
        msg_warn("%s: unexpected record type %d (%s) from client", state->queue_id,
                 type, rec_type_name(type));
        state->errs |= CLEANUP_STAT_BAD;
    }
    return ret;
}

int
cleanup_finish(CLEANUP_STATE *state)
{
    if (state->section != CLEANUP_SECT_DONE) {
        state->errs |= CLEANUP_STAT_BAD;
        return state->errs;
    }
    if (state->rcpt_count > 0 && state->errs == 0)
        cleanup_milter_run(state);      /* may change recipients, reject, ... */
    if (state->rcpt_count <= 0 && state->errs == 0)
        state->errs |= CLEANUP_STAT_RCPT;
    if (cleanup_bounce_wanted(state))
        return cleanup_bounce(state);   /* local submission: bounce, not reject */
    cleanup_out(state, REC_TYPE_END, "", 0);
    return cleanup_out_final(state);
}
