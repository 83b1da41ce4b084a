import WireGuardSwiftCLI

// The daemon's entry point; the command (flags, start-up, signals) is WireGuardSwiftCLI's.
WireGuardSwift.main()
