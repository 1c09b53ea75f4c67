/*
 * param_guard.h - what posthorn does with parameters it does not implement.
 *
 * Nothing is ignored silently. The parameter table (params.c) marks what
 * posthorn implements (PARAM_FLAG_IMPL); a parameter without the mark
 * that is set in main.cf or by "-o" in master.cf draws a warning from
 * "postfix start" and "postfix check". A few such parameters would leave
 * mail less protected than the administrator asked for when ignored (TLS
 * that must be used, SASL, milters, a before-queue filter): when one of
 * those is set to a value that engages it, the programs that would have
 * to honour it refuse work instead, with a reason naming the parameter.
 *
 * DIAGNOSTICS: none here; the callers turn a refusal into a fatal log line
 * (smtpd after "421 4.3.5", pickup) or deferred mail (smtp, lmtp).
 */
#ifndef POSTHORN_PARAM_GUARD_H
#define POSTHORN_PARAM_GUARD_H

/* Known to the table and neither implemented nor only documentation. */
int     param_unimplemented(const char *name);

/*
 * Why program ("smtpd", "smtp", "lmtp", "pickup") must refuse work under
 * the configuration now loaded (main.cf plus this process's overrides):
 * an allocated message naming the parameter and its value, or NULL.
 */
char   *param_guard_refusal(const char *program);

/* The refusal, if any, that a value would cause (postfix check). */
const char *param_guard_engaged(const char *name, const char *value);

/* For the unit test: the guarded names, NULL-terminated walk by index. */
const char *param_guard_name(int i);

#endif
