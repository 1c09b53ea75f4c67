/*
 * postlog.c - postlog(1): log text as a mail system program would.
 *
 *   postlog [-iv] [-c config_dir] [-p priority] [-t tag] [text...]
 *
 * The text is the arguments joined by spaces, or else each line of
 * standard input. Default tag "$syslog_name/postlog", priority "info"
 * (warning, error, fatal, panic as Postfix). -i is accepted for
 * compatibility: posthorn always logs the process id. A bad -p value is
 * "fatal: bad severity" with exit status 1; everything else exits 0.
 *
 * SECURITY: installed set-gid $setgid_group (like Postfix 3.7, to reach
 * public/postlog). setgid_env_sanitize() runs before anything else; a
 * configuration directory from a non-root invoker must be listed in
 * alternate_config_directories; -v is for root only.
 *
 * DIAGNOSTICS: fatal: a usage error, a bad severity, a configuration
 * directory not allowed, a bad parameter value.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "mem.h"
#include "msg.h"
#include "postlog.h"
#include "setgid_env.h"
#include "vstring.h"

static const char *var_syslog_name;

static const CONFIG_VAR postlog_vars[] = {
    CONFIG_VAR_STR("syslog_name", &var_syslog_name),
    CONFIG_VAR_END,
};

int
main(int argc, char **argv)
{
    const char *config_dir, *tag = NULL, *priority = "info";
    char   *deftag;
    VSTRING *text;
    int     ch, level, to_stderr;

    if (setgid_env_sanitize() < 0)
        _exit(1);
    msg_init("postlog", MSG_STDERR);
    if (argc > 0)
        argv[0] = (char *) "postlog";
    config_dir = setgid_env_saved("MAIL_CONFIG");
    while ((ch = getopt(argc, argv, "c:ip:t:v")) != -1) {
        switch (ch) {
        case 'c': config_dir = optarg; break;
        case 'i': break;
        case 'p': priority = optarg; break;
        case 't': tag = optarg; break;
        case 'v': if (getuid() == 0) msg_verbose++; break;
        default: msg_fatal(POSTLOG_USAGE);
        }
    }
    if (!setgid_env_config_dir_ok(config_dir))
        msg_fatal("%s: not listed in alternate_config_directories of %s/main.cf",
                  config_dir, CONFIG_DEFAULT_DIR);
    config_load(config_dir);
    config_read_vars(postlog_vars);
    msg_logging_init();
    if ((level = postlog_level(priority)) < 0)
        msg_fatal("bad severity: \"%s\"", priority);
    deftag = mem_printf("%s/postlog", var_syslog_name);
    if (tag == NULL || *tag == 0)
        tag = deftag;
    msg_set_tag(tag);
    to_stderr = isatty(STDERR_FILENO);
    msg_set_flags(msg_get_flags() & ~MSG_STDERR);
    if (optind < argc) {
        text = vstring_alloc(MSG_LINE_MAX);
        for (int i = optind; i < argc; i++)
            vstring_sprintf_append(text, "%s%s", i > optind ? " " : "", argv[i]);
        postlog_text(level, tag, STR(text), to_stderr);
        vstring_free(text);
    } else {
        postlog_stdin(level, tag, to_stderr);
    }
    mem_free(deftag);
    return 0;
}
