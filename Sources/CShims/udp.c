#define _GNU_SOURCE
#include "cshims.h"
#include <errno.h>
#include <poll.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <string.h>
#include <sys/socket.h>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif
#define WGB_MAX_BATCH 128

/// On an IPv6 socket: the address as it is (v4-mapped for IPv4). On an IPv4-only socket: sockaddr_in.
static socklen_t to_sockaddr(const struct wgb_address *address, int ipv4_only, struct sockaddr_in6 *out) {
    memset(out, 0, sizeof *out);
    if (ipv4_only) {
        struct sockaddr_in *v4 = (struct sockaddr_in *)out;
        v4->sin_family = AF_INET;
        v4->sin_port = htons(address->port);
        memcpy(&v4->sin_addr, address->bytes + 12, 4);
        return sizeof *v4;
    }
    out->sin6_family = AF_INET6;
    out->sin6_port = htons(address->port);
    memcpy(&out->sin6_addr, address->bytes, 16);
    return sizeof *out;
}

/// The socket is non-blocking (the readers poll it): a full send buffer means wait for room, as a
/// blocking socket would, rather than drop; at most ten times per send, a second each.
static int wait_for_room(int fd) {
    struct pollfd descriptor = {.fd = fd, .events = POLLOUT};
    return poll(&descriptor, 1, 1000) > 0;
}

int wgb_udp_enable_gro(int fd) {
    int one = 1;
    return setsockopt(fd, IPPROTO_UDP, UDP_GRO, &one, sizeof one) == 0 ? 0 : -errno;
}

int wgb_udp_receive(int fd, void *const *buffers, size_t size, int count, size_t *lengths,
                    struct wgb_address *sources, uint16_t *segments) {
    if (count > WGB_MAX_BATCH) count = WGB_MAX_BATCH;
    struct mmsghdr messages[WGB_MAX_BATCH];
    struct iovec iov[WGB_MAX_BATCH];
    struct sockaddr_in6 addresses[WGB_MAX_BATCH];
    char control[WGB_MAX_BATCH][CMSG_SPACE(sizeof(uint16_t))];
    memset(messages, 0, sizeof(struct mmsghdr) * count);
    for (int i = 0; i < count; i++) {
        iov[i].iov_base = buffers[i];
        iov[i].iov_len = size;
        messages[i].msg_hdr.msg_iov = &iov[i];
        messages[i].msg_hdr.msg_iovlen = 1;
        messages[i].msg_hdr.msg_name = &addresses[i];
        messages[i].msg_hdr.msg_namelen = sizeof addresses[i];
        messages[i].msg_hdr.msg_control = control[i];
        messages[i].msg_hdr.msg_controllen = sizeof control[i];
    }
    int received;
    do {
        received = recvmmsg(fd, messages, count, MSG_DONTWAIT, NULL);
    } while (received < 0 && errno == EINTR);
    if (received < 0) return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -errno;
    for (int i = 0; i < received; i++) {
        lengths[i] = messages[i].msg_len;
        segments[i] = 0;
        if (addresses[i].sin6_family == AF_INET6) {
            memcpy(sources[i].bytes, &addresses[i].sin6_addr, 16);
            sources[i].port = ntohs(addresses[i].sin6_port);
        } else {
            struct sockaddr_in *v4 = (struct sockaddr_in *)&addresses[i];
            memset(sources[i].bytes, 0, 10);
            sources[i].bytes[10] = 0xff;
            sources[i].bytes[11] = 0xff;
            memcpy(sources[i].bytes + 12, &v4->sin_addr, 4);
            sources[i].port = ntohs(v4->sin_port);
        }
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&messages[i].msg_hdr); c; c = CMSG_NXTHDR(&messages[i].msg_hdr, c)) {
            if (c->cmsg_level == IPPROTO_UDP && c->cmsg_type == UDP_GRO) {
                int segment = 0;
                memcpy(&segment, CMSG_DATA(c), c->cmsg_len - CMSG_LEN(0) < sizeof segment ? c->cmsg_len - CMSG_LEN(0) : sizeof segment);
                segments[i] = (uint16_t)segment;
            }
        }
    }
    return received;
}

ssize_t wgb_udp_send(int fd, int ipv4_only, const struct iovec *iov, int iovcnt, const struct wgb_address *destination,
                     uint16_t segment) {
    struct sockaddr_in6 address;
    socklen_t length = to_sockaddr(destination, ipv4_only, &address);
    char control[CMSG_SPACE(sizeof(uint16_t))];
    struct msghdr message;
    memset(&message, 0, sizeof message);
    message.msg_name = &address;
    message.msg_namelen = length;
    message.msg_iov = (struct iovec *)iov;
    message.msg_iovlen = iovcnt;
    if (segment > 0) {
        memset(control, 0, sizeof control);
        message.msg_control = control;
        message.msg_controllen = sizeof control;
        struct cmsghdr *c = CMSG_FIRSTHDR(&message);
        c->cmsg_level = IPPROTO_UDP;
        c->cmsg_type = UDP_SEGMENT;
        c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
        memcpy(CMSG_DATA(c), &segment, sizeof segment);
    }
    ssize_t sent;
    int tries = 0;
    for (;;) {
        sent = sendmsg(fd, &message, 0);
        if (sent >= 0) break;
        if (errno == EINTR) continue;
        if ((errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) && ++tries <= 10 && wait_for_room(fd)) continue;
        break;
    }
    return sent < 0 ? -errno : sent;
}

int wgb_udp_send_each(int fd, int ipv4_only, const struct iovec *iov, const struct wgb_address *destinations, int count) {
    if (count > WGB_MAX_BATCH) count = WGB_MAX_BATCH;
    struct mmsghdr messages[WGB_MAX_BATCH];
    struct sockaddr_in6 addresses[WGB_MAX_BATCH];
    memset(messages, 0, sizeof(struct mmsghdr) * count);
    for (int i = 0; i < count; i++) {
        messages[i].msg_hdr.msg_namelen = to_sockaddr(&destinations[i], ipv4_only, &addresses[i]);
        messages[i].msg_hdr.msg_name = &addresses[i];
        messages[i].msg_hdr.msg_iov = (struct iovec *)&iov[i];
        messages[i].msg_hdr.msg_iovlen = 1;
    }
    int done = 0, tries = 0;
    while (done < count) {
        int sent = sendmmsg(fd, messages + done, count - done, 0);
        if (sent < 0) {
            if (errno == EINTR) continue;
            if ((errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) && ++tries <= 10 && wait_for_room(fd)) continue;
            return done > 0 ? done : -errno;
        }
        done += sent;
    }
    return done;
}
