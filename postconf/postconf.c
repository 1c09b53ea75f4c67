/*
 * postconf.c - Postfix configuration utility: main() and option parsing.
 *
 * Usage (as Postfix's postconf):
 *   postconf [-dhHnx] [-c config_dir] [-o name=value] [name ...]
 *   postconf -e name=value ...      edit main.cf (also "name = value")
 *   postconf -X name ...            remove parameters from main.cf
 *   postconf -# name ...            comment out parameters in main.cf
 *   postconf -M [service[/type] ...] print master.cf entries (-f: folded)
 *   postconf -F [service[/type[/field]] ...]     master.cf fields
 *   postconf -P [service[/type[/parameter]] ...] master.cf -o parameters
 *   postconf -Me|-MX|-M#, -Fe, -Pe|-PX          edit master.cf
 *   postconf -m | -l | -a | -A      map types, lock methods, SASL types
 *
 * The configuration directory is -c, else $MAIL_CONFIG, else /etc/postfix.
 * postconf needs no other posthorn program and no running system.
 *
 * SECURITY: run by administrators; -e writes main.cf through a temporary
 * file and rename(), so a reader never sees a half-written file.
 *
 * DIAGNOSTICS: fatal, as Postfix's postconf: a usage error, conflicting
 * options, a -o without name=value, a failed setenv, a write error on
 * standard output.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "maps.h"
#include "mem.h"
#include "msg.h"
#include "postconf.h"

static int
postconf_compare(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

/* postconf -m: the built-in types and the shared-object ones installed
 * in daemon_directory (main.cf's, when there is one). */
static void
postconf_show_maps(const char *dir)
{
    const char *cd = dir ? dir : getenv("MAIL_CONFIG") ? getenv("MAIL_CONFIG") : "/etc/postfix";
    char   *main_cf = mem_printf("%s/main.cf", cd);
    ARGV   *types;
    size_t  i;

    if (access(main_cf, R_OK) == 0) {
        config_load(dir);
        dict_plugin_config(config_str("daemon_directory"));
    }
    mem_free(main_cf);
    types = dict_types();

    qsort(types->argv, types->argc, sizeof(char *), postconf_compare);
    for (i = 0; i < types->argc; i++)
        if (i == 0 || strcmp(types->argv[i], types->argv[i - 1]) != 0)
            printf("%s\n", types->argv[i]);
    argv_free(types);
}

static void
postconf_usage(void)
{
    msg_fatal("usage: postconf [-dfhHnx] [-c config_dir] [-e|-X|-#] [-M|-F|-P] [-m] [-l] "
              "[-o name=value] [name ...]");
}

/* Record one of a group of options that exclude each other. */
static void
postconf_one_of(char *slot, int ch)
{
    if (*slot && *slot != ch)
        msg_fatal("specify one of -%c -%c", *slot, ch);
    *slot = (char) ch;
}

/* Options that -M, -F and -P do not take. */
static void
postconf_check_master_flags(char sel, int flags, char edit)
{
    static const struct {
        int     flag;
        char    ch;
        const char *modes;
    } bad[] = {
        {PC_FLAG_DEFAULTS, 'd', "MFP"}, {PC_FLAG_NONDEF, 'n', "MFP"},
        {PC_FLAG_VALUE, 'h', "M"}, {PC_FLAG_NAME, 'H', "M"},
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if ((flags & bad[i].flag) && strchr(bad[i].modes, sel))
            msg_fatal("with option -%c, do not specify -%c", sel, bad[i].ch);
    if ((sel == 'F' && (edit == 'X' || edit == '#')) || (sel == 'P' && edit == '#'))
        msg_fatal("with option -%c, do not specify -%c", sel, edit);
}

int
main(int argc, char **argv)
{
    const char *dir = NULL;
    int     ch, flags = 0, status = 0;
    char    edit = 0;                   /* e, X, # */
    char    sel = 0;                    /* M, F, P: master.cf */
    char    other = 0;                  /* m, l, a, A */
    char    hh = 0;                     /* h, H */
    ARGV   *overrides = argv_alloc();
    size_t  i;

    msg_init("postconf", MSG_STDERR | MSG_NOSYSLOG);
    while ((ch = getopt(argc, argv, "aAbc:deE#fFhHlmMno:pPtTvxX")) > 0) {
        switch (ch) {
        case 'c': dir = optarg; break;
        case 'd': flags |= PC_FLAG_DEFAULTS; break;
        case 'n': flags |= PC_FLAG_NONDEF; break;
        case 'h': postconf_one_of(&hh, ch); flags |= PC_FLAG_VALUE; break;
        case 'H': postconf_one_of(&hh, ch); flags |= PC_FLAG_NAME; break;
        case 'x': flags |= PC_FLAG_EXPAND; break;
        case 'f': flags |= PC_FLAG_FOLD; break;
        case 'o': argv_add(overrides, optarg); break;
        case 'v': msg_verbose++; break;
        case 'p': break;                    /* -p is the default */
        case 'e': case 'X': case '#': postconf_one_of(&edit, ch); break;
        case 'M': case 'F': case 'P': postconf_one_of(&sel, ch); break;
        case 'm': case 'l': case 'a': case 'A': postconf_one_of(&other, ch); break;
        default:
            postconf_usage();
        }
    }
    if (other && (edit || sel))
        msg_fatal("specify one of -%c -%c", other, edit ? edit : sel);
    if (sel)
        postconf_check_master_flags(sel, flags, edit);
    if (dir != NULL && setenv("MAIL_CONFIG", dir, 1) < 0)
        msg_fatal("setenv: %m");

    switch (other) {
    case 'l':
        printf("flock\nfcntl\ndotlock\n");
        return 0;
    case 'a':
    case 'A':
        printf("cyrus\n");
        return 0;
    case 'm':
        postconf_show_maps(dir);
        return 0;
    default:
        break;
    }
    if (edit && sel) {
        config_load(dir);
        return postconf_edit_master(sel, edit, argv + optind);
    }
    switch (edit) {
    case 'e':
        return postconf_edit_main(PC_EDIT_SET, argv + optind);
    case 'X':
        return postconf_edit_main(PC_EDIT_REMOVE, argv + optind);
    case '#':
        return postconf_edit_main(PC_EDIT_COMMENT, argv + optind);
    default:
        break;
    }
    if (!(flags & PC_FLAG_DEFAULTS) || sel)
        config_load(dir);
    else
        config_load_services(config_directory());
    for (i = 0; i < overrides->argc; i++)
        if (config_override_arg(overrides->argv[i]) < 0)
            msg_fatal("-o option requires name=value: \"%s\"", overrides->argv[i]);
    argv_free(overrides);
    if (sel)
        status = postconf_show_master(sel, argv + optind, flags);
    else
        status = postconf_show_params(flags, argv + optind);
    if (fflush(stdout) != 0 || ferror(stdout))
        msg_fatal("write error on standard output: %m");
    return status;
}
