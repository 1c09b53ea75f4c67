/*
 * msg.h - logging in Postfix's format.
 *
 * Every line is "<syslog_name>/<program>[<pid>]: [<level>: ]<text>", with
 * level "warning", "error", "fatal" or "panic" (info lines have none).
 * Callers put the queue id first, as Postfix does: msg_info("%s: from=<%s>...", id, ...).
 *
 * Where lines go (msg_logging_init):
 *   - maillog_file empty: syslog(3) with facility syslog_facility.
 *   - maillog_file set: a datagram to the postlog service socket
 *     ($queue_directory/public/postlog, type unix-dgram) which postlogd
 *     appends to the file. If that socket cannot be reached the line is
 *     appended to maillog_file directly when the process may write it
 *     (commands run by root, master), otherwise to stderr.
 *   - MSG_STDERR in addition (commands run from a terminal, tests).
 *
 * SECURITY: text that came from the network goes through the formatting
 * here, which replaces control characters by '?' and cuts the line at
 * MSG_LINE_MAX bytes, so no peer can forge log lines.
 *
 * msg_fatal() exits with status 1 after logging; msg_panic() aborts.
 *
 * DIAGNOSTICS: msg_fatal() exits (status 1, or msg_fatal_status()'s),
 * msg_panic() aborts (a programming error); msg_warn() and msg_error()
 * only log. Set-up problems (an unknown syslog_facility, an unusable
 * maillog_file) are warnings.
 */
#ifndef POSTHORN_MSG_H
#define POSTHORN_MSG_H

#include <stdarg.h>
#include <stddef.h>

#define MSG_LINE_MAX 2048

#define MSG_STDERR   (1 << 0)   /* also write to stderr */
#define MSG_NOSYSLOG (1 << 1)   /* never use syslog/maillog (early start) */
#define MSG_DIRECT   (1 << 2)   /* maillog_file set: append to the file
                                 * directly, never via the postlog socket
                                 * (postlogd itself, to avoid a loop) */

/* Program name as logged after "postfix/": set first thing in main(). */
void    msg_init(const char *program, int flags);
/*
 * Where lines go (msg_logging_init() in config.h fills this from main.cf).
 * NULL or "" means the default: syslog name "postfix", facility "mail",
 * gethostname(), syslog rather than a file, prefixes "/var, /dev/stdout".
 */
typedef struct MSG_LOG_SETTINGS {
    const char *syslog_name;
    const char *syslog_facility;
    const char *hostname;
    const char *maillog_file;
    const char *maillog_file_prefixes;
    const char *queue_directory;        /* for public/postlog */
    const char *maillog_file_permissions;   /* mode for a file created here ("0644") */
} MSG_LOG_SETTINGS;
void    msg_logging_setup(const MSG_LOG_SETTINGS *settings);
void    msg_set_flags(int flags);
int     msg_get_flags(void);
const char *msg_program(void);          /* "smtpd" */
extern int msg_verbose;                 /* -v count */

void    msg_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void    msg_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void    msg_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void    msg_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* msg_fatal() with the exit status of the caller's choosing (sysexits). */
void    msg_fatal_status(int status, const char *fmt, ...)
            __attribute__((format(printf, 2, 3), noreturn));
void    msg_panic(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void    msg_vlog(int level, const char *fmt, va_list ap);

/* Copy src into dst (size dstlen) replacing control characters by '?'. */
void    msg_printable(char *dst, size_t dstlen, const char *src);

/*
 * Replace the "<syslog_name>/<program>" tag (postlog -t). NULL restores
 * the default. The pid is always appended.
 */
void    msg_set_tag(const char *tag);
/* Close the postlog socket / syslog connection (before closing all
 * descriptors in a child). The next line reconnects. */
void    msg_logging_close(void);
/* Before chroot(): tzset() and connect to syslog or postlog now. */
void    msg_logging_prepare_chroot(void);

/*
 * maillog_file lines. A line in the file is
 *     "Mon DD HH:MM:SS <host> <syslog_name>/<program>[pid]: text"
 * (<host>: $myhostname up to its first dot, as Postfix writes it)
 * (time "%b %d %H:%M:%S", local time). The datagram that a client sends to
 * the postlog socket carries exactly that line WITHOUT the newline;
 * postlogd appends it plus '\n' to maillog_file (and may run it through
 * msg_printable() first, as the peer is only semi-trusted).
 *
 * msg_format_logline() resets out and stores that line (no newline) for
 * tag_pid_text = "postfix/smtpd[123]: text", using the current time and
 * $myhostname's first label (gethostname() if empty). Control characters in
 * tag_pid_text become '?', and the result is cut at MSG_LINE_MAX + 128.
 */
struct VSTRING;
void    msg_format_logline(struct VSTRING *out, const char *tag_pid_text);

#define MSG_INFO    0
#define MSG_WARN    1
#define MSG_ERROR   2
#define MSG_FATAL   3
#define MSG_PANIC   4

#endif
