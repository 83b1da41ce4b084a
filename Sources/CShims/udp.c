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

static int has_source(const struct wgb_address *address) {
    static const uint8_t none[16];
    return memcmp(address->source, none, 16) != 0;
}

/// Room for one source-address control message, either family.
#define SOURCE_CONTROL_SPACE CMSG_SPACE(sizeof(struct in6_pktinfo))

/// Writes the control message that sends from `address->source` at `c`; returns its space, 0 if
/// there is no source. IPv4-only sockets take IP_PKTINFO; dual-stack ones IPV6_PKTINFO, whose
/// v4-mapped form the kernel also takes for IPv4 destinations. The interface is left to routing.
static size_t write_source(struct cmsghdr *c, const struct wgb_address *address, int ipv4_only) {
    if (!has_source(address)) return 0;
    if (ipv4_only) {
        struct in_pktinfo info;
        memset(&info, 0, sizeof info);
        memcpy(&info.ipi_spec_dst, address->source + 12, 4);
        c->cmsg_level = IPPROTO_IP;
        c->cmsg_type = IP_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof info);
        memcpy(CMSG_DATA(c), &info, sizeof info);
        return CMSG_SPACE(sizeof info);
    }
    struct in6_pktinfo info;
    memset(&info, 0, sizeof info);
    memcpy(&info.ipi6_addr, address->source, 16);
    c->cmsg_level = IPPROTO_IPV6;
    c->cmsg_type = IPV6_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof info);
    memcpy(CMSG_DATA(c), &info, sizeof info);
    return CMSG_SPACE(sizeof info);
}

int wgb_udp_enable_pktinfo(int fd, int ipv4_only) {
    int one = 1;
    if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one) != 0) return -errno;
    if (!ipv4_only && setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one) != 0) return -errno;
    return 0;
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
    char control[WGB_MAX_BATCH][CMSG_SPACE(sizeof(int)) + CMSG_SPACE(sizeof(struct in_pktinfo)) + SOURCE_CONTROL_SPACE]
        __attribute__((aligned(8)));
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
        memset(sources[i].source, 0, 16);
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&messages[i].msg_hdr); c; c = CMSG_NXTHDR(&messages[i].msg_hdr, c)) {
            if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
                struct in_pktinfo info;
                memcpy(&info, CMSG_DATA(c), sizeof info);
                memset(sources[i].source, 0, 10);
                sources[i].source[10] = 0xff;
                sources[i].source[11] = 0xff;
                memcpy(sources[i].source + 12, &info.ipi_spec_dst, 4);  // the local address a reply leaves from
            } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
                struct in6_pktinfo info;
                memcpy(&info, CMSG_DATA(c), sizeof info);
                if (sources[i].source[11] != 0xff) memcpy(sources[i].source, &info.ipi6_addr, 16);  // IP_PKTINFO's, if any, first
            } else if (c->cmsg_level == IPPROTO_UDP && c->cmsg_type == UDP_GRO) {
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
    char control[CMSG_SPACE(sizeof(uint16_t)) + SOURCE_CONTROL_SPACE] __attribute__((aligned(8)));
    memset(control, 0, sizeof control);
    struct msghdr message;
    memset(&message, 0, sizeof message);
    message.msg_name = &address;
    message.msg_namelen = length;
    message.msg_iov = (struct iovec *)iov;
    message.msg_iovlen = iovcnt;
    size_t used = 0, gso = 0;
    if (segment > 0) {
        struct cmsghdr *c = (struct cmsghdr *)control;
        c->cmsg_level = IPPROTO_UDP;
        c->cmsg_type = UDP_SEGMENT;
        c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
        memcpy(CMSG_DATA(c), &segment, sizeof segment);
        gso = used = CMSG_SPACE(sizeof(uint16_t));
    }
    used += write_source((struct cmsghdr *)(control + used), destination, ipv4_only);
    message.msg_control = used ? control : NULL;
    message.msg_controllen = used;
    ssize_t sent;
    int tries = 0;
    for (;;) {
        sent = sendmsg(fd, &message, 0);
        if (sent >= 0) break;
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
            if (++tries <= 10 && wait_for_room(fd)) continue;
            break;
        }
        if (message.msg_controllen > gso) {
            // Refused with a source address (EINVAL, or ENETUNREACH for a v4-mapped one, when the
            // address is gone from the host): send from whatever routing chooses, as the kernel
            // falls back; the peer's next datagram brings the address it now reaches.
            message.msg_controllen = gso;
            if (!gso) message.msg_control = NULL;
            continue;
        }
        break;
    }
    return sent < 0 ? -errno : sent;
}

int wgb_udp_send_each(int fd, int ipv4_only, const struct iovec *iov, const struct wgb_address *destinations, int count) {
    if (count > WGB_MAX_BATCH) count = WGB_MAX_BATCH;
    struct mmsghdr messages[WGB_MAX_BATCH];
    struct sockaddr_in6 addresses[WGB_MAX_BATCH];
    char control[WGB_MAX_BATCH][SOURCE_CONTROL_SPACE] __attribute__((aligned(8)));
    memset(messages, 0, sizeof(struct mmsghdr) * count);
    for (int i = 0; i < count; i++) {
        messages[i].msg_hdr.msg_namelen = to_sockaddr(&destinations[i], ipv4_only, &addresses[i]);
        messages[i].msg_hdr.msg_name = &addresses[i];
        messages[i].msg_hdr.msg_iov = (struct iovec *)&iov[i];
        messages[i].msg_hdr.msg_iovlen = 1;
        memset(control[i], 0, sizeof control[i]);
        size_t used = write_source((struct cmsghdr *)control[i], &destinations[i], ipv4_only);
        messages[i].msg_hdr.msg_control = used ? control[i] : NULL;
        messages[i].msg_hdr.msg_controllen = used;
    }
    int done = 0, sent_total = 0, tries = 0;
    while (done < count) {
        int sent = sendmmsg(fd, messages + done, count - done, 0);
        if (sent < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
                if (++tries <= 10 && wait_for_room(fd)) continue;
                break;  // no room for a while: the rest are dropped
            }
            if (messages[done].msg_hdr.msg_controllen > 0) {
                // Refused with a source address: again without it (see wgb_udp_send).
                messages[done].msg_hdr.msg_control = NULL;
                messages[done].msg_hdr.msg_controllen = 0;
                continue;
            }
            done += 1;  // this datagram is refused (no route, too big): the others still go
            continue;
        }
        done += sent;
        sent_total += sent;
    }
    return sent_total;
}
