/* admin_clients: "jwt-admin clients add|list|remove|secret": the OAuth
 * 2.0 clients of the auth service, through its store interface. */
#ifndef AUTH_ADMIN_CLIENTS_H
#define AUTH_ADMIN_CLIENTS_H

#include "admin_cli.h"

/* argv[0] is the command; returns the exit status. */
int admin_clients_main(struct admin_cli *cli, int argc, char **argv);

#endif
