/* admin_token: "jwt-admin token mint" (an access token for a service
 * account or a lesson, signed with the issuer's key) and the dispatch to
 * "token inspect" (admin_inspect.h). */
#ifndef AUTH_ADMIN_TOKEN_H
#define AUTH_ADMIN_TOKEN_H

#include "admin_cli.h"

#define ADMIN_TOKEN_MAX_TTL 31536000 /* a year */

/* argv[0] is "mint" or "inspect"; returns the exit status. */
int admin_token_main(struct admin_cli *cli, int argc, char **argv);

#endif
