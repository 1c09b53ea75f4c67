/*
 * setgid_env.h - the hygiene of a set-gid command (postdrop, postqueue,
 * postlog) before it trusts anything of its invoker.
 *
 *   setgid_env_sanitize()
 *       descriptors 0-2 open (on /dev/null when the invoker closed
 *       them), umask 077, the environment emptied except TZ, and
 *       PATH=/usr/bin:/bin; MAIL_CONFIG and TZ are kept aside for
 *       setgid_env_saved(). 0, or -1 when that failed: the caller must
 *       _exit() with its own status at once.
 *   setgid_env_saved(name)
 *       the invoker's "MAIL_CONFIG" or "TZ" (bounded), or NULL.
 *   setgid_env_privileged()
 *       running with privileges the invoker does not have.
 *   setgid_env_config_dir_ok(dir)
 *       may configuration directory dir (-c or MAIL_CONFIG) be used?
 *       Yes for none (NULL) or the default one; never for a relative
 *       path; else for root, when the program is not privileged, or
 *       when dir is listed in the default main.cf's
 *       alternate_config_directories (trailing slashes ignored). 1 or
 *       0; the caller reports a refusal.
 *
 * SECURITY: with an arbitrary main.cf a user could make a set-gid
 * program read or write files and sockets of its choosing; with an
 * inherited environment, descriptor or umask it could steer libraries
 * or get queue files on its own descriptors. Call setgid_env_sanitize()
 * first thing in main(), and check the directory before loading it.
 *
 * DIAGNOSTICS: an unreadable default main.cf is fatal (config_load);
 * everything else is a return value the caller reports.
 */
#ifndef POSTHORN_SETGID_ENV_H
#define POSTHORN_SETGID_ENV_H

int     setgid_env_sanitize(void);
const char *setgid_env_saved(const char *name);
int     setgid_env_privileged(void);
int     setgid_env_config_dir_ok(const char *dir);

#endif
