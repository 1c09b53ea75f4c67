/*
 * config_vars.c - read a program's parameters into typed variables, and
 * the per-transport parameter fallback.
 *
 * Interface: config.h (config_read_vars, config_transport_*).
 *
 * DIAGNOSTICS: a bad value is fatal with the parameter's name and value
 * (the typed getters of config.c); a variable table that names a
 * parameter the table does not know, or gives it another type, is a
 * programming error and panics, so it shows in the first test run.
 */
#include <string.h>

#include "config.h"
#include "mem.h"
#include "msg.h"

void
config_read_vars(const CONFIG_VAR *vars)
{
    const PARAM_INFO *info;
    const CONFIG_VAR *v;

    for (v = vars; v->name != NULL; v++) {
        if ((info = config_param_info(v->name)) == NULL)
            msg_panic("config_read_vars: unknown parameter \"%s\"", v->name);
        if (v->type != info->type)
            msg_panic("config_read_vars: parameter \"%s\" read with the wrong type", v->name);
        switch (v->type) {
        case PARAM_STR:
            *(const char **) v->target = config_str(v->name);
            break;
        case PARAM_INT:
            *(long *) v->target = config_int(v->name);
            break;
        case PARAM_TIME:
            *(long *) v->target = config_time(v->name);
            break;
        case PARAM_SIZE:
            *(long *) v->target = config_size(v->name);
            break;
        case PARAM_BOOL:
            *(int *) v->target = config_bool(v->name);
            break;
        }
    }
}

/*
 * "<transport>_<suffix>" when it has a value (set in main.cf or by -o,
 * or a parameter with a default: built in, or registered for a master.cf
 * delivery service), else "default_<suffix>", else plain "<suffix>" (for
 * initial_destination_concurrency, which has no default_ form);
 * allocated.
 */
static char *
config_transport_name(const char *transport, const char *suffix)
{
    char   *name = mem_printf("%s_%s", transport, suffix);

    if (config_lookup(name) == NULL) {
        mem_free(name);
        name = mem_printf("default_%s", suffix);
        if (config_param_info(name) == NULL) {
            mem_free(name);
            name = mem_strdup(suffix);
        }
    }
    return name;
}

/* A number from the per-transport name, read with get (config_int/time). */
static long
config_transport_long(const char *transport, const char *suffix, long (*get)(const char *))
{
    char   *name = config_transport_name(transport, suffix);
    long    value = get(name);

    mem_free(name);
    return value;
}

long
config_transport_int(const char *transport, const char *suffix)
{
    return config_transport_long(transport, suffix, config_int);
}

long
config_transport_time(const char *transport, const char *suffix)
{
    return config_transport_long(transport, suffix, config_time);
}

const char *
config_transport_str(const char *transport, const char *suffix)
{
    char   *name = config_transport_name(transport, suffix);
    const char *value = config_str(name);

    mem_free(name);
    return value;
}
