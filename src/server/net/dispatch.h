/* Routes one decoded frame: RPCs to the installed handler, chunk and stream requests to the
 * stream manager, anything a server must not receive to a logged close. */
#ifndef SHUFFLED_SERVER_DISPATCH_H
#define SHUFFLED_SERVER_DISPATCH_H

#include <stddef.h>
#include <stdint.h>

struct conn;

/* content/len: the frame after its type byte (borrowed for the call). May close c. */
void dispatch_frame(struct conn *c, uint8_t type, const uint8_t *content, size_t len);

#endif
