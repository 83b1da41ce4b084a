// OpenSSL 3's libcrypto for Swift: its EVP interface to ChaCha20-Poly1305, the datapath's bulk
// AEAD. Only Sources/WireGuardCrypto/ChaCha20Poly1305.swift uses it.
#ifndef WGB_CLIBCRYPTO_SHIM_H
#define WGB_CLIBCRYPTO_SHIM_H
#include <openssl/evp.h>
#endif
