// libssh2 for Swift: the library header plus static inline wrappers for the
// function-like macros Swift cannot import. Only Sources/WGBenchRemote/LibSSH2.swift uses it.
#ifndef WGB_CLIBSSH2_SHIM_H
#define WGB_CLIBSSH2_SHIM_H

#include <libssh2.h>

static inline LIBSSH2_SESSION *wgb_ssh2_session_init(void) {
    return libssh2_session_init_ex(NULL, NULL, NULL, NULL);
}

static inline LIBSSH2_CHANNEL *wgb_ssh2_channel_open_session(LIBSSH2_SESSION *s) {
    return libssh2_channel_open_ex(s, "session", sizeof("session") - 1,
                                   LIBSSH2_CHANNEL_WINDOW_DEFAULT,
                                   LIBSSH2_CHANNEL_PACKET_DEFAULT, NULL, 0);
}

static inline int wgb_ssh2_channel_exec(LIBSSH2_CHANNEL *c, const char *command, unsigned int len) {
    return libssh2_channel_process_startup(c, "exec", sizeof("exec") - 1, command, len);
}

static inline ssize_t wgb_ssh2_channel_read(LIBSSH2_CHANNEL *c, int stream, char *buf, size_t len) {
    return libssh2_channel_read_ex(c, stream, buf, len);
}

static inline ssize_t wgb_ssh2_channel_write(LIBSSH2_CHANNEL *c, const char *buf, size_t len) {
    return libssh2_channel_write_ex(c, 0, buf, len);
}

static inline int wgb_ssh2_session_disconnect(LIBSSH2_SESSION *s, const char *why) {
    return libssh2_session_disconnect_ex(s, SSH_DISCONNECT_BY_APPLICATION, why, "");
}

static inline int wgb_ssh2_userauth_publickey_fromfile(LIBSSH2_SESSION *s, const char *user,
                                                       unsigned int userLen,
                                                       const char *publicKey,
                                                       const char *privateKey) {
    return libssh2_userauth_publickey_fromfile_ex(s, user, userLen, publicKey, privateKey, NULL);
}

static inline int wgb_ssh2_knownhost_readfile(LIBSSH2_KNOWNHOSTS *h, const char *path) {
    return libssh2_knownhost_readfile(h, path, LIBSSH2_KNOWNHOST_FILE_OPENSSH);
}

/// Maps a session host key type to the known-hosts key type bits; 0 if unknown.
static inline int wgb_ssh2_knownhost_keytype(int hostkeyType) {
    switch (hostkeyType) {
    case LIBSSH2_HOSTKEY_TYPE_RSA: return LIBSSH2_KNOWNHOST_KEY_SSHRSA;
    case LIBSSH2_HOSTKEY_TYPE_DSS: return LIBSSH2_KNOWNHOST_KEY_SSHDSS;
#ifdef LIBSSH2_HOSTKEY_TYPE_ECDSA_256
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_256: return LIBSSH2_KNOWNHOST_KEY_ECDSA_256;
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_384: return LIBSSH2_KNOWNHOST_KEY_ECDSA_384;
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_521: return LIBSSH2_KNOWNHOST_KEY_ECDSA_521;
#endif
#ifdef LIBSSH2_HOSTKEY_TYPE_ED25519
    case LIBSSH2_HOSTKEY_TYPE_ED25519: return LIBSSH2_KNOWNHOST_KEY_ED25519;
#endif
    default: return 0;
    }
}

static inline int wgb_ssh2_knownhost_typemask(int keyType) {
    return LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | keyType;
}

/// A mask with no key type: libssh2 then compares the key with the host's entries of every type.
static inline int wgb_ssh2_knownhost_anytype_mask(void) {
    return LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW;
}

#endif
