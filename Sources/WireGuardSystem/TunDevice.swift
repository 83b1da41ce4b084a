import CShims
import Glibc
import WireGuard

// The system side of the datapath: a TUN device, a UDP socket and the UAPI listener, each a
// thin wrapper over the system calls (retry on EINTR, errors as values).

public struct SystemError: Error, CustomStringConvertible {
    public let call: String
    public let code: Int32
    public var description: String { "\(call): \(String(cString: strerror(code)))" }
}

/// A TUN interface: reads and writes whole IP packets.
public final class TunDevice {
    public let name: String
    public let fd: Int32

    /// `wgb_tun_open` (open(2) of /dev/net/tun + ioctl(TUNSETIFF)).
    public init(name: String) throws {
        let fd = wgb_tun_open(name)
        guard fd >= 0 else { throw SystemError(call: "TUNSETIFF \(name)", code: -fd) }
        self.name = name
        self.fd = fd
    }

    deinit { close(fd) }

    /// read(2) of one packet; nil when the interface is gone.
    public func read(into buffer: inout [UInt8]) -> Int? {
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count >= 0 { return count }
            if errno == EINTR || errno == EAGAIN { continue }
            return nil
        }
    }

    /// write(2) of one packet; false when it could not be written (dropped by the caller).
    @discardableResult
    public func write(_ packet: [UInt8]) -> Bool {
        packet.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) } == packet.count
    }
}

/// A UDP socket bound to a port on all IPv4 addresses.
public final class UDPSocket {
    public let fd: Int32

    /// socket(2) + bind(2).
    public init(port: UInt16) throws {
        fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemError(call: "socket", code: errno) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            let code = errno
            close(fd)
            throw SystemError(call: "bind UDP port \(port)", code: code)
        }
    }

    deinit { close(fd) }

    /// recvfrom(2): the payload length and its IPv4 source.
    public func receive(into buffer: inout [UInt8]) -> (Int, Endpoint)? {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        while true {
            let count = buffer.withUnsafeMutableBytes { raw in
                withUnsafeMutablePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, raw.baseAddress, raw.count, 0, $0, &length) }
                }
            }
            if count >= 0 {
                let ip = withUnsafeBytes(of: address.sin_addr) { Array($0) }
                let port = UInt16(bigEndian: address.sin_port)
                guard let endpoint = Endpoint("\(ip[0]).\(ip[1]).\(ip[2]).\(ip[3]):\(port)") else { return nil }
                return (count, endpoint)
            }
            if errno == EINTR { continue }
            return nil
        }
    }

    /// sendto(2); IPv4 endpoints only for now.
    @discardableResult
    public func send(_ payload: [UInt8], to endpoint: Endpoint) -> Bool {
        guard endpoint.address.count == 4 else { return false }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = endpoint.port.bigEndian
        withUnsafeMutableBytes(of: &address.sin_addr) { $0.copyBytes(from: endpoint.address) }
        let sent = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fd, payload, payload.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        return sent == payload.count
    }
}
