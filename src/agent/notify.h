/*
 * notify: systemd's readiness protocol (sd_notify(3)) without libsystemd:
 * one datagram with "READY=1", "RELOADING=1" or "STOPPING=1" to the socket
 * named by $NOTIFY_SOCKET, when there is one (Type=notify units).
 */
#ifndef LW_AGENT_NOTIFY_H
#define LW_AGENT_NOTIFY_H

/* Sends state (e.g. "READY=1"). Returns 1 sent, 0 no $NOTIFY_SOCKET, or a
 * negative errno (the caller may ignore it: systemd then times out). */
int notify_systemd(const char *state);

#endif
