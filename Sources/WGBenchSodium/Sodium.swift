import CSodium

/// libsodium's one-time initialisation (sodium_init), which must precede its other calls.
enum Sodium {
    private static let initialised: Bool = sodium_init() >= 0

    static func ready() {
        precondition(initialised, "libsodium failed to initialise")
    }
}
