// libsodium for Swift. Only the wrapper files in Sources/WireGuardCrypto and Sources/WGBenchSodium use it.
#ifndef WGB_CSODIUM_SHIM_H
#define WGB_CSODIUM_SHIM_H
#include <sodium.h>
#endif
