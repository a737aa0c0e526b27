/* SPDX-License-Identifier: Apache-2.0 */
/*
 * main.c - the sluice program: one binary, a subcommand per part.
 *
 *   sluice node      a media node (RTMP in, RTMP and HTTP-FLV out)
 *   sluice token     mint a signed publish/play token
 *   sluice manager   the stream manager
 *   sluice ctl       the stream manager's command-line client
 */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: sluice <command> [options]\n\n"
	        "commands:\n"
	        "  node      run a media node (RTMP ingest; RTMP and HTTP-FLV playback)\n"
	        "  token     mint a signed, expiring publish or play token\n"
	        "  manager   run the stream manager (node groups, routing, autoscaling)\n"
	        "  ctl       drive the stream manager's API from the command line\n"
	        "  version   print the version\n\n"
	        "`sluice <command> --help` lists a command's options.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (argc == 3 && (strcmp(argv[2], "--help-man") == 0 || strcmp(argv[2], "--help-conf") == 0))
		return doc_main(cmd, argv[2]);
	if (strcmp(cmd, "node") == 0)
		return node_main(argc - 2, argv + 2);
	if (strcmp(cmd, "token") == 0)
		return token_main(argc - 2, argv + 2);
	if (strcmp(cmd, "manager") == 0)
		return manager_main(argc - 2, argv + 2);
	if (strcmp(cmd, "ctl") == 0)
		return ctl_main(argc - 2, argv + 2);
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		printf("sluice %s\n", SLUICE_VERSION);
		return 0;
	}
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "sluice: unknown command '%s'\n\n", cmd);
	usage(stderr);
	return 2;
}
