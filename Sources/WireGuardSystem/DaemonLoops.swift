// The daemon's loops around an engine: reading the TUN device and the UDP socket in batches,
// running the device's timers every 100 ms and following the configured listen port. The inline
// engine's one thread does all of it (the paper's run to completion); the parallel engine has a
// reading thread per direction and the calling thread runs the timers. Both end when `stopping`
// says so (checked at least every 200 ms), when the TUN interface goes, or when reading it fails
// (wireguard-go closes the device then too), with the failure.
// Over the I/O protocols of DeviceIO.swift: the same loops run over real devices and over fakes.

import CShims
import Foundation
import Glibc
import WireGuard

public final class DaemonLoops: @unchecked Sendable {
    public enum End: Equatable, Sendable {
        /// `stopping` said so.
        case stopped
        /// The TUN interface was deleted.
        case interfaceGone
        /// Reading the TUN device failed otherwise (not "nothing waiting").
        case tunReadFailed(SystemError)
    }

    private let device: Device
    private let tun: TunnelInterface
    private let udp: SocketSlot
    private let now: @Sendable () -> Double
    private let stopping: @Sendable () -> Bool
    private let everyTick: @Sendable (Double) -> Void

    /// `now`: the device's clock (seconds, monotonic). `everyTick`: called after each run of the
    /// timers, on the thread that runs them (the daemon writes its stats file there).
    public init(device: Device, tun: TunnelInterface, udp: SocketSlot, now: @escaping @Sendable () -> Double,
                stopping: @escaping @Sendable () -> Bool, everyTick: @escaping @Sendable (Double) -> Void = { _ in }) {
        self.device = device
        self.tun = tun
        self.udp = udp
        self.now = now
        self.stopping = stopping
        self.everyTick = everyTick
    }

    /// Binds the configured listen port and sets the fwmark if they changed, follows the
    /// interface's MTU (it caps padding), and runs the timers.
    private func tick(_ time: Double) {
        udp.follow(device)
        device.mtu = tun.mtu
        device.tick(now: time).deliver(tun: tun, udp: udp)
        everyTick(time)
    }

    /// One thread does everything: poll both descriptors, read a batch, seal or open it, deliver it.
    /// The engine (its handshake thread) is stopped before this returns.
    public func runInline(_ engine: InlineEngine) -> End {
        defer { engine.stop() }
        var lastTick = -Double.infinity
        udp.follow(device)  // then every tick (and the daemon's UAPI handler at once)
        while !stopping() {
            let socket = udp.current
            var descriptors = (pollfd(fd: tun.fd, events: Int16(POLLIN), revents: 0),
                               pollfd(fd: socket?.fd ?? -1, events: Int16(POLLIN), revents: 0))
            // What the TUN device or the socket holds back of what they read is ready now: do not wait.
            let pending = tun.hasPending || socket?.hasPending == true
            var ready = withUnsafeMutableBytes(of: &descriptors) { raw in
                retryingEINTR { poll(raw.baseAddress!.assumingMemoryBound(to: pollfd.self), 2, pending ? 0 : 100) }
            }
            if pending {
                if tun.hasPending { descriptors.0.revents |= Int16(POLLIN) }
                if socket?.hasPending == true { descriptors.1.revents |= Int16(POLLIN) }
                ready = max(ready, 1)
            }
            let time = now()
            if time - lastTick >= 0.1 {
                lastTick = time
                tick(time)
            }
            guard ready > 0 else { continue }
            if descriptors.0.revents & Int16(POLLERR | POLLHUP | POLLNVAL) != 0 { return .interfaceGone }
            if descriptors.0.revents & Int16(POLLIN) != 0 {
                for _ in 0..<4 {  // a few batches, then the other direction gets its turn
                    let (read, full) = engine.outbound(now: time) { batch in
                        (Result { () throws(SystemError) in try tun.read(into: batch) }, batch.count == batch.capacity)
                    }
                    let result: TunReadResult
                    switch read {
                    case .success(let value): result = value
                    case .failure(let error): return .tunReadFailed(error)
                    }
                    if result == .closed { return .interfaceGone }
                    if result == .empty || !full { break }
                }
            }
            if let socket, descriptors.1.revents & Int16(POLLIN) != 0 {
                for _ in 0..<4 {
                    let (received, full) = engine.inbound(now: time) { batch in (udp.receive(from: socket, into: batch), batch.count == batch.capacity) }
                    if !received || !full { break }
                }
            }
        }
        return .stopped
    }

    /// A reader thread per direction hands batches to the engine's workers; this thread runs the
    /// timers and follows the listen port. The engine is stopped before this returns.
    public func runParallel(_ engine: ParallelEngine) -> End {
        let tunClosed = StopFlag()
        let tunFailure = ReadFailure()
        let done: @Sendable () -> Bool = { [stopping] in stopping() || tunClosed.isSet }
        let tunReader = PinnedThread(name: "wg-tun-read") { [tun, now] in
            while !done() {
                if !tun.hasPending {
                    var descriptor = pollfd(fd: tun.fd, events: Int16(POLLIN), revents: 0)
                    guard retryingEINTR({ poll(&descriptor, 1, 200) }) > 0 else { continue }
                    if descriptor.revents & Int16(POLLERR | POLLHUP | POLLNVAL) != 0 { tunClosed.set(); return }
                }
                // An empty batch goes back to the pool.
                let read = engine.outbound(now: now()) { batch in Result { () throws(SystemError) in try tun.read(into: batch) } }
                switch read {
                case .success(.closed): tunClosed.set(); return
                case .success: break
                case .failure(let error):
                    tunFailure.error = error
                    tunClosed.set()
                    return
                }
            }
        }
        let udpReader = PinnedThread(name: "wg-udp-read") { [udp, now] in
            while !done() {
                guard let socket = udp.current else { usleep(50_000); continue }
                if !socket.hasPending {
                    var descriptor = pollfd(fd: socket.fd, events: Int16(POLLIN), revents: 0)
                    guard retryingEINTR({ poll(&descriptor, 1, 200) }) > 0 else { continue }
                }
                _ = engine.inbound(now: now()) { udp.receive(from: socket, into: $0) }
            }
        }
        while !done() {
            tick(now())
            usleep(100_000)
        }
        tunReader.join()
        udpReader.join()
        engine.stop()
        if let failure = tunFailure.error { return .tunReadFailed(failure) }
        return tunClosed.isSet ? .interfaceGone : .stopped
    }
}

/// The TUN reader's failure: written by the reader thread before it ends, read after it was joined.
private final class ReadFailure: @unchecked Sendable {
    var error: SystemError?
}
