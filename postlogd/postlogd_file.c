/*
 * postlogd_file.c - open, check and append to $maillog_file.
 *
 * Interface: postlogd.h. postlogd_open() runs as root before any privilege
 * change: it refuses a maillog_file that does not start with one of
 * $maillog_file_prefixes (fatal, to syslog and stderr, because the file is
 * exactly what cannot be used) and opens it O_APPEND|O_CREAT with
 * $maillog_file_permissions (0600, 0640 or 0644; anything else is fatal,
 * as a bad maillog_file is; the rules are lib/util/maillog.c's, which
 * "postfix start" applies too; "/dev/stdout" is the inherited standard
 * output, not a name to open). The parameters are read once, there. postlogd_write() appends one datagram as one
 * line. At most once a second it checks whether the file was renamed or
 * removed (log rotation) and then reopens it.
 *
 * SECURITY: datagrams come from any local process that can reach
 * public/postlog (mode 0666 in the 0710 public/ directory). Each one is
 * cut at MSG_LINE_MAX + 128 bytes and control characters become '?', so a
 * sender cannot split or forge lines. Our own log lines go straight to
 * the file (MSG_DIRECT), never through the socket we read.
 *
 * DIAGNOSTICS: an unusable maillog_file (name, prefix or permissions) is
 * fatal at start; an empty one is a warning and records are discarded. A
 * bad parameter value is fatal (config_read_vars).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "argv.h"
#include "config.h"
#include "maillog.h"
#include "mem.h"
#include "msg.h"
#include "postlogd.h"

#define POSTLOGD_LINE_MAX   (MSG_LINE_MAX + 128)
#define POSTLOGD_STDOUT     "/dev/stdout"

static struct {
    char   *path;
    int     fd;
    int     mode;
    dev_t   dev;
    ino_t   ino;
    time_t  last_check;
} plog = {.fd = -1};

/* The parameters, read once in postlogd_open() (postlogd restarts on reload). */
static const char *var_maillog_file;
static const char *var_maillog_file_perms;
static const char *var_maillog_file_pfxs;

static const CONFIG_VAR postlogd_vars[] = {
    CONFIG_VAR_STR("maillog_file", &var_maillog_file),
    CONFIG_VAR_STR("maillog_file_permissions", &var_maillog_file_perms),
    CONFIG_VAR_STR("maillog_file_prefixes", &var_maillog_file_pfxs),
    CONFIG_VAR_END,
};

static void
postlogd_refuse(const char *why)
{
    openlog("postfix/postlogd", LOG_PID, LOG_MAIL);
    syslog(LOG_CRIT, "%s", why);
    msg_set_flags(msg_get_flags() | MSG_STDERR | MSG_NOSYSLOG);
    msg_fatal("%s", why);
}

static int
postlogd_reopen(void)
{
    struct stat st;
    int     fd;

    /*
     * /dev/stdout is the descriptor master handed us ("postfix start-fg").
     * Opening the name anew fails when the terminal or pipe belongs to
     * another user than the one we run as (a non-root "make run").
     */
    if (strcmp(plog.path, POSTLOGD_STDOUT) == 0)
        fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
    else
        fd = open(plog.path, O_WRONLY | O_APPEND | O_CREAT | O_NOCTTY | O_CLOEXEC,
                  (mode_t) plog.mode);
    if (fd < 0)
        return -1;
    if (plog.fd >= 0)
        close(plog.fd);
    plog.fd = fd;
    if (fstat(fd, &st) == 0) {
        plog.dev = st.st_dev;
        plog.ino = st.st_ino;
    }
    return 0;
}

void
postlogd_open(const char *service, ARGV *args)
{
    char   *why;
    int     mode = 0;

    config_read_vars(postlogd_vars);
    msg_set_flags(msg_get_flags() | MSG_DIRECT);
    if (*var_maillog_file == 0) {
        msg_warn("maillog_file is empty: log records will be discarded");
        return;
    }
    if ((why = maillog_check(var_maillog_file, var_maillog_file_pfxs,
                             var_maillog_file_perms, &mode)) != NULL)
        postlogd_refuse(why);
    plog.path = strdup(var_maillog_file);
    plog.mode = mode;
    if (plog.path == NULL || postlogd_reopen() < 0) {
        why = mem_printf("open maillog_file \"%s\": cannot open for append",
                         var_maillog_file);
        postlogd_refuse(why);
    }
}

/* Log rotation: the name now points elsewhere (or nowhere). */
static void
postlogd_check_rotation(void)
{
    struct stat st;
    time_t  now = time(NULL);

    if (now == plog.last_check)
        return;
    plog.last_check = now;
    if (stat(plog.path, &st) == 0 && !S_ISREG(st.st_mode))
        return;                 /* /dev/stdout and friends */
    if (stat(plog.path, &st) < 0 || st.st_dev != plog.dev || st.st_ino != plog.ino)
        (void) postlogd_reopen();
}

void
postlogd_write(const char *buf, int len)
{
    char    raw[POSTLOGD_LINE_MAX + 1];
    char    line[POSTLOGD_LINE_MAX + 2];
    size_t  n;
    ssize_t w;

    if (plog.fd < 0 || len <= 0)
        return;
    n = (size_t) len < POSTLOGD_LINE_MAX ? (size_t) len : POSTLOGD_LINE_MAX;
    memcpy(raw, buf, n);
    raw[n] = 0;
    while (n > 0 && (raw[n - 1] == '\n' || raw[n - 1] == '\r'))
        raw[--n] = 0;
    msg_printable(line, sizeof(line) - 1, raw);
    n = strlen(line);
    line[n++] = '\n';
    postlogd_check_rotation();
    do {
        w = write(plog.fd, line, n);
    } while (w < 0 && errno == EINTR);
}
