/*
 * policy_spf_decide.c - the action for one policy request.
 *
 *   policy_spf_alloc(conf, check, ctx), policy_spf_free(ps)
 *   policy_spf_add_skip(conf, list, why)
 *   policy_spf_decide(ps, req, action)
 *   policy_spf_code_name(code)
 *
 * The decisions and the texts follow Debian's policyd-spf (python3-spf,
 * postfix-policyd-spf-python 3.0.4) in its default set-up, so log and
 * header readers keep working:
 *
 *   - a client in the skip list: "prepend X-Comment: SPF check N/A for
 *     local connections - client-ip=...; helo=...; envelope-from=...;
 *     receiver=... "
 *   - the HELO identity first (sender postmaster@<helo>; without a HELO
 *     name the sender's domain); a HELO result that rejects or defers
 *     decides at once; with a null sender the HELO result is the answer.
 *   - then MAIL FROM. The header is "Received-SPF: <Result> (<reason>)
 *     identity=helo; client-ip=...; helo=...; envelope-from=...;
 *     receiver=<recipient domain> " for the HELO identity and
 *     "Received-SPF: <Result> (mailfrom) identity=mailfrom; ..." for MAIL
 *     FROM (policyd-spf puts the identity in the comment there); when
 *     MAIL FROM has no record but HELO has one, the HELO header is used.
 *   - reject: "550 5.7.23 Message rejected due to: <reason>. Please see
 *     http://www.openspf.net/Why?s=mfrom;id=<sender>;ip=<ip>;r=<domain>"
 *     (5.7.24 for permerror); defer: "defer_if_permit 4.7.24 Message
 *     deferred due to: <reason>. Please see ...".
 *   - per message (the instance attribute): the first recipient's answer
 *     is kept; later recipients get the same reject or defer, and "dunno"
 *     instead of a second header.
 *
 * SECURITY: request values are client text: everything printed is
 * limited to printable ASCII ('?' for the rest) and each value is cut
 * to the request line limit, so a reply line stays bounded.
 *
 * DIAGNOSTICS: each decision is logged once per message (info).
 */
#include <string.h>
#include <sys/socket.h>

#include "argv.h"
#include "mem.h"
#include "msg.h"
#include "policy_spf.h"

struct POLICY_SPF {
    POLICY_SPF_CONF conf;
    POLICY_SPF_CHECK_FN check;
    void   *ctx;
    VSTRING *cache_instance;    /* the message the cache is for */
    VSTRING *cache_action;      /* its answer for later recipients */
};

/* What to do with one result. */
#define ACT_PREPEND 0
#define ACT_REJECT  1
#define ACT_DEFER   2

static const char *const code_names[] = {
    "None", "Neutral", "Pass", "Fail", "Softfail", "Temperror", "Permerror",
};

const char *
policy_spf_code_name(POLICY_SPF_CODE code)
{
    return (unsigned) code < sizeof(code_names) / sizeof(code_names[0]) ? code_names[code] : "None";
}

POLICY_SPF *
policy_spf_alloc(const POLICY_SPF_CONF *conf, POLICY_SPF_CHECK_FN check, void *ctx)
{
    POLICY_SPF *ps = mem_alloc(sizeof(*ps));

    ps->conf = *conf;
    ps->check = check;
    ps->ctx = ctx;
    ps->cache_instance = vstring_alloc(POLICY_SPF_LINE_MAX);
    ps->cache_action = vstring_alloc(VSTRING_UNLIMITED);
    return ps;
}

void
policy_spf_free(POLICY_SPF *ps)
{
    vstring_free(ps->cache_instance);
    vstring_free(ps->cache_action);
    mem_free(ps->conf.skip);            /* the copy of conf owns the list */
    mem_free(ps);
}

int
policy_spf_add_skip(POLICY_SPF_CONF *conf, const char *list, VSTRING *why)
{
    ARGV   *items = argv_split(list, ", \t");
    char    err[256];
    size_t  i;
    int     ret = 0;

    for (i = 0; i < items->argc && ret == 0; i++) {
        conf->skip = mem_realloc_array(conf->skip, (size_t) conf->skip_count + 1,
                                       sizeof(*conf->skip));
        if (cidr_match_parse(conf->skip + conf->skip_count, items->argv[i], err,
                             sizeof(err)) == CIDR_BAD) {
            vstring_sprintf(why, "bad skip address \"%s\": %s", items->argv[i], err);
            ret = -1;
        } else {
            conf->skip_count++;
        }
    }
    argv_free(items);
    return ret;
}

static int
skipped(const POLICY_SPF_CONF *conf, const char *ip)
{
    unsigned char bytes[16];
    int     family = cidr_match_addr(ip, bytes), i;

    for (i = 0; family != 0 && i < conf->skip_count; i++)
        if (cidr_match_execute(conf->skip + i, family, bytes))
            return 1;
    return 0;
}

/* Append text with everything but printable ASCII as '?'. */
static void
cat_safe(VSTRING *out, const char *text)
{
    for (; *text; text++)
        vstring_addch(out, *text >= 0x20 && *text < 0x7f ? *text : '?');
}

/* Append fmt, where each %s is one argument put through cat_safe(). */
static void
cat_fields(VSTRING *out, const char *fmt, const char *const *args)
{
    const char *p;

    for (p = fmt; *p; p++) {
        if (p[0] == '%' && p[1] == 's') {
            cat_safe(out, *args++);
            p++;
        } else {
            vstring_addch(out, *p);
        }
    }
}

static int
result_action(const POLICY_SPF_CONF *conf, int level, POLICY_SPF_CODE code)
{
    if (conf->header_only)
        return ACT_PREPEND;
    if ((code == SPF_CODE_FAIL && level >= SPF_REJECT_FAIL)
        || (code == SPF_CODE_SOFTFAIL && level >= SPF_REJECT_SOFTFAIL)
        || (code == SPF_CODE_PERMERROR && conf->permerror_reject))
        return ACT_REJECT;
    if (code == SPF_CODE_TEMPERROR && conf->temperror_defer)
        return ACT_DEFER;
    return ACT_PREPEND;
}

/* The per-check facts the texts need. */
typedef struct SPF_FACTS {
    const char *ip;
    const char *helo;           /* the HELO identity */
    const char *sender;         /* as received; "" for <> */
    const char *receiver;       /* the recipient's domain */
} SPF_FACTS;

static void
reject_text(VSTRING *out, int act, const POLICY_SPF_RESULT *r, const char *scope,
            const char *id, const SPF_FACTS *f)
{
    int     error = r->code == SPF_CODE_PERMERROR || r->code == SPF_CODE_TEMPERROR;
    const char *args[] = {r->reason, scope, id, f->ip, f->receiver};

    if (act == ACT_REJECT)
        vstring_sprintf(out, "550 %s Message rejected", error ? "5.7.24" : "5.7.23");
    else
        vstring_strcpy(out, "defer_if_permit 4.7.24 Message deferred");
    cat_fields(out, " due to: %s. Please see http://www.openspf.net/Why?s=%s;id=%s;ip=%s;r=%s",
               args);
}

static void
header_text(VSTRING *out, const POLICY_SPF_RESULT *r, const char *identity, const SPF_FACTS *f)
{
    const char *comment = strcmp(identity, "helo") == 0 ? r->reason : identity;
    const char *args[] = {comment, identity, f->ip, f->helo, *f->sender ? f->sender : "<>",
                          f->receiver};

    vstring_sprintf(out, "prepend Received-SPF: %s", policy_spf_code_name(r->code));
    cat_fields(out, " (%s) identity=%s; client-ip=%s; helo=%s; envelope-from=%s; receiver=%s ",
               args);
}

/* Run one check; a result without a record gets policyd-spf's reason. */
static void
run_check(POLICY_SPF *ps, const SPF_FACTS *f, const char *sender, POLICY_SPF_RESULT *r)
{
    ps->check(ps->ctx, f->ip, f->helo, sender, r);
    if (r->code == SPF_CODE_NONE)
        strcpy(r->reason, "no SPF record");
}

/* HELO, then MAIL FROM; the answer in action. */
static void
spf_evaluate(POLICY_SPF *ps, const SPF_FACTS *f, VSTRING *action)
{
    POLICY_SPF_RESULT helo = {SPF_CODE_NONE, ""}, mfrom;
    int     act;

    vstring_strcpy(action, "dunno");
    if (ps->conf.helo_reject != SPF_HELO_NO_CHECK) {
        char   *fake = mem_printf("postmaster@%s", f->helo);

        run_check(ps, f, fake, &helo);
        mem_free(fake);
        act = result_action(&ps->conf, ps->conf.helo_reject, helo.code);
        if (act != ACT_PREPEND) {
            reject_text(action, act, &helo, "helo", f->helo, f);
            return;
        }
        header_text(action, &helo, "helo", f);
    }
    if (*f->sender == 0)
        return;
    run_check(ps, f, f->sender, &mfrom);
    act = result_action(&ps->conf, ps->conf.mfrom_reject, mfrom.code);
    if (act != ACT_PREPEND)
        reject_text(action, act, &mfrom, "mfrom", f->sender, f);
    else if (mfrom.code != SPF_CODE_NONE || helo.code == SPF_CODE_NONE)
        header_text(action, &mfrom, "mailfrom", f);
}

/* A fresh decision for the first request of a message. */
static void
spf_fresh(POLICY_SPF *ps, const POLICY_SPF_REQ *req, VSTRING *action)
{
    const char *at = strrchr(STR(req->recipient), '@');
    const char *sat = strrchr(STR(req->sender), '@');
    SPF_FACTS f;

    f.ip = STR(req->client_address);
    f.sender = STR(req->sender);
    f.receiver = LEN(req->recipient) == 0 ? "none" : at ? at + 1 : STR(req->recipient);
    f.helo = LEN(req->helo_name) ? STR(req->helo_name) : sat ? sat + 1 : "unknown";
    if (*f.ip == 0 || (LEN(req->helo_name) == 0 && LEN(req->sender) == 0)) {
        vstring_strcpy(action, "dunno");
    } else if (skipped(&ps->conf, f.ip)) {
        const char *args[] = {f.ip, STR(req->helo_name), f.sender, f.receiver};

        vstring_strcpy(action, "prepend X-Comment: SPF check N/A for local connections - ");
        cat_fields(action, "client-ip=%s; helo=%s; envelope-from=%s; receiver=%s ", args);
    } else {
        spf_evaluate(ps, &f, action);
    }
}

void
policy_spf_decide(POLICY_SPF *ps, const POLICY_SPF_REQ *req, VSTRING *action)
{
    if (LEN(req->instance) > 0 && strcmp(STR(req->instance), STR(ps->cache_instance)) == 0) {
        if (strncmp(STR(ps->cache_action), "prepend ", 8) == 0)
            vstring_strcpy(action, "dunno");
        else
            vstring_strcpy(action, STR(ps->cache_action));
        return;
    }
    spf_fresh(ps, req, action);
    msg_info("%s: %s", LEN(req->instance) ? STR(req->instance) : "-", STR(action));
    vstring_strcpy(ps->cache_instance, STR(req->instance));
    vstring_strcpy(ps->cache_action, STR(action));
}
