/* admin_keys: "jwt-admin keys generate|list|rotate|retire" over the key
 * directory layout of key_dir.h. */
#ifndef AUTH_ADMIN_KEYS_H
#define AUTH_ADMIN_KEYS_H

#include "admin_cli.h"

/* argv[0] is "generate", "list", "rotate" or "retire"; returns the exit
 * status. */
int admin_keys_main(struct admin_cli *cli, int argc, char **argv);

#endif
