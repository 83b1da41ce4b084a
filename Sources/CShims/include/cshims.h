// Small C functions for what Swift cannot import (ioctl requests with struct ifreq).
#ifndef WGB_CSHIMS_H
#define WGB_CSHIMS_H

/// Opens /dev/net/tun and attaches a TUN interface (IFF_TUN | IFF_NO_PI) named `name`.
/// Returns the descriptor, or -errno.
int wgb_tun_open(const char *name);

#endif
