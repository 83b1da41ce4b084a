// Configuration through the UAPI (`wg set`/`wg show`): the device's peers, their allowed IPs and
// the local identity follow the configuration; sessions of a peer that goes, or of an identity
// that changes, end with it (the kernel's netlink.c, wireguard-go's uapi.go).

import WireGuardCrypto

extension Device {
    /// Answers a UAPI request. The text is read before the lock is taken and a get's answer
    /// written after it is let go: a request of thousands of lines holds up no packet.
    public func handleUAPI(_ request: String) -> String {
        let parsed = UAPI.parse(request)
        var removedNone = Set<[UInt8]>()
        guard case .set = parsed else {
            var snapshot = locked { syncCountersLocked() }
            return UAPI.answer(parsed, configuration: &snapshot, removed: &removedNone)
        }
        return locked {
            syncCountersLocked()
            let oldKey = configuration.privateKey
            let old = peers
            var removed = Set<[UInt8]>()
            let response = UAPI.answer(parsed, configuration: &configuration, removed: &removed)
            if configuration.privateKey != oldKey {
                identity = configuration.privateKey.map { StaticKeys(privateKey: $0) }
                cookieChecker = identity.map { CookieChecker(keys: $0.macKeys) }
                for peer in peers {
                    forgetSessions(of: peer)  // sessions of the old identity end with it
                    peer.identityChanged(to: identity)
                }
            }
            // A peer the request removed is a new peer even if added back: nothing of its sessions,
            // handshakes or timers carries over (as with the kernel's and wireguard-go's removal).
            let existing = Dictionary(old.filter { !removed.contains($0.publicKey) }.map { ($0.publicKey, $0) },
                                      uniquingKeysWith: { first, _ in first })
            peers = configuration.peers.map { config in
                let peer = existing[config.publicKey] ?? newPeer(config)
                peer.apply(config)
                return peer
            }
            let kept = Set(peers.map(ObjectIdentifier.init))
            for peer in old where !kept.contains(ObjectIdentifier(peer)) { forgetSessions(of: peer) }
            peerRefs = peers.map { Unmanaged.passUnretained($0) }
            allowedIPs = AllowedIPs()
            for (position, config) in configuration.peers.enumerated() {
                for prefix in config.allowedIPs { allowedIPs.insert(prefix, peer: position) }
            }
            return response
        }
    }

    /// The configuration with the peers' endpoints and counters as the datapath has them now.
    @discardableResult
    private func syncCountersLocked() -> DeviceConfiguration {
        for (index, peer) in zip(configuration.peers.indices, peers) {
            configuration.peers[index].endpoint = peer.endpoint
            configuration.peers[index].txBytes = peer.txBytes
            configuration.peers[index].rxBytes = peer.rxBytes
            configuration.peers[index].lastHandshake = peer.lastHandshake
        }
        return configuration
    }

    private func newPeer(_ config: PeerConfiguration) -> Peer {
        defer { nextPeerID += 1 }
        return Peer(config, id: nextPeerID, local: identity)
    }

    private func forgetSessions(of peer: Peer) {
        byIndex = byIndex.filter { $0.value.toOpaque() != Unmanaged.passUnretained(peer).toOpaque() }
        peer.current = nil
        peer.previous = nil
        peer.next = nil
        peer.pending = nil
        peer.queued = []
    }
}
