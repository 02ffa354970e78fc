/*
 * listener: socket(), options, bind(), listen(). Nothing protocol-specific.
 */
#include "net/listener.h"

#include <errno.h>
#include <netinet/in.h>
#include <unistd.h>

int listener_open(const struct listen_url *u)
{
    int type = u->scheme == LISTEN_UDP ? SOCK_DGRAM : SOCK_STREAM;
    int fd = socket(u->addr.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int one = 1, zero = 0, rcv = LISTENER_UDP_RCVBUF;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (u->addr.ss_family == AF_INET6) /* "*" binds both families */
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
    if (type == SOCK_DGRAM)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
    if (bind(fd, (const struct sockaddr *)&u->addr, u->addr_len) < 0 ||
        (type == SOCK_STREAM && listen(fd, LISTENER_BACKLOG) < 0)) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

int listener_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return -errno;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}
