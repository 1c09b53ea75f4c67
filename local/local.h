/*
 * local.h - private interface of the local delivery agent.
 *
 * local(8) takes delivery requests from qmgr (private/local) and, for
 * each recipient: looks up alias_maps, then the user (getpwnam), then the
 * user's forward_path files, then delivers to the mailbox: mailbox_command,
 * home_mailbox (mbox file or Maildir/), or mail_spool_directory/user.
 *
 *   local.c          main(): the single-server skeleton, keep_root
 *   local_params.c   the parameters, read once at start-up into var_*
 *   local_service.c  one request: headers, recipients, reply
 *   local_recipient.c  one address: aliases, user, .forward, mailbox
 *   local_token.c    one destination of an alias or .forward: |cmd,
 *                    /file, :include:, \user, address; list splitting
 *   local_expand.c   $name expansion (forward_path, luser_relay, commands)
 *   local_child.c    who a delivery runs as: in-process with the
 *                    recipient's effective ids (files), or a forked child
 *                    (commands, fully dropped before exec)
 *   local_forward.c  forwarding to addresses of other transports
 *                    (a new message through public/cleanup)
 *   local_mbox.c     message copy (From_ line, >From quoting), mbox and
 *                    Maildir writing, dot-locking
 *   local_command.c  delivery to commands
 *
 * SECURITY: local runs as root. Every write to a user file runs with the
 * recipient's (or the alias database or include file owner's) effective
 * uid and gid -- in local itself, no fork, as in Postfix; real and saved
 * uid stay root so the recipient cannot stop or trace it; under an alarm;
 * root again after each delivery -- and every command runs in a forked
 * child with those ids, a clean environment, other descriptors closed, an
 * alarm and a bounded wait in the parent, and then after a full drop to
 * the user (local_child.c says what the fork protected). Commands and
 * files never run as root (default_privs instead); only the mailbox
 * itself is written as root. Commands come from aliases, .forward and :include: files and
 * mailbox_command (administrator or user text), never from a pattern
 * table's $1 substitution (alias_maps are opened with MAP_NO_REGSUB);
 * message data reaches them only in environment variables filtered
 * through command_expansion_filter, never in a shell line.
 *
 * DIAGNOSTICS: fatal only at start (bad parameter values, server.c). At
 * run time every problem is a recipient's result (deferred or bounced,
 * with the reason) and some are also warnings: an unsafe or oversized
 * .forward or :include: file, an unknown default_privs, a stale lock, a
 * mailbox that cannot be truncated back.
 */
#ifndef POSTHORN_LOCAL_H
#define POSTHORN_LOCAL_H

#include <sys/types.h>

#include "argv.h"
#include "deliver.h"
#include "maps.h"
#include "mbox.h"
#include "vstring.h"

#define LOCAL_MAX_LEVEL     100     /* alias/forward nesting */
#define LOCAL_MAX_TOKENS    1000    /* destinations in one alias/.forward */
#define LOCAL_FILE_MAX      (64 * 1024)     /* .forward / :include: size */
#define LOCAL_REASON_MAX    1000

/* Who a delivery runs as. */
typedef struct LOCAL_PRIV {
    uid_t   uid;
    gid_t   gid;
    char   *name;
    char   *home;
    char   *shell;
} LOCAL_PRIV;

/* Where a destination came from: selects allow_mail_to_* and privileges. */
#define LOCAL_CTX_NONE      0
#define LOCAL_CTX_ALIAS     1
#define LOCAL_CTX_FORWARD   2
#define LOCAL_CTX_INCLUDE   3

/* Per request. */
typedef struct LOCAL_STATE {
    DELIVER_REQUEST *req;
    int     rcpt;               /* index of the recipient being delivered */
    ARGV   *delivered_to;       /* Delivered-To: values in the message, lowercased */
    ARGV   *dup;                /* destinations already delivered (this request) */
    ARGV   *path;               /* names expanded on the current branch */
    ARGV   *fwd_to;             /* addresses to forward to (current recipient) */
    ARGV   *fwd_by;             /* for each: the address whose expansion it is */
} LOCAL_STATE;

/* The address being delivered, split up. */
typedef struct LOCAL_ADDR {
    char   *address;            /* full address, as delivered to */
    char   *local;              /* local part, lowercased */
    char   *user;               /* local part without extension */
    char   *extension;          /* "" if none */
    char   *delim;              /* the delimiter that was used, "" if none */
    char   *domain;             /* "" if none */
    int     level;
} LOCAL_ADDR;

/* Expansion context for commands and files from an alias or .forward. */
typedef struct LOCAL_CTX {
    int     type;               /* LOCAL_CTX_* */
    const LOCAL_PRIV *priv;     /* the current rights: commands and files run
                                 * as local_priv_run(priv); uid 0 (root-owned
                                 * alias file, root's .forward) lets an
                                 * :include: file's owner take over */
    const char *origin;         /* "alias X", "file /home/u/.forward" */
} LOCAL_CTX;

/* local_service.c */
void    local_service(STREAM *client);
void    local_init(void);
void    local_result(LOCAL_STATE *st, const char *to, int status, const char *dsn,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
int     local_dup_check(LOCAL_STATE *st, const char *kind, const char *what);
void    local_dup_add(LOCAL_STATE *st, const char *kind, const char *what);
int     local_path_push(LOCAL_STATE *st, const char *kind, const char *what);
void    local_path_pop(LOCAL_STATE *st, size_t argc);
int     local_loop_check(LOCAL_STATE *st, const char *to);

/* local_recipient.c */
void    local_deliver_address(LOCAL_STATE *st, const char *address, int level);
int     local_addr_split(LOCAL_ADDR *a, const char *address, const char *delims);
void    local_addr_free(LOCAL_ADDR *a);
void    local_deliver_mailbox(LOCAL_STATE *st, const LOCAL_ADDR *a, const LOCAL_PRIV *pw);
void    local_aliases_open(void);
int     local_domain_ok(const char *domain);

/* local_token.c */
/* Read fd (then closed) as text of at most LOCAL_FILE_MAX bytes; *overflow
 * set when there was more. The caller frees the result. */
char   *local_read_text(int fd, int *overflow);
ARGV   *local_split_list(const char *text, int max);
void    local_deliver_list(LOCAL_STATE *st, const LOCAL_ADDR *a, const LOCAL_CTX *ctx,
                           const char *text);
/* 1 when the context type is listed in allowed (allow_mail_to_commands or
 * allow_mail_to_files: "alias", "forward", "include"). */
int     local_ctx_allowed(const char *allowed, int type);

/* local_forward.c */
int     local_addr_resolve(LOCAL_STATE *st, const char *addr);     /* 1 ours, 0 not, -1 fail */
void    local_forward_append(LOCAL_STATE *st, const LOCAL_ADDR *a, const char *target);
void    local_forward_flush(LOCAL_STATE *st);

/* local_expand.c */
#define LOCAL_EXP_KEEP_UNKNOWN  (1 << 0)    /* leave $UNKNOWN as is (commands) */
/* filter: the characters an attribute value may keep (the value of
 * command_expansion_filter or forward_expansion_filter); others become '_'. */
char   *local_expand(const char *text, const LOCAL_ADDR *a, const LOCAL_PRIV *pw,
                     const char *filter, int flags);
/* At start: look up the main.cf parameters text names (its non-attribute
 * $names); local_expand() uses these values. */
void    local_expand_init(const char *text);
void    local_expand_reset(void);

/* local_child.c */
#define LOCAL_CHILD_GRACE   2       /* seconds the parent waits beyond command_time_limit */
typedef int (*LOCAL_CHILD_FN)(void *ctx, VSTRING *dsn, VSTRING *why);
/* fn in this process with priv's effective ids (files, mailboxes). */
int     local_euid_run(LOCAL_STATE *st, const LOCAL_PRIV *priv, LOCAL_CHILD_FN fn,
                       void *ctx, VSTRING *dsn, VSTRING *why);
/* fn in a forked child with priv's effective ids (commands). */
int     local_child_run(LOCAL_STATE *st, const LOCAL_PRIV *priv, LOCAL_CHILD_FN fn,
                        void *ctx, VSTRING *dsn, VSTRING *why);
LOCAL_PRIV *local_priv_user(const char *name);      /* NULL if unknown */
LOCAL_PRIV *local_priv_uid(uid_t uid);              /* file owner; unknown -> default_privs */
LOCAL_PRIV *local_priv_default(void);
/* Who commands and files run as: never root (uid 0 -> default_privs, gid 0
 * -> its group). NULL when default_privs is unusable. */
LOCAL_PRIV *local_priv_run(const LOCAL_PRIV *p);
LOCAL_PRIV *local_priv_copy(const LOCAL_PRIV *p);
void    local_priv_free(LOCAL_PRIV *p);

/* local_mbox.c (the message copy, locks, Maildir: lib/global/mbox.h) */
int     local_mbox_deliver(LOCAL_STATE *st, const LOCAL_ADDR *a, const LOCAL_PRIV *priv,
                           const char *path, int kind, int flags,
                           VSTRING *dsn, VSTRING *why);
int     local_maildir_deliver(LOCAL_STATE *st, const LOCAL_PRIV *priv, const char *dir,
                              const char *delivered, int flags, VSTRING *dsn, VSTRING *why);

/* local_command.c */
int     local_command_deliver(LOCAL_STATE *st, const LOCAL_ADDR *a, const LOCAL_PRIV *priv,
                              const char *command, VSTRING *dsn, VSTRING *why);
int     local_shell_meta(const char *command);

/* local_params.c: the parameters, read once by local_params_init(). */
extern const char *var_alias_maps;
extern const char *var_forward_path;            /* unexpanded */
extern const char *var_luser_relay;             /* unexpanded */
extern const char *var_recipient_delimiter;
extern const char *var_myorigin;
extern const char *var_local_transport;
extern const char *var_allow_mail_to_commands;
extern const char *var_allow_mail_to_files;
extern const char *var_command_expansion_filter;
extern const char *var_forward_expansion_filter;
extern const char *var_prepend_delivered_header;
extern const char *var_mailbox_command;         /* unexpanded */
extern const char *var_home_mailbox;
extern const char *var_mail_spool_directory;
extern long var_deliver_lock_attempts;
extern long var_deliver_lock_delay;
extern long var_stale_lock_time;
extern const char *var_default_privs;
extern long var_mailbox_size_limit;
extern long var_command_time_limit;
extern const char *var_export_environment;
extern const char *var_local_command_shell;
void    local_params_init(void);

/* Delivered-To / X-Original-To values for the current delivery. */
const char *local_orig_rcpt(const LOCAL_STATE *st);
int     local_header_wanted(const char *context);   /* prepend_delivered_header */

#endif
