/*
 * postfix.h - private interface of the postfix control command.
 *
 * postfix_ctl.c    start, start-fg, stop, abort, reload, status, flush
 * postfix_check.c  check: configuration sanity, missing directories,
 *                  ownership warnings; set-permissions
 * postfix_chroot.c start: the files a chrooted daemon needs in the jail
 *
 * DIAGNOSTICS: fatal for usage, permission, parameter and master.cf
 * problems and for a start/stop that cannot be done; warnings for
 * directories fixed, ownership problems and unimplemented or unused
 * parameters (postfix check).
 */
#ifndef POSTHORN_POSTFIX_H
#define POSTHORN_POSTFIX_H

#include <sys/types.h>

extern int postfix_verbose;

/* postfix.c: the parameters, read once after main.cf is loaded. */
extern const char *var_mail_owner;          /* mail_owner */
extern const char *var_queue_dir;           /* queue_directory */
extern const char *var_data_dir;            /* data_directory */
extern const char *var_daemon_dir;          /* daemon_directory */
extern const char *var_maillog_file;        /* maillog_file */
extern const char *var_maillog_file_perms;  /* maillog_file_permissions */
extern const char *var_maillog_file_pfxs;   /* maillog_file_prefixes */

/* postfix_ctl.c */
int     postfix_start(int foreground);
int     postfix_stop(int abort_now);
int     postfix_reload(void);
int     postfix_status(void);
int     postfix_flush(void);
pid_t   postfix_master_pid(void);      /* 0: not running */

/* postfix_chroot.c: copy resolv.conf, localtime, ... into the jail when
 * master.cf chroots a service (Debian's configure-instance.sh). */
void    postfix_chroot_sync(void);

/* postfix_check.c */
void    postfix_check(int warn);        /* fatal on errors */
void    postfix_set_permissions(void);

#endif
