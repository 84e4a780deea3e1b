/* version: the generated version text, behind a function. */
#include "version.h"

/* Angle brackets: the header is generated in the build tree. */
#include <version_gen.h>

const char *
jwt_version(void)
{
	return JWT_VERSION_TEXT;
}
