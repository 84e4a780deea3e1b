/* admin_users: "jwt-admin users add|passwd|roles|list|delete" on the
 * auth service's users, through the store interface (store.h). */
#ifndef AUTH_ADMIN_USERS_H
#define AUTH_ADMIN_USERS_H

#include "admin_cli.h"

/* argv[0] is the command; returns the exit status. */
int admin_users_main(struct admin_cli *cli, int argc, char **argv);

#endif
