/* admin_inspect: "jwt-admin token inspect": decodes a token for people
 * (header, claims, times in UTC), then verifies it with the one policy of
 * verify.c against a public key, a JWKS file or a JWKS URL, and with
 * --explain lists each check in order (common/explain.h). */
#ifndef AUTH_ADMIN_INSPECT_H
#define AUTH_ADMIN_INSPECT_H

#include "admin_cli.h"

/* argv[0] is "inspect". 0: valid (or decoded only, no key given);
 * 1: invalid; 2: usage. */
int admin_inspect_main(struct admin_cli *cli, int argc, char **argv);

#endif
