/* What the block-service tests share: the harness's files and locations (tests/harness). */
#ifndef SHUFFLED_TESTS_BLOCK_UTIL_H
#define SHUFFLED_TESTS_BLOCK_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../harness/fs.h"
#include "../harness/locate.h"

#endif
