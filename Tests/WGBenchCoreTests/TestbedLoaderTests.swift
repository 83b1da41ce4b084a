import Foundation
import Testing
@testable import WGBenchCore

/// A valid local testbed in block style, one key per line, so tests can corrupt single lines.
let validLocalTestbed = """
name: t
local:
  prefix: wgbt
  state_dir: /run/wgbench/t
  management: 198.18.251.1/24
ssh:
  user: root
  host_key_checking: strict
  connect_timeout: 2s
  command_timeout: 30s
hosts:
  source:
    ssh:
      address: 198.18.251.11
    interfaces:
      ingress:
        name: eth1
        address: 198.18.1.2/24
  gw1:
    ssh:
      address: 198.18.251.12
    interfaces:
      ingress:
        name: eth1
        address: 198.18.1.1/24
      underlay:
        name: eth2
        address: 198.18.2.1/24
  gw2:
    ssh:
      address: 198.18.251.13
    interfaces:
      underlay:
        name: eth2
        address: 198.18.2.2/24
      egress:
        name: eth1
        address: 198.18.3.1/24
  drain:
    ssh:
      address: 198.18.251.14
    interfaces:
      egress:
        name: eth1
        address: 198.18.3.2/24

"""

struct TestbedLoaderTests {
    func parse(_ yaml: String) throws -> Testbed {
        try TestbedLoader.parse(yaml: yaml, file: "t.yaml", home: "/home/u")
    }

    func error(_ yaml: String) -> SpecError? {
        do {
            _ = try parse(yaml)
            return nil
        } catch let error as SpecError {
            return error
        } catch {
            Issue.record("unexpected error type: \(error)")
            return nil
        }
    }

    @Test func validLocalTestbedLoads() throws {
        let testbed = try parse(validLocalTestbed)
        #expect(testbed.name.rawValue == "t")
        #expect(testbed.local?.prefix.rawValue == "wgbt")
        #expect(testbed.host(.gw1).interface(.underlay).name.rawValue == "eth2")
        #expect(testbed.host(.drain).ssh.address.rawValue == "198.18.251.14")
        // A local testbed keeps its key and known_hosts in its state directory.
        #expect(testbed.host(.source).ssh.identity.rawValue == "/run/wgbench/t/id_ed25519")
        #expect(testbed.knownHosts.rawValue == "/run/wgbench/t/known_hosts")
        #expect(testbed.host(.source).ssh.connectTimeout.milliseconds == 2000)
        #expect(testbed.hostKeyPolicy == .strict)
    }

    @Test func everyShippedTestbedLoads() throws {
        let directory = Fixture.repositoryRoot.appendingPathComponent("testbeds")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".yaml") }
        #expect(files.contains("local.yaml"))
        for file in files {
            _ = try TestbedLoader.load(path: directory.appendingPathComponent(file).path, home: "/home/u")
        }
    }

    /// Every scalar of the file, replaced in turn by shell syntax, is refused with an error that
    /// names that key and its line.
    @Test func shellMetacharactersInAnyFieldAreRefusedByName() throws {
        let lines = validLocalTestbed.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var checked = 0
        for (index, line) in lines.enumerated() {
            guard let colon = line.firstIndex(of: ":"), !line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces).isEmpty
            else { continue }
            let key = line[..<colon].trimmingCharacters(in: .whitespaces)
            for hostile in ["\"x; touch /tmp/wgb-pwned\"", "\"$(id)\"", "\"`id`\"", "\"a|b\""] {
                var corrupted = lines
                corrupted[index] = String(line[...colon]) + " " + hostile
                let found = error(corrupted.joined(separator: "\n"))
                #expect(found != nil, "line \(index + 1) (\(key)) accepted \(hostile)")
                #expect(found?.keyPath.hasSuffix(key) == true, "error \(String(describing: found)) does not name \(key)")
                #expect(found?.line == index + 1, "error \(String(describing: found)) is not on line \(index + 1)")
            }
            checked += 1
        }
        #expect(checked == 24)  // 8 settings, 4 SSH addresses, 6 interfaces x (name, address)
        #expect(!FileManager.default.fileExists(atPath: "/tmp/wgb-pwned"))
    }

    @Test func unknownKeyNamesFileLineAndKey() {
        let yaml = validLocalTestbed.replacingOccurrences(of: "  connect_timeout: 2s", with: "  connect_timout: 2s")
        let found = error(yaml)
        #expect(found?.file == "t.yaml")
        #expect(found?.line == 9)
        #expect(found?.keyPath == "ssh.connect_timout")
        #expect(found?.description.hasPrefix("t.yaml:9:3: ssh.connect_timout: unknown key 'connect_timout'") == true)
    }

    @Test func uploadsAreTheBuildOrAFileAndNotAlsoATool() throws {
        let build = try TestbedLoader.parse(yaml: validLocalTestbed + "upload:\n  wireguard-swift: build\n", file: "t.yaml")
        #expect(build.uploads["wireguard-swift"] == .build && build.tools.isEmpty)
        let file = try TestbedLoader.parse(yaml: validLocalTestbed + "upload:\n  wireguard-swift: ~/wgs\n", file: "t.yaml", home: "/home/x")
        #expect(file.uploads["wireguard-swift"] == .file(FilePath(absolute: "/home/x/wgs")))
        let both = validLocalTestbed + "tools:\n  wireguard-swift: /opt/wgs\nupload:\n  wireguard-swift: build\n"
        #expect(error(both)?.keyPath == "upload.wireguard-swift")
        #expect(error(validLocalTestbed + "upload:\n  wireguard-go: build\n")?.keyPath == "upload.wireguard-go")
        #expect(error(validLocalTestbed + "upload:\n  wireguard-swift: relative/path\n")?.keyPath == "upload.wireguard-swift")
    }

    @Test func missingHostIsNamed() {
        let cut = validLocalTestbed.components(separatedBy: "  drain:")[0]
        #expect(error(cut)?.keyPath == "hosts.drain")
    }

    @Test func missingInterfaceIsNamed() {
        let yaml = validLocalTestbed.replacingOccurrences(of: """
              underlay:
                name: eth2
                address: 198.18.2.1/24

        """, with: "")
        #expect(error(yaml)?.keyPath == "hosts.gw1.interfaces.underlay")
    }

    @Test func interfaceOnAForeignLinkIsRefused() {
        let yaml = validLocalTestbed.replacingOccurrences(of: "      egress:\n        name: eth1\n        address: 198.18.3.2/24",
                                                          with: "      underlay:\n        name: eth1\n        address: 198.18.3.2/24")
        let found = error(yaml)
        #expect(found?.keyPath == "hosts.drain.interfaces.underlay")
        #expect(found?.message.contains("not a link of drain") == true)
    }

    @Test func unknownRoleIsRefused() {
        let yaml = validLocalTestbed.replacingOccurrences(of: "  drain:", with: "  sink:")
        #expect(error(yaml)?.keyPath == "hosts.sink")
    }

    @Test func linkEndsMustShareANetwork() {
        let yaml = validLocalTestbed.replacingOccurrences(of: "address: 198.18.3.2/24", with: "address: 198.18.4.2/24")
        let found = error(yaml)
        #expect(found?.keyPath == "hosts.drain.interfaces.egress.address")
        let line = validLocalTestbed.split(separator: "\n", omittingEmptySubsequences: false)
            .firstIndex { $0.contains("198.18.3.2/24") }.map { $0 + 1 }
        #expect(found?.line == line)
    }

    @Test func localAddressesStayInTheBenchmarkingRange() {
        let data = validLocalTestbed.replacingOccurrences(of: "198.18.1.", with: "10.1.1.")
        #expect(error(data)?.message.contains("outside 198.18.0.0/15") == true)
        let management = validLocalTestbed.replacingOccurrences(of: "198.18.251.", with: "192.168.251.")
        #expect(error(management)?.keyPath == "local.management")
    }

    @Test func sshAddressMustBeOnTheManagementNetwork() {
        let yaml = validLocalTestbed.replacingOccurrences(of: "address: 198.18.251.13", with: "address: 198.18.252.13")
        #expect(error(yaml)?.keyPath == "hosts.gw2.ssh.address")
    }

    @Test func duplicateSSHAddressIsRefused() {
        let yaml = validLocalTestbed.replacingOccurrences(of: "address: 198.18.251.13", with: "address: 198.18.251.12")
        #expect(error(yaml)?.message.contains("also gw1's address") == true)
    }

    @Test func invalidYAMLIsLocated() {
        let found = error("name: t\nhosts: [unclosed\n")
        #expect(found?.message.hasPrefix("not valid YAML") == true)
        #expect(found?.line ?? 0 >= 2)
    }

    @Test func wrongShapeIsExplained() {
        #expect(error("- a\n- b\n")?.message.hasPrefix("expected a mapping") == true)
        #expect(error("")?.message == "the file is empty")
        let yaml = validLocalTestbed.replacingOccurrences(of: "  user: root", with: "  user: [root]")
        #expect(error(yaml)?.message == "expected a single value, found a list")
    }

    @Test func realMachinesNeedAnIdentity() {
        let lines = validLocalTestbed.split(separator: "\n", omittingEmptySubsequences: false)
        let remote = String(lines[0]) + "\n" + lines[5...].joined(separator: "\n")
        let found = error(remote)
        #expect(found?.message.contains("no identity") == true)
        let withKey = remote.replacingOccurrences(of: "  user: root", with: "  user: root\n  identity: ~/.ssh/id_ed25519")
        let testbed = try? parse(withKey)
        #expect(testbed?.host(.gw1).ssh.identity.rawValue == "/home/u/.ssh/id_ed25519")
        #expect(testbed?.knownHosts.rawValue == "/home/u/.ssh/known_hosts")
        #expect(testbed?.local == nil)
    }
}

/// Security review, item 8: `testbed up` writes the host keys it makes into the testbed's
/// known_hosts; a local testbed whose ssh block was copied from a real lab's would overwrite the
/// user's own pins. Such a file is refused where it says so.
struct LocalTestbedOwnFilesTests {
    @Test(arguments: ["  known_hosts: ~/.ssh/known_hosts", "  identity: ~/.ssh/id_ed25519", "  known_hosts: /run/wgbench/other/known_hosts"])
    func aLocalTestbedUsesOnlyTheFilesItsUpMakes(_ line: String) throws {
        let yaml = validLocalTestbed.replacingOccurrences(of: "  user: root\n", with: "  user: root\n\(line)\n")
        do {
            _ = try TestbedLoader.parse(yaml: yaml, file: "t.yaml", home: "/home/u")
            Issue.record("accepted \(line)")
        } catch let error as SpecError {
            #expect(error.line == 8 && error.message.contains("state directory (/run/wgbench/t/"), "\(error)")
        }
    }

    @Test func itsOwnFilesNamedExplicitlyAndRealLabsFilesAreFine() throws {
        let own = validLocalTestbed.replacingOccurrences(of: "  user: root\n", with: "  user: root\n  known_hosts: /run/wgbench/t/known_hosts\n")
        #expect(try TestbedLoader.parse(yaml: own, file: "t.yaml").knownHosts.rawValue == "/run/wgbench/t/known_hosts")
        let lab = try TestbedLoader.load(path: Fixture.repositoryRoot.appendingPathComponent("testbeds/example-lab.yaml").path, home: "/home/u")
        #expect(lab.knownHosts.rawValue == "/home/u/.ssh/known_hosts")
    }
}
