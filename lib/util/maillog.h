/*
 * maillog.h - the rules for $maillog_file, in one place: postlogd applies
 * them before it opens the file, "postfix start"/"postfix check" before
 * anything starts, and msg.c before a program appends to the file itself.
 *
 * The settings come from the caller (lib/util knows no main.cf):
 *   file      maillog_file (empty: no maillog)
 *   prefixes  maillog_file_prefixes, a comma/space separated list
 *   perms     maillog_file_permissions, octal "0600", "0640" or "0644"
 *
 * DIAGNOSTICS: none; a bad file name or mode is returned as a reason text
 * for the caller to log.
 */
#ifndef POSTHORN_MAILLOG_H
#define POSTHORN_MAILLOG_H

/* Does path start with one of the prefixes? (none: no) */
int     maillog_prefix_ok(const char *path, const char *prefixes);
/* The mode a permissions value stands for: 0600, 0640 or 0644; else -1. */
int     maillog_mode(const char *perms);
/*
 * Is file a maillog_file that may be used: an absolute name that starts
 * with one of the prefixes, and (perms not NULL) with valid permissions,
 * whose mode goes to *mode. NULL when it may (an empty file is fine: no
 * maillog), else the reason, with the parameter's name and value, to
 * free with mem_free().
 */
char   *maillog_check(const char *file, const char *prefixes, const char *perms, int *mode);

#endif
