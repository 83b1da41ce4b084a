// The timers (whitepaper section 6, the kernel's timers.c), driven by the daemon calling `tick`.

extension Device {

    /// Called regularly (the daemon: every 100 ms) with the current time; sends what the timers
    /// ask for (whitepaper section 6): handshake retransmission with jitter until
    /// REKEY_ATTEMPT_TIME, then giving up and dropping what waited; the rekey traffic asked for
    /// (REKEY_AFTER_TIME or _MESSAGES); sessions dropped (and their keys wiped) after REJECT_AFTER_TIME;
    /// a keepalive when data came in and nothing went out for KEEPALIVE_TIMEOUT; persistent keepalives;
    /// a new handshake when data went out and nothing came back for KEEPALIVE_TIMEOUT + REKEY_TIMEOUT.
    public func tick(now: Double) -> DeviceOutput {
        locked {
            var output = DeviceOutput()
            expireLogLimit(now)
            for peer in peers {
                if peer.pending != nil, now - peer.pendingSince >= WireConstants.rekeyTimeout + peer.jitter {
                    if let first = peer.firstAttempt, now - first >= WireConstants.rekeyAttemptTime {
                        if let state = peer.pending { byIndex[state.localIndex] = nil }
                        peer.pending = nil  // with it the ephemeral private key
                        peer.queued = []
                        peer.firstAttempt = nil
                        logLimited(now, "\(peer.logName) - Handshake did not complete after \(Int(WireConstants.rekeyAttemptTime)) seconds, giving up")
                    } else {
                        logLimited(now, "\(peer.logName) - Handshake did not complete after \(Int(WireConstants.rekeyTimeout)) seconds, retrying")
                        initiate(peer, now: now, into: &output)
                    }
                }
                for keypair in [peer.previous, peer.current, peer.next].compactMap({ $0 })
                where now - keypair.created >= WireConstants.rejectAfterTime {
                    byIndex[keypair.localIndex] = nil
                    if peer.previous === keypair { peer.previous = nil } else if peer.current === keypair { peer.current = nil } else { peer.next = nil }
                }
                // Rekeying is asked for by traffic (sending past REKEY_AFTER_TIME or _MESSAGES,
                // receiving near REJECT_AFTER_TIME): an idle tunnel lets its session lapse.
                if peer.current != nil, peer.pending == nil, peer.wantsRekey {
                    initiate(peer, now: now, into: &output)
                }
                // The new-handshake timer: data went out and nothing authenticated came back for
                // KEEPALIVE_TIMEOUT + REKEY_TIMEOUT, so the other end has likely lost the session (it
                // restarted, say). Without this, data would go into the dead session until a rekey,
                // up to REJECT_AFTER_TIME later. The sticky source may be the trouble: it goes too.
                if now - peer.unansweredSince >= WireConstants.newHandshakeTimeout + peer.jitter {
                    peer.unansweredSince = .infinity
                    if peer.pending == nil, now - peer.lastHandshakeSent >= WireConstants.rekeyTimeout {
                        logLimited(now, "\(peer.logName) - Retrying handshake because we stopped hearing back after \(Int(WireConstants.newHandshakeTimeout)) seconds")
                        peer.endpoint = peer.endpoint?.withoutSource
                        initiate(peer, now: now, into: &output)
                    }
                }
                if peer.current != nil {
                    let passive = peer.lastDataReceived > peer.lastSent && now - peer.lastDataReceived >= WireConstants.keepaliveTimeout
                    let persistent = peer.persistentKeepalive > 0 && now - peer.lastSent >= Double(peer.persistentKeepalive)
                    if passive || persistent { sendLocked([], to: peer, now: now, into: &output) }
                } else if peer.persistentKeepalive > 0, peer.pending == nil, now - peer.lastHandshakeSent >= WireConstants.rekeyTimeout {
                    initiate(peer, now: now, into: &output)
                }
            }
            return output
        }
    }
}
