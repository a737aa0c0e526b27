/* commands.h - entry points of the sluice subcommands. */
#ifndef SLUICE_CLI_COMMANDS_H
#define SLUICE_CLI_COMMANDS_H

int node_main(int argc, char **argv);
int token_main(int argc, char **argv);
int manager_main(int argc, char **argv);
int ctl_main(int argc, char **argv);

#endif
