/* SPDX-License-Identifier: Apache-2.0 */
/* commands.h - entry points of the sluice subcommands. */
#ifndef SLUICE_CLI_COMMANDS_H
#define SLUICE_CLI_COMMANDS_H

int node_main(int argc, char **argv);
int token_main(int argc, char **argv);
int manager_main(int argc, char **argv);
int ctl_main(int argc, char **argv);
const char *ctl_usage_text(void);
/* `sluice node|manager|ctl --help-man` (roff) and `sluice node|manager --help-conf` (an
 * example config): generated from the options tables at build time (doc_cmd.c). */
int doc_main(const char *cmd, const char *what);

#endif
