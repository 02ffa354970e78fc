/*
 * listener: opens the bound, non-blocking socket for a listen_url (datagram
 * for udp://, stream otherwise). Binding happens before privileges are
 * dropped; everything after works on the descriptors.
 */
#ifndef LW_NET_LISTENER_H
#define LW_NET_LISTENER_H

#include "net/listen_url.h"

#define LISTENER_BACKLOG    512
#define LISTENER_UDP_RCVBUF (8 << 20) /* asked for; the kernel may cap it */

/* Returns the fd, or -errno. */
int listener_open(const struct listen_url *u);
/* The port actually bound (for port 0), or -errno. */
int listener_port(int fd);

#endif
