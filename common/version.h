/* version: the version every program prints with --version, from
 * project(VERSION) in CMakeLists.txt (through a header CMake generates). */
#ifndef JWT_VERSION_H
#define JWT_VERSION_H

/* "1.0.0": a static string. */
const char *jwt_version(void);

#endif
