/*
 * postlog.h - private interface of the postlog command.
 *
 * postlog.c        main(): the set-gid hygiene (lib/global/setgid_env.c:
 *                  postlog is set-gid $setgid_group so that it can reach
 *                  public/postlog when maillog_file is used), options,
 *                  configuration, the text to log
 * postlog_text.c   logging one line with the chosen tag and severity
 *
 * DIAGNOSTICS: fatal only for usage, severity, configuration directory and
 * parameter problems (postlog.c).
 */
#ifndef POSTHORN_POSTLOG_H
#define POSTHORN_POSTLOG_H

#define POSTLOG_USAGE "usage: postlog [-c config_dir] [-i] [-p priority] [-t tag] [-v] [text]"
#define POSTLOG_LINE_MAX 2048           /* one line of standard input (MSG_LINE_MAX) */


/* postlog_text.c */
/* Severity name ("info", "warning", ...) to MSG_* level, or -1. */
int     postlog_level(const char *name);
/* Log text at level with the current tag; also "tag: level: text" on
 * stderr when to_stderr. */
void    postlog_text(int level, const char *tag, const char *text, int to_stderr);
/* Each line of standard input in turn (bounded, newline removed). */
void    postlog_stdin(int level, const char *tag, int to_stderr);

#endif
