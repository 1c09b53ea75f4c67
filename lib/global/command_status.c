/*
 * command_status.c - see command_status.h.
 *
 * DIAGNOSTICS: none; the caller gets the delivery status and the text.
 */
#include <sys/wait.h>

#include "command_status.h"
#include "deliver.h"

static const struct {
    int     code;
    const char *dsn;
    const char *text;
} command_sysexits[] = {
    {64, "5.3.0", "command line usage error"},
    {65, "5.6.0", "data format error"},
    {66, "5.3.0", "cannot open input"},
    {67, "5.1.1", "user unknown"},
    {68, "5.1.2", "host name unknown"},
    {69, "5.3.0", "service unavailable"},
    {70, "5.3.0", "internal software error"},
    {71, "4.3.0", "system resource problem"},
    {72, "5.3.0", "critical OS file missing"},
    {73, "5.2.0", "can't create user output file"},
    {74, "5.3.0", "input/output error"},
    {75, "4.3.0", "temporary failure"},
    {76, "5.5.0", "remote error in protocol"},
    {77, "5.7.0", "permission denied"},
    {78, "5.3.5", "local configuration error"},
};

/* Output as one printable line after the reason. */
static void
command_output(VSTRING *why, VSTRING *output)
{
    char   *p;
    int     seen = 0;

    if (output == NULL)
        return;
    for (p = STR(output); *p; p++) {
        if ((unsigned char) *p < 0x20 || *p == 0x7f)
            *p = ' ';
        seen |= *p != ' ';
    }
    if (seen)                           /* a final newline stays a space, as Postfix */
        vstring_sprintf_append(why, ". Command output: %s", STR(output));
}

int
command_status(int status, const char *command, VSTRING *output, VSTRING *dsn,
               VSTRING *why)
{
    size_t  i;
    int     code;

    if (WIFSIGNALED(status)) {
        vstring_strcpy(dsn, "4.3.0");
        vstring_sprintf(why, "Command died with signal %d: \"%s\"", WTERMSIG(status), command);
        command_output(why, output);
        return DELIVER_DEFER;
    }
    if ((code = WEXITSTATUS(status)) == 0)
        return DELIVER_SENT;
    for (i = 0; i < sizeof(command_sysexits) / sizeof(command_sysexits[0]); i++) {
        if (command_sysexits[i].code == code) {
            vstring_strcpy(dsn, command_sysexits[i].dsn);
            vstring_strcpy(why, command_sysexits[i].text);
            command_output(why, output);
            return command_sysexits[i].dsn[0] == '4' ? DELIVER_DEFER : DELIVER_BOUNCE;
        }
    }
    vstring_strcpy(dsn, "5.3.0");
    vstring_sprintf(why, "Command died with status %d: \"%s\"", code, command);
    command_output(why, output);
    return DELIVER_BOUNCE;
}
