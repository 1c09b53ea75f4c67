/*
 * postconf.h - private interface of the postconf command.
 *
 * postconf.c parses the options and dispatches; postconf_params.c prints
 * main.cf parameters; postconf_edit.c edits main.cf in place;
 * postconf_master.c prints master.cf entries.
 */
#ifndef POSTHORN_POSTCONF_H
#define POSTHORN_POSTCONF_H

/* Flags that change how parameters are shown. */
#define PC_FLAG_DEFAULTS  (1 << 0)      /* -d: built-in defaults */
#define PC_FLAG_NONDEF    (1 << 1)      /* -n: only those set in main.cf */
#define PC_FLAG_VALUE     (1 << 2)      /* -h: the value only */
#define PC_FLAG_NAME      (1 << 3)      /* -H: the name only */
#define PC_FLAG_EXPAND    (1 << 4)      /* -x: expand $name */

/* How postconf_edit_main() changes main.cf. */
typedef enum { PC_EDIT_SET, PC_EDIT_REMOVE, PC_EDIT_COMMENT } PC_EDIT_MODE;

/* Print parameters (names NULL or empty: all of them); returns exit status. */
int     postconf_show_params(int flags, char **names);
/* Warn about main.cf names that nothing uses ("unused parameter"). */
void    postconf_warn_unused(void);
/* Apply -e / -X / -# to $config_directory/main.cf; returns exit status. */
int     postconf_edit_main(PC_EDIT_MODE mode, char **args);
/* -M: print master.cf entries ("service" or "service/type" filters). */
int     postconf_show_master(char **filters);

#endif
