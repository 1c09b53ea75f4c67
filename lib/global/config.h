/*
 * config.h - main.cf: parsing, built-in defaults, $name expansion, -o overrides.
 *
 * main.cf syntax (as Postfix): "name = value"; a line whose first non-blank
 * character is '#' is a comment; a line that starts with white space
 * continues the logical line (appended as is, its leading white space
 * kept); blank and comment lines are skipped and do not end a logical
 * line; white space around '=' and at the end of a logical line is
 * dropped. Values are expanded on use: $name, ${name}, $(name),
 * ${name?text} / ${name?{text}} (text if name is non-empty),
 * ${name:text} / ${name:{text}} (text if name is empty),
 * ${name?{a}:{b}}, ${{text1} op {text2} ? {a} : {b}} with op one of
 * == != < <= > >= (numeric when both sides are numbers) or ==level
 * !=level <level <=level >level >=level (compatibility levels), and $$
 * for a literal '$'. Expansion is recursive with a depth limit (a loop is
 * a fatal configuration error, not a crash).
 *
 * Every parameter posthorn knows is declared once, in the table in
 * params.c (name, default, type, minimum, maximum); postconf -d prints
 * that table. Unknown names set in main.cf are kept (they may be used in
 * $expansions, or be per-transport like "smtp_destination_concurrency_limit")
 * and postconf/postfix check warn about them.
 *
 * The configuration directory is: the -c argument, else $MAIL_CONFIG,
 * else /etc/postfix.
 *
 * SECURITY: main.cf is trusted only as far as its owner (root); values are
 * still bounded (CONFIG_LINE_MAX) and numeric values range-checked.
 *
 * DIAGNOSTICS: a bad value of a parameter a program reads
 * (config_read_vars() and the typed getters) is fatal with the parameter's
 * name and value; so is a main.cf that cannot be read or expanded.
 * Undefined $names and white-space-led lines are warnings. See config.c.
 */
#ifndef POSTHORN_CONFIG_H
#define POSTHORN_CONFIG_H

#include <sys/types.h>

#include "argv.h"

#define CONFIG_LINE_MAX   (64 * 1024)
#define CONFIG_DEFAULT_DIR "/etc/postfix"

typedef enum { PARAM_STR, PARAM_INT, PARAM_BOOL, PARAM_TIME, PARAM_SIZE } PARAM_TYPE;

typedef struct PARAM_INFO {
    const char *name;
    const char *dflt;           /* raw default, may contain $names; NULL: computed */
    PARAM_TYPE type;
    long    min;                /* for INT/TIME/SIZE; 0 = no minimum */
    long    max;                /* 0 = no maximum */
    char    time_unit;          /* PARAM_TIME: default unit 's','m','h','d','w' */
    int     flags;              /* PARAM_FLAG_* */
} PARAM_INFO;

/* Never $-expanded by config_str()/config_lookup() (forward_path etc.). */
#define PARAM_FLAG_RAW  (1 << 0)
/* posthorn implements it (some program reads it); tests/unit/param_table.py
 * checks the marks against the code. Set in main.cf or by -o without this
 * mark, a parameter draws "not implemented" warnings (param_guard.h). */
#define PARAM_FLAG_IMPL (1 << 1)
/* An installation path that only documents the install (readme_directory,
 * sendmail_path, ...): nothing to implement, no warning. */
#define PARAM_FLAG_DOC  (1 << 2)
/* A value that is an absolute path stands for the first word of that
 * file (Debian's "myorigin = /etc/mailname"); read once, when expanded. */
#define PARAM_FLAG_FILE (1 << 3)

/* Load $dir/main.cf (dir NULL: -c/MAIL_CONFIG/default). Fatal on read error. */
void    config_load(const char *dir);
const char *config_directory(void);
/* Parse one main.cf text (used by config_load and unit tests). */
void    config_load_text(const char *text, const char *origin);
void    config_reset(void);     /* forget everything (tests, reload) */

/* -o name=value, or a program's own setting; wins over main.cf. */
void    config_override(const char *name, const char *value);
/* "name=value" form; returns -1 (and changes nothing) without '='. */
int     config_override_arg(const char *name_eq_value);

/* Values, expanded (except PARAM_FLAG_RAW ones). Unknown and unset: config_str returns "" and
 * config_lookup returns NULL. Bad numbers are fatal with a clear message. */
const char *config_str(const char *name);
const char *config_lookup(const char *name);
long    config_int(const char *name);
int     config_bool(const char *name);
long    config_time(const char *name);      /* in seconds */
long    config_size(const char *name);
ARGV   *config_list(const char *name);      /* expanded, split with argv_split_list */

/* Raw (unexpanded) value: main.cf/override, else default; NULL if unknown. */
const char *config_raw(const char *name);
const char *config_default(const char *name); /* built-in default, computed ones resolved */
int     config_is_set(const char *name);      /* set in main.cf or overridden */
/* name's description, NULL if unknown; valid until config_reset(). */
const PARAM_INFO *config_param_info(const char *name);

/* Expand $names in text; result is allocated. */
char   *config_expand(const char *text);

/*
 * Per-transport parameters, as Postfix: for each master.cf service whose
 * command is a delivery agent (smtp, lmtp, local, virtual, pipe, error), "<service>_destination_concurrency_limit" and the other qmgr
 * per-transport names become known parameters whose default is the
 * matching "$default_..." one. config_load() does this from
 * $config_directory/master.cf when that file is readable.
 */
void    config_register_service(const char *service, const char *command);
void    config_load_services(const char *dir);

/* Iterate over the parameters: every known one and every one set. */
typedef void (*CONFIG_WALK_FN)(const char *name, void *ctx);
void    config_walk(CONFIG_WALK_FN fn, void *ctx);   /* sorted by name */
/* Names that appear in main.cf but posthorn does not know (for warnings). */
ARGV   *config_unknown_names(void);

/* Conversion helpers shared with maps/postconf. */
int     config_parse_bool(const char *value, int *result);
int     config_parse_time(const char *value, char default_unit, long *seconds);

/* 1 when name's built-in default is a backwards-compatible one: main.cf
 * (or -o) does not set it and compatibility_level is below level (Postfix's
 * "using backwards-compatible default setting" cases). */
int     config_compat_break(const char *name, const char *level);
/* 1 when compatibility_level is below level. */
int     config_compat_below(const char *level);

/* Set in main.cf itself (not only overridden); its main.cf text or NULL. */
int     config_in_file(const char *name);
const char *config_file_value(const char *name);
/* postconf -x: warn "<dir>/main.cf: undefined parameter: name" while expanding. */
void    config_warn_undefined(int on);

/*
 * The one way a program reads its parameters (config_vars.c): a table of
 * names and typed variables, read once at start-up (and again after a
 * reload), as Postfix's var_* tables. The type must be the parameter
 * table's type for that name; a bad value is fatal with the name and
 * the value (config_int() and friends); a name the parameter table does
 * not know is a programming error (panic). Strings stay valid until
 * config_reset().
 *
 *   static const char *var_relayhost;
 *   static long var_queue_run_delay;
 *   static const CONFIG_VAR qmgr_vars[] = {
 *       CONFIG_VAR_STR("relayhost", &var_relayhost),
 *       CONFIG_VAR_TIME("queue_run_delay", &var_queue_run_delay),
 *       CONFIG_VAR_END,
 *   };
 *   config_read_vars(qmgr_vars);
 */
typedef struct CONFIG_VAR {
    const char *name;
    PARAM_TYPE type;
    void   *target;             /* const char **, long * or int * by type */
} CONFIG_VAR;

#define CONFIG_VAR_STR(n, p)  {(n), PARAM_STR, (void *) (1 ? (p) : (const char **) 0)}
#define CONFIG_VAR_INT(n, p)  {(n), PARAM_INT, (void *) (1 ? (p) : (long *) 0)}
#define CONFIG_VAR_TIME(n, p) {(n), PARAM_TIME, (void *) (1 ? (p) : (long *) 0)}
#define CONFIG_VAR_SIZE(n, p) {(n), PARAM_SIZE, (void *) (1 ? (p) : (long *) 0)}
#define CONFIG_VAR_BOOL(n, p) {(n), PARAM_BOOL, (void *) (1 ? (p) : (int *) 0)}
#define CONFIG_VAR_END        {NULL, PARAM_STR, NULL}

void    config_read_vars(const CONFIG_VAR *vars);

/*
 * Per-transport parameters with their fallback, in one place:
 * "<transport>_<suffix>" when the parameter table or master.cf knows that
 * name, else "default_<suffix>" (e.g. "relay", "destination_concurrency_limit").
 */
long    config_transport_int(const char *transport, const char *suffix);
long    config_transport_time(const char *transport, const char *suffix);
const char *config_transport_str(const char *transport, const char *suffix);

/*
 * Process set-up from main.cf (mail_conf.c): logging (syslog_name,
 * syslog_facility, myhostname, maillog_file, maillog_file_prefixes,
 * queue_directory) after config_load(); the $mail_owner uid and primary
 * gid and the $setgid_group gid, fatal when missing or privileged.
 */
void    msg_logging_init(void);
void    priv_mail_owner(uid_t *uid, gid_t *gid);
gid_t   priv_setgid_group(void);

/* The parameter table (params.c): the source, and the unit tests' copy. */
extern const PARAM_INFO param_table[];
extern const int param_table_size;

/*
 * The same table as the programs use it, generated from params.c by
 * mkparams.py (Makefile): the two strings are offsets for
 * param_row_string(), so the rows need no relocation at start-up and
 * stay shared, clean pages (param_table's pointers cost every process
 * 40 kB of private memory).
 */
typedef struct PARAM_ROW {
    unsigned name;              /* param_row_string() offset */
    unsigned dflt;              /* the same, or PARAM_ROW_COMPUTED (dflt NULL) */
    PARAM_TYPE type;
    long    min;
    long    max;
    char    time_unit;
    int     flags;
} PARAM_ROW;

#define PARAM_ROW_COMPUTED ((unsigned) -1)
extern const PARAM_ROW param_rows[];
extern const int param_rows_size;
const char *param_row_string(unsigned offset);
/* A computed default (dflt NULL in the table): allocated, or NULL. */
char   *param_compute_default(const char *name);
/* The mynetworks default for a mynetworks_style (host, subnet, class). */
char   *param_mynetworks_style(const char *style);

#endif
