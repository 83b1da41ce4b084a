// Small C functions for what Swift cannot import: ioctl requests with struct ifreq, control
// messages (CMSG_* macros) for UDP segmentation offloads, and CPU sets (CPU_SET macros).
#ifndef WGB_CSHIMS_H
#define WGB_CSHIMS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

/// Opens /dev/net/tun and attaches a TUN interface (IFF_TUN | IFF_NO_PI) named `name`. With
/// `offload`, also asks for IFF_VNET_HDR and TSO (TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6), and sets
/// *offloaded to 1 when the kernel took them (0: plain packets, the fallback).
/// Returns the descriptor, or -errno.
int wgb_tun_open(const char *name, int offload, int *offloaded);

/// Sets an interface's MTU (SIOCSIFMTU). Returns 0 or -errno.
int wgb_set_mtu(const char *name, int mtu);
/// An interface's MTU (SIOCGIFMTU), or -errno.
int wgb_get_mtu(const char *name);

/// Closes every descriptor from 3 up (close_range(2), or one by one where it is missing): a
/// daemon must not hold its starter's pipes open.
void wgb_close_inherited(void);

/// Pins the calling thread to `count` CPUs. Returns 0 or -errno.
int wgb_pin_self(const int *cpus, int count);

/// Names the calling thread (at most 15 characters are kept), for top -H and perf.
void wgb_name_self(const char *name);

/// The number of CPUs this process may run on.
int wgb_allowed_cpus(void);

/// A datagram's source or destination: an IPv6 address, v4-mapped for IPv4 (also on IPv4-only
/// sockets, where the send functions take `ipv4_only` = 1). `source`: the local address of our end
/// (received: the address the datagram came to; sent: the address to send from), in the same
/// form; all zero: none (routing chooses).
struct wgb_address {
    uint8_t bytes[16];
    uint8_t source[16];
    uint16_t port;
};

/// Asks for each received datagram's local address (IP_PKTINFO, and IPV6_RECVPKTINFO unless
/// `ipv4_only`). Returns 0 or -errno.
int wgb_udp_enable_pktinfo(int fd, int ipv4_only);

/// Turns on UDP GRO on the socket (UDP_GRO); 0, or -errno where the kernel lacks it.
int wgb_udp_enable_gro(int fd);

/// recvmmsg(2) of up to `count` datagrams into buffers[i] (capacity `size` each), non-blocking.
/// For each: lengths[i], sources[i], and segments[i], the GRO segment size (0: one datagram).
/// Returns how many, 0 when none is waiting, or -errno.
int wgb_udp_receive(int fd, void *const *buffers, size_t size, int count, size_t *lengths,
                    struct wgb_address *sources, uint16_t *segments);

/// sendmsg(2) of the concatenated `iov` to `destination`; with `segment` > 0 as one UDP GSO send
/// (UDP_SEGMENT: the kernel cuts it into datagrams of `segment` bytes). Returns bytes or -errno.
ssize_t wgb_udp_send(int fd, int ipv4_only, const struct iovec *iov, int iovcnt, const struct wgb_address *destination,
                     uint16_t segment);

/// sendmmsg(2) of `count` datagrams, one iovec each. Returns how many were sent: one the kernel
/// refuses (no route, too big) is skipped and the others still go. Both send functions send from
/// each destination's `source`, and again without it where that is refused (the address is gone).
int wgb_udp_send_each(int fd, int ipv4_only, const struct iovec *iov, const struct wgb_address *destinations, int count);

#endif
