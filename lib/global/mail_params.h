/*
 * mail_params.h - the main.cf parameters that lib/global modules use,
 * read once per process into typed variables.
 *
 * mail_params_init() reads them from the one parameter table (params.c:
 * the only place a default lives) after main.cf and the -o overrides are
 * loaded; the daemon skeleton (server.c) calls it at start-up (daemons
 * restart on "postfix reload"). A program that does not use the
 * skeleton, or a test, calls it itself after loading main.cf, and again
 * after a config_reset(). A bad value is fatal with the parameter's name
 * and value, in every program that calls it, as Postfix's mail_params.
 *
 * The variables live in one struct, not in var_* globals, so that they
 * cannot clash with the var_* variables of the programs.
 *
 * mail_params_need(who): panics unless mail_params_init() ran; the
 * modules below call it where they first use a value, so that a missing
 * call shows in the first test run instead of as a zero timeout.
 *
 * DIAGNOSTICS: a bad value is fatal with the parameter's name and value
 * (mail_params_init(), through config_read_vars); using a value before
 * mail_params_init() panics.
 */
#ifndef POSTHORN_MAIL_PARAMS_H
#define POSTHORN_MAIL_PARAMS_H

typedef struct MAIL_PARAMS {
    long    delay_logging_resolution_limit; /* deliver_log.c */
    long    ipc_timeout;                    /* cleanup_clnt.c, anvil_clnt.c */
    const char *myorigin;                   /* addr_map.c */
    const char *recipient_delimiter;        /* addr_map.c */
    const char *hash_queue_names;           /* queue.c */
    long    hash_queue_depth;               /* queue.c */
    const char *receive_override_options;   /* receive_opts.c */
    int     ready;                          /* mail_params_init() ran */
} MAIL_PARAMS;

extern MAIL_PARAMS mail_params;

void    mail_params_init(void);
void    mail_params_need(const char *who);

#endif
