/// Turns the layered top-level nodes of an experiment file (and its includes) into an
/// `ExperimentSpec`, checking every value where it is read.
struct ExperimentDecoder {
    let layers: [String: [SpecNode]]
    let includes: [String]
    let file: String

    func decode() throws -> ExperimentSpec {
        guard let nameNode = last("name") else { throw rootError("name", "required key 'name' is missing") }
        try checkSize()
        let placement = try decodePlacement()
        let series = try decodeSeries(placement: placement)
        var spec = ExperimentSpec(
            name: try nameNode.value(Identifier.self).rawValue,
            description: try last("description")?.string() ?? "",
            repetitions: try last("repetitions")?.int(in: 1...1000) ?? 10,
            // Blocks compare series within rounds, so drift of the machine does not line up with them.
            order: try last("order").map { try choice($0, RunOrderPolicy.self) } ?? (series.count > 1 ? .blocks : .shuffled),
            seed: try last("seed").map { node in
                guard let seed = UInt64(try node.string()) else { throw node.error("expected a whole number from 0 to 2^64-1") }
                return seed
            },
            pauseMilliseconds: try last("pause")?.value(SpecDuration.self).milliseconds ?? 0,
            retries: try last("retries")?.int(in: 0...10) ?? 1,
            traffic: try decodeTraffic(),
            sampling: try decodeSampling(),
            placement: placement,
            sweep: [],
            series: series,
            includes: includes)
        spec.sweep = try decodeSweep(series: series)
        if let node = last("baseline") {
            let name = try node.string()
            guard series.contains(where: { $0.name == name }) else {
                throw node.error("'\(name)' is not a series of this experiment; its series: \(series.map(\.name).joined(separator: ", "))")
            }
            spec.baseline = name
        }
        spec.preflight = try decodePreflight()
        spec.claims = try ClaimDecoder(spec: spec).decode(last("claims"))
        return spec
    }

    /// Refuses an experiment with more points or repetitions than `InputLimits` allows, counted
    /// from the lengths of the lists before any of them is decoded (so a huge one costs nothing).
    private func checkSize() throws {
        let seriesNode = last("series")
        let seriesCount = (try? seriesNode?.sequence().count) ?? 1
        var points = 1
        for (_, node) in (try? sweepEntries()) ?? [] {
            let values = (try? node.sequence().count) ?? 1
            points = values == 0 ? 0 : (points.multipliedReportingOverflow(by: values).overflow ? Int.max : points * values)
            points = min(points, Int.max / 2)
        }
        let total = seriesCount.multipliedReportingOverflow(by: points).overflow ? Int.max : seriesCount * points
        if total > InputLimits.maxPoints {
            let node = seriesCount > InputLimits.maxPoints ? seriesNode : (layers["sweep"]?.last ?? seriesNode)
            let message = "\(seriesCount) series x \(points) sweep points is more than \(InputLimits.maxPoints) points, "
                + "the most one experiment may have: split it into several experiments"
            throw node?.error(message) ?? rootError("series", message)
        }
        let repetitions = (try? last("repetitions")?.int(in: 1...1000)) ?? 10
        if total * repetitions > InputLimits.maxRepetitions {
            let node = last("repetitions") ?? seriesNode
            let message = "\(total) points x \(repetitions) repetitions is more than \(InputLimits.maxRepetitions) repetitions in all, "
                + "the most one run may have"
            throw node?.error(message) ?? rootError("repetitions", message)
        }
    }

    // MARK: Sections

    private func decodePreflight() throws -> PreflightSpec? {
        guard let map = try section("preflight", allowed: PreflightSpec.keys) else { return nil }
        var preflight = PreflightSpec()
        if let node = map.optional("hosts") { preflight.hosts = try roles(node) }
        if let node = map.optional("busy_percent") { preflight.busyPercent = Double(try node.int(in: 0...100)) }
        if let node = map.optional("strict") { preflight.strict = try node.bool() }
        return preflight
    }

    private func roles(_ node: SpecNode) throws -> [HostRole] {
        try node.sequence().map { item in
            let text = try item.string()
            guard let role = HostRole(rawValue: text) else { throw item.error("'\(text)' is not a host role; the roles are source, gw1, gw2, drain") }
            return role
        }
    }

    private func decodeTraffic() throws -> TrafficSpec {
        let map = try section("traffic", allowed: ["protocol", "duration", "omit", "bitrate", "base_port", "client_cpus", "server_cpus"])
        let duration = try map?.optional("duration").map { try wholeSeconds($0, minimum: 1) } ?? 10
        return TrafficSpec(
            protocol: try map?.optional("protocol").map { try choice($0, TrafficProtocol.self) } ?? .tcp,
            durationSeconds: duration,
            omitSeconds: try map?.optional("omit").map { try wholeSeconds($0, minimum: 0) } ?? 0,
            bitrate: try map?.optional("bitrate").map(bitrate) ?? 0,
            basePort: try map?.optional("base_port")?.int(in: 1024...60000) ?? 5201,
            clientCPUs: try map?.optional("client_cpus").map(cpuList) ?? [],
            serverCPUs: try map?.optional("server_cpus").map(cpuList) ?? [])
    }

    private func decodeSampling() throws -> SamplingSpec {
        let map = try section("sampling", allowed: ["hosts", "interval"])
        var hosts: [HostRole] = [.gw1, .gw2]
        if let node = map?.optional("hosts") { hosts = try roles(node) }
        let interval = try map?.optional("interval").map { node -> Int in
            let value = try node.value(SpecDuration.self).milliseconds
            guard value >= 100 else { throw node.error("sample at most every 100ms") }
            return value
        } ?? 1000
        return SamplingSpec(hosts: hosts, intervalMilliseconds: interval)
    }

    private func decodePlacement() throws -> PlacementSpec {
        let map = try section("placement", allowed: PlacementSpec.keys)
        var placement = PlacementSpec(steering: try map?.optional("steering").map { try choice($0, StepRequirement.self) } ?? .auto)
        if let map { placement = try overlay(placement, with: map) }
        return placement
    }

    /// `placement` with the pool, reverse and colocate keys of `map` laid over it (per gateway for pools).
    private func overlay(_ base: PlacementSpec, with map: SpecMapping) throws -> PlacementSpec {
        var placement = base
        for (key, path) in [("rx_plain", \PlacementSpec.rxPlain), ("rx_tun", \PlacementSpec.rxTunnel), ("tx_tun", \PlacementSpec.txTunnel)] {
            if let node = map.optional(key) { placement[keyPath: path] = placement[keyPath: path].overlaid(with: try perGateway(node)) }
        }
        if let node = map.optional("reverse") { placement.reverse = try node.bool() }
        if let node = map.optional("colocate") { placement.colocate = try node.bool() }
        if let node = map.optional("interleave") { placement.interleave = try node.bool() }
        if let problem = placement.problem() { throw map.owner.error(problem) }
        return placement
    }

    /// A CPU expression for both gateways, or `{gw1: ..., gw2: ...}`.
    private func perGateway(_ node: SpecNode) throws -> PerGateway<CPUExpression?> {
        if case .mapping = node.node {
            var value = PerGateway<CPUExpression?>.unset
            for (key, item) in try node.mapping(allowed: ["gw1", "gw2"]).entries {
                value[HostRole(rawValue: key)!] = try expression(item)
            }
            return value
        }
        return PerGateway(try expression(node))
    }

    private func expression(_ node: SpecNode) throws -> CPUExpression {
        do { return try CPUExpression.parse(try node.string()) } catch let error as CPUExpressionError { throw node.error(error.description) }
    }

    private func decodeSeries(placement: PlacementSpec) throws -> [SeriesSpec] {
        guard let node = last("series") else { throw rootError("series", "required key 'series' is missing") }
        let items = try node.sequence()
        guard !items.isEmpty else { throw node.error("list at least one series") }
        var names = Set<String>()
        return try items.map { item in
            let map = try item.mapping(allowed: ["name", "target", "knobs", "placement"])
            let nameNode = try map.required("name")
            let name = try nameNode.value(Identifier.self).rawValue
            guard names.insert(name).inserted else { throw nameNode.error("series '\(name)' is defined twice") }
            let target = try choice(try map.required("target"), TargetKind.self)
            var knobs = KnobSettings()
            if let knobsNode = map.optional("knobs") {
                for (key, valueNode) in try knobsNode.anyMapping() {
                    let knob = try self.knob(key, of: target, at: valueNode)
                    if knob.kind == .cpus, case .mapping = valueNode.node {
                        knobs[knob] = .cpus(try perGateway(valueNode))
                    } else {
                        knobs[knob] = try parse(knob, valueNode)
                    }
                }
            }
            var own = placement
            if let placementNode = map.optional("placement") {
                own = try overlay(placement, with: try placementNode.mapping(allowed: PlacementSpec.keys.filter { $0 != "steering" }))
            }
            return SeriesSpec(name: name, target: target, knobs: knobs, placement: own)
        }
    }

    private func knob(_ key: String, of target: TargetKind, at node: SpecNode) throws -> Knob {
        guard let knob = Knob(rawValue: key), knob.targets.contains(target) else {
            let known = target.knobs.map(\.rawValue)
            throw node.error("'\(key)' is not a knob of target \(target)"
                             + (known.isEmpty ? "; it has none" : "; its knobs: \(known.joined(separator: ", "))"))
        }
        return knob
    }

    private func parse(_ knob: Knob, _ node: SpecNode) throws -> KnobValue {
        do { return try knob.parse(try node.string()) } catch let error as KnobError { throw node.error(error.message) }
    }

    private func decodeSweep(series: [SeriesSpec]) throws -> [SweepVariable] {
        guard let map = try sweepEntries() else { return [] }
        var variables: [SweepVariable] = []
        for (key, node) in map {
            let items = (try? node.sequence()) ?? [node]
            guard !items.isEmpty else { throw node.error("give at least one value") }
            var values: [String] = []
            for item in items {
                let text = try item.string()
                switch key {
                case "tunnels": _ = try item.int(in: 1...1024)
                case "flows": _ = try item.int(in: 1...4096)
                case "flows_per_tunnel": _ = try item.int(in: 1...256)
                default:
                    for entry in series {
                        guard let knob = Knob(rawValue: key), knob.targets.contains(entry.target) else {
                            throw node.error("'\(key)' is not a sweep variable: not tunnels, flows or flows_per_tunnel, "
                                             + "and not a knob of series \(entry.name) (target \(entry.target))")
                        }
                        _ = try parse(knob, item)
                    }
                }
                guard !values.contains(text) else { throw item.error("\(text) is listed twice") }
                values.append(text)
            }
            variables.append(SweepVariable(name: key, values: values))
        }
        if variables.contains(where: { $0.name == "flows" }), variables.contains(where: { $0.name == "flows_per_tunnel" }),
           let node = map.first(where: { $0.0 == "flows" })?.1 {
            throw node.error("give either flows (in total, spread over the tunnels) or flows_per_tunnel, not both")
        }
        return variables
    }

    private func sweepEntries() throws -> [(String, SpecNode)]? {
        guard let nodes = layers["sweep"] else { return nil }
        var merged: [(String, SpecNode)] = []
        for node in nodes {
            for (key, value) in try node.anyMapping() {
                if let index = merged.firstIndex(where: { $0.0 == key }) { merged[index].1 = value } else { merged.append((key, value)) }
            }
        }
        return merged
    }

    // MARK: Helpers

    private func last(_ key: String) -> SpecNode? { layers[key]?.last }

    /// A mapping section merged over includes: later keys replace earlier ones.
    private func section(_ key: String, allowed: [String]) throws -> SpecMapping? {
        guard let nodes = layers[key], let owner = nodes.last else { return nil }
        var entries: [(String, SpecNode)] = []
        for node in nodes {
            for (entryKey, value) in try node.mapping(allowed: allowed).entries {
                if let index = entries.firstIndex(where: { $0.0 == entryKey }) { entries[index].1 = value } else { entries.append((entryKey, value)) }
            }
        }
        return SpecMapping(owner: owner, entries: entries)
    }

    private func rootError(_ key: String, _ message: String) -> SpecError {
        SpecError(file: file, line: 1, column: 1, keyPath: key, message: message)
    }

    private func choice<T: RawRepresentable & CaseIterable>(_ node: SpecNode, _ type: T.Type) throws -> T where T.RawValue == String {
        let text = try node.string()
        guard let value = T(rawValue: text) else {
            throw node.error("'\(text)' is not one of \(T.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return value
    }

    private func wholeSeconds(_ node: SpecNode, minimum: Int) throws -> Int {
        let duration = try node.value(SpecDuration.self)
        guard duration.milliseconds % 1000 == 0, duration.milliseconds / 1000 >= minimum else {
            throw node.error("iperf3 takes whole seconds, at least \(minimum)s")
        }
        return duration.milliseconds / 1000
    }

    private func cpuList(_ node: SpecNode) throws -> [Int] {
        let text = try node.string()
        guard let cpus = CPUList.parse(text), !cpus.isEmpty, cpus.allSatisfy({ $0 < 4096 }) else {
            throw node.error("'\(text)' is not a CPU list such as 0-3,8")
        }
        return cpus
    }

    /// `0`, `500M`, `10G`, `1000000` (bits per second).
    private func bitrate(_ node: SpecNode) throws -> UInt64 {
        let text = try node.string()
        let units: [Character: UInt64] = ["K": 1_000, "M": 1_000_000, "G": 1_000_000_000]
        let factor = text.last.flatMap { units[$0] } ?? 1
        let digits = factor == 1 ? text : String(text.dropLast())
        guard let number = UInt64(digits), number <= UInt64.max / factor else {
            throw node.error("'\(text)' is not a bitrate such as 0, 500M or 10G")
        }
        return number * factor
    }
}
