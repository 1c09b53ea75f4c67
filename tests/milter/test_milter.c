/*
 * test_milter.c - a milter on Debian's libmilter for posthorn's milter
 * tests (tests/integration/test_milter.py builds and starts it).
 *
 * Usage: test_milter -p inet:PORT@127.0.0.1 -m MODES [-r rcpt] [-n rcpt]
 *                    [-f sender] [-l logfile] [-s seconds]
 * MODES is a comma list:
 *   tempfail-connect   SMFIS_TEMPFAIL at connect
 *   reject-rcpt        SMFIS_REJECT for the RCPT of -r
 *   discard            SMFIS_DISCARD at end of message
 *   reply-code         554 5.7.0 custom milter reply, at end of message
 *   headers            add X-Added, insert X-Inserted at 0, change Subject,
 *                      delete X-Delete-Me
 *   inject             add a header whose value tries to start another
 *                      header and to end the header section
 *   body               replace the body
 *   add-rcpt           add the recipient -n (with ESMTP args)
 *   del-rcpt           delete the recipient -r
 *   chgfrom            change the sender to -f
 *   quarantine         quarantine with a reason
 *   slow               sleep -s seconds at end of message
 *   accept-helo        SMFIS_ACCEPT at HELO (no more events)
 *   tempfail-data      SMFIS_TEMPFAIL at DATA
 * Every callback and the macros it got are appended to -l.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libmilter/mfapi.h>

static const char *modes = "";
static const char *rcpt_arg = "";
static const char *new_rcpt = "";
static const char *new_from = "";
static const char *log_path;
static int slow_secs = 5;

static int
has(const char *mode)
{
    size_t  n = strlen(mode);
    const char *p = modes;

    while ((p = strstr(p, mode)) != NULL) {
        if ((p == modes || p[-1] == ',') && (p[n] == 0 || p[n] == ','))
            return 1;
        p += n;
    }
    return 0;
}

static void
note(SMFICTX *ctx, const char *event, const char *arg, const char **macros)
{
    FILE   *fp;

    if (log_path == NULL || (fp = fopen(log_path, "a")) == NULL)
        return;
    fprintf(fp, "%s %s", event, arg ? arg : "");
    for (; macros && *macros; macros++) {
        char   *v = smfi_getsymval(ctx, (char *) *macros);
        fprintf(fp, " %s=%s", *macros, v ? v : "(unset)");
    }
    fputc('\n', fp);
    fclose(fp);
}

/* Callbacks that only record that they ran. */
#define NOTE_ONLY(fn, event) \
    static sfsistat fn(SMFICTX *ctx) { note(ctx, event, NULL, NULL); return SMFIS_CONTINUE; }
NOTE_ONLY(t_eoh, "eoh")
NOTE_ONLY(t_abort, "abort")
NOTE_ONLY(t_close, "close")

static sfsistat
t_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
    const char *m[] = {"j", "{daemon_name}", "{daemon_addr}", "v", "_", "{client_addr}",
        "{client_name}", NULL};

    note(ctx, "connect", host, m);
    return has("tempfail-connect") ? SMFIS_TEMPFAIL : SMFIS_CONTINUE;
}

static sfsistat
t_helo(SMFICTX *ctx, char *helo)
{
    note(ctx, "helo", helo, NULL);
    return has("accept-helo") ? SMFIS_ACCEPT : SMFIS_CONTINUE;
}

static sfsistat
t_envfrom(SMFICTX *ctx, char **argv)
{
    const char *m[] = {"i", "{mail_addr}", "{auth_type}", "{auth_authen}", NULL};

    note(ctx, "mail", argv[0], m);
    return SMFIS_CONTINUE;
}

static sfsistat
t_envrcpt(SMFICTX *ctx, char **argv)
{
    const char *m[] = {"{rcpt_addr}", NULL};

    note(ctx, "rcpt", argv[0], m);
    if (has("reject-rcpt") && strstr(argv[0], rcpt_arg) != NULL)
        return SMFIS_REJECT;
    return SMFIS_CONTINUE;
}

static sfsistat
t_header(SMFICTX *ctx, char *name, char *value)
{
    char    buf[1024];

    snprintf(buf, sizeof(buf), "%s: %s", name, value);
    note(ctx, "header", buf, NULL);
    return SMFIS_CONTINUE;
}


static sfsistat
t_body(SMFICTX *ctx, unsigned char *data, size_t len)
{
    char    buf[64];

    snprintf(buf, sizeof(buf), "%zu", len);
    note(ctx, "body", buf, NULL);
    return SMFIS_CONTINUE;
}

static sfsistat
t_eom(SMFICTX *ctx)
{
    const char *m[] = {"i", NULL};

    note(ctx, "eom", NULL, m);
    if (has("slow"))
        sleep(slow_secs);
    if (has("headers")) {
        smfi_addheader(ctx, "X-Added", "yes");
        smfi_insheader(ctx, 0, "X-Inserted", "first");
        smfi_chgheader(ctx, "Subject", 1, "changed by milter");
        smfi_chgheader(ctx, "X-Delete-Me", 1, NULL);
    }
    if (has("inject"))
        smfi_addheader(ctx, "X-Fold", "one\r\n\r\nX-Injected: yes\r\n \r\nbody?");
    if (has("body"))
        smfi_replacebody(ctx, (unsigned char *) "replaced body\r\nline two\r\n", 25);
    if (has("add-rcpt"))
        smfi_addrcpt_par(ctx, (char *) new_rcpt, "NOTIFY=NEVER");
    if (has("del-rcpt"))
        smfi_delrcpt(ctx, (char *) rcpt_arg);
    if (has("chgfrom"))
        smfi_chgfrom(ctx, (char *) new_from, NULL);
    if (has("quarantine"))
        smfi_quarantine(ctx, "test quarantine reason");
    if (has("discard"))
        return SMFIS_DISCARD;
    if (has("reply-code")) {
        smfi_setreply(ctx, "554", "5.7.0", "custom milter reply");
        return SMFIS_REJECT;
    }
    return SMFIS_CONTINUE;
}

static sfsistat
t_data(SMFICTX *ctx)
{
    note(ctx, "data", NULL, NULL);
    return has("tempfail-data") ? SMFIS_TEMPFAIL : SMFIS_CONTINUE;
}



int
main(int argc, char **argv)
{
    struct smfiDesc desc = {
        "posthorn-test", SMFI_VERSION,
        SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY | SMFIF_ADDRCPT | SMFIF_ADDRCPT_PAR
        | SMFIF_DELRCPT | SMFIF_QUARANTINE | SMFIF_CHGFROM,
        t_connect, t_helo, t_envfrom, t_envrcpt, t_header, t_eoh, t_body, t_eom,
        t_abort, t_close, NULL, t_data, NULL,
    };
    const char *conn = NULL;
    int     ch;

    while ((ch = getopt(argc, argv, "p:m:r:n:f:l:s:")) != -1) {
        switch (ch) {
        case 'p': conn = optarg; break;
        case 'm': modes = optarg; break;
        case 'r': rcpt_arg = optarg; break;
        case 'n': new_rcpt = optarg; break;
        case 'f': new_from = optarg; break;
        case 'l': log_path = optarg; break;
        case 's': slow_secs = atoi(optarg); break;
        default: return 2;
        }
    }
    if (conn == NULL || smfi_setconn((char *) conn) == MI_FAILURE
        || smfi_register(desc) == MI_FAILURE)
        return 1;
    return smfi_main() == MI_SUCCESS ? 0 : 1;
}
