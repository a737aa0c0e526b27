/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_config.c - the config file parser with the node's real settings table. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/options.h"
#include "node/node_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct node_config cfg;
	struct opt_error err;
	memset(&cfg, 0, sizeof(cfg));
	options_defaults(node_options, &cfg, &err);
	if (options_parse_text(node_options, &cfg, (const char *)data, size, "fuzz", &err) < 0 &&
	    err.msg[0] == '\0')
		__builtin_trap(); /* every failure must say why */
	options_free(node_options, &cfg);
	return 0;
}
