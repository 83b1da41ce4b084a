#define _GNU_SOURCE
#include "cshims.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sched.h>
#include <pthread.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

int wgb_tun_open(const char *name, int offload, int *offloaded) {
    *offloaded = 0;
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0) return -errno;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI | (offload ? IFF_VNET_HDR : 0);
    strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        int saved = errno;
        close(fd);
        return -saved;
    }
    if (offload) {
        int size = 10;  // struct virtio_net_hdr, without num_buffers
        if (ioctl(fd, TUNSETVNETHDRSZ, &size) == 0 &&
            ioctl(fd, TUNSETOFFLOAD, (unsigned long)(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6)) == 0) {
            *offloaded = 1;
        } else {
            // No offloads: the header stays (IFF_VNET_HDR is fixed at attach) but always says "none".
            ioctl(fd, TUNSETOFFLOAD, (unsigned long)0);
        }
    }
    return fd;
}

/// An interface ioctl (SIOCGIFMTU, SIOCSIFMTU) through a throwaway socket; 0 or -errno.
static int interface_ioctl(const char *name, unsigned long request, struct ifreq *ifr) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    strncpy(ifr->ifr_name, name, IFNAMSIZ - 1);
    int rc = ioctl(fd, request, ifr) < 0 ? -errno : 0;
    close(fd);
    return rc;
}

int wgb_set_mtu(const char *name, int mtu) {
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_mtu = mtu;
    return interface_ioctl(name, SIOCSIFMTU, &ifr);
}

int wgb_get_mtu(const char *name) {
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    int rc = interface_ioctl(name, SIOCGIFMTU, &ifr);
    return rc < 0 ? rc : ifr.ifr_mtu;
}

void wgb_close_inherited(void) {
    if (syscall(SYS_close_range, 3U, ~0U, 0U) == 0) return;
    for (int fd = 3; fd < 65536; fd++) close(fd);
}

int wgb_pin_self(const int *cpus, int count) {
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int i = 0; i < count; i++) {
        if (cpus[i] >= 0 && cpus[i] < CPU_SETSIZE) CPU_SET(cpus[i], &set);
    }
    int rc = pthread_setaffinity_np(pthread_self(), sizeof set, &set);
    return -rc;
}

int wgb_allowed_cpus(void) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0) return 1;
    return CPU_COUNT(&set);
}

void wgb_name_self(const char *name) {
    char short_name[16];
    strncpy(short_name, name, 15);
    short_name[15] = 0;
    pthread_setname_np(pthread_self(), short_name);
}
