/*
 * postconf.h - private interface of the postconf command.
 *
 * postconf.c parses the options and dispatches; postconf_params.c prints
 * main.cf parameters; postconf_edit.c edits main.cf in place;
 * postconf_master.c prints master.cf entries, fields and parameters
 * (-M, -F, -P); postconf_medit.c edits master.cf (-Me, -MX, -M#, -Fe,
 * -Pe, -PX).
 *
 * DIAGNOSTICS: fatal for usage errors, bad edit requests and files that
 * cannot be read, locked, written or renamed; warnings for undefined or
 * unused parameters and for requests that match nothing. See each
 * postconf_*.c.
 */
#ifndef POSTHORN_POSTCONF_H
#define POSTHORN_POSTCONF_H

#include <stddef.h>

#include "argv.h"

/* Flags that change how parameters are shown. */
#define PC_FLAG_DEFAULTS  (1 << 0)      /* -d: built-in defaults */
#define PC_FLAG_NONDEF    (1 << 1)      /* -n: only those set in main.cf */
#define PC_FLAG_VALUE     (1 << 2)      /* -h: the value only */
#define PC_FLAG_NAME      (1 << 3)      /* -H: the name only */
#define PC_FLAG_EXPAND    (1 << 4)      /* -x: expand $name */
#define PC_FLAG_FOLD      (1 << 5)      /* -f: fold long lines */

/* How postconf_edit_main() changes main.cf. */
typedef enum { PC_EDIT_SET, PC_EDIT_REMOVE, PC_EDIT_COMMENT } PC_EDIT_MODE;

/* Print parameters (names NULL or empty: all of them); returns exit status. */
int     postconf_show_params(int flags, char **names);
/* Warn about main.cf names that nothing uses ("unused parameter"). */
void    postconf_warn_unused(void);
/* Apply -e / -X / -# to $config_directory/main.cf; returns exit status. */
int     postconf_edit_main(PC_EDIT_MODE mode, char **args);
/*
 * mode 'M': print master.cf entries ("service" or "service/type" filters);
 * 'F': fields, 'P': -o parameters ("service[/type[/name]]" filters).
 */
int     postconf_show_master(int mode, char **filters, int flags);

/* master.cf fields, in order; the last one is the command. */
#define PC_FIELD_COUNT    8
#define PC_FIELD_COMMAND  7
extern const char *const postconf_field_names[PC_FIELD_COUNT];
int     postconf_field_index(const char *name);     /* -1: unknown */

struct MASTER_TABLE;
struct MASTER_ENT;
struct VSTRING;
/* $config_directory/master.cf, parsed; fatal on error. */
struct MASTER_TABLE *postconf_master_load(void);
/* An entry in the normalized layout (fold: as written to master.cf,
 * several lines, no final newline). */
void    postconf_format_entry(struct VSTRING *out, char *const fields[PC_FIELD_COUNT],
                              const ARGV *args, int fold);
/* "command arg..." as -F shows it; allocated. */
char   *postconf_command_text(const char *command, const ARGV *args);
/* "name = value" -> "name=value"; allocated. */
char   *postconf_norm_override(const char *arg);
/* The entry's -o settings as sorted "name=value" strings. */
ARGV   *postconf_entry_params(const struct MASTER_ENT *ent);

/* Edits of master.cf: op 'e', 'X' or '#' with mode 'M', 'F' or 'P'. */
int     postconf_edit_master(int mode, int op, char **args);

/* postconf_edit.c helpers shared with postconf_medit.c. */
struct stat;
int     postconf_lock_file(const char *path);
char   *postconf_read_fd(int fd, const char *path);
void    postconf_write_atomic(const char *path, const char *text, size_t len,
                              const struct stat *st);

#endif
