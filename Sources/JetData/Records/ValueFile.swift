import Foundation
import NN
import Tensors

/// The value file behind `mpm.save` / `mpm.load` (docs/nn.md, "Saved values"), usable from Swift
/// without any Lua state: nested tables of tensors, numbers, strings and booleans as HDF5,
/// readable from h5py. Records (a backbone, a run's checkpoint, ...) are value files with a kind
/// tag on top (`Record`); "checkpoint" names only a run's resumable state.
///
/// Layout: a table is a group; a tensor is a dataset (float32, int64, or h5py's bool) named by
/// its key, so state-dict keys such as "layers.1.weight" become dataset names; a number, string
/// or boolean is an attribute of its table's group; a non-empty list of numbers is one array
/// attribute. Markers (attributes named `mpmlua_*`) record what HDF5 cannot: integer keys,
/// booleans, and which arrays are lists. The root carries `mpmlua_format` (the tag
/// "mpmlua.checkpoint", kept from the format's first name so that every file written keeps
/// loading) and `mpmlua_version`, so a foreign file is refused with a clear message. The file is
/// written to a temporary name and renamed into place: a failure never leaves a partial file.
///
/// It lives in the data layer (not in LuaBindings, not in NN) because it is HDF5 file I/O like
/// the rest of JetData (DESIGN.md: "Checkpoints and state dicts are HDF5"), and it needs NN only
/// for the `Module` conveniences; LuaBindings converts Lua tables to and from `Node`.
///
/// ```swift
/// try ValueFile.save(model, to: "model.h5")             // = mpm.save(path, model:state_dict())
/// try ValueFile.load(into: fresh, from: "model.h5")     // values equal, or a clear mismatch error
/// let node = try ValueFile.load("values.h5")            // any file mpm.save wrote
/// ```
public enum ValueFile {
    public static let format = "mpmlua.checkpoint"
    public static let version: Int64 = 1
    public static let reservedPrefix = "mpmlua_"

    /// A table key: a string, or an integer (Lua list positions, kept as integers on reload).
    public enum Key: Hashable, Sendable {
        case string(String)
        case int(Int64)

        /// The HDF5 name of the member.
        public var name: String {
            switch self {
            case .string(let s): return s
            case .int(let i): return String(i)
            }
        }
    }

    /// A saved value: a table (group) of named children, a tensor (dataset), or a scalar or
    /// number list (attribute). Tables keep their entries sorted by name.
    public indirect enum Node {
        case table([(Key, Node)])
        case tensor(Tensor)
        case int(Int64)
        case double(Double)
        case string(String)
        case bool(Bool)
        case ints([Int64])
        case doubles([Double])
    }

    // MARK: Node -> HDF5

    /// Writes `root` to `path` (a non-table value is wrapped and unwrapped again by `load`),
    /// atomically: a temporary file renamed into place. Errors are `DataError`s.
    public static func save(_ root: Node, to path: String) throws {
        let top: [(Key, Node)]
        var wrapped = false
        if case .table(let entries) = root { top = entries } else { top = [(.string("value"), root)]; wrapped = true }
        try H5File.createAtomically(path) { file in
            try file.setAttribute("mpmlua_format", .string(format))
            try file.setAttribute("mpmlua_version", .int(version))
            if wrapped { try file.setAttribute("mpmlua_wrapped", .int(1)) }
            try writeTable(top, into: file)
        }
    }

    private static func writeTable(_ entries: [(Key, Node)], into group: H5Group) throws {
        var integerKeys: [Int64] = [], booleans: [String] = [], intLists: [String] = [], floatLists: [String] = []
        for (key, node) in entries {
            if case .int(let i) = key { integerKeys.append(i) }
            let name = key.name
            switch node {
            case .table(let children):
                try writeTable(children, into: try group.createGroup(name))
            case .tensor(let t):
                try writeTensor(t, name: name, into: group)
            case .int(let v): try group.setAttribute(name, .int(v))
            case .double(let v): try group.setAttribute(name, .double(v))
            case .string(let v): try group.setAttribute(name, .string(v))
            case .bool(let v):
                try group.setAttribute(name, .int(v ? 1 : 0))
                booleans.append(name)
            case .ints(let v):
                try group.setAttribute(name, .ints(v))
                intLists.append(name)
            case .doubles(let v):
                try group.setAttribute(name, .doubles(v))
                floatLists.append(name)
            }
        }
        if !integerKeys.isEmpty { try group.setAttribute("mpmlua_integer_keys", .ints(integerKeys)) }
        if !booleans.isEmpty { try group.setAttribute("mpmlua_booleans", .strings(booleans)) }
        if !intLists.isEmpty { try group.setAttribute("mpmlua_int_lists", .strings(intLists)) }
        if !floatLists.isEmpty { try group.setAttribute("mpmlua_float_lists", .strings(floatLists)) }
    }

    private static func writeTensor(_ t: Tensor, name: String, into group: H5Group) throws {
        // Value files are read whole and often: no compression, so saving a large model costs
        // only the copy to disk.
        let options = H5WriteOptions(gzipLevel: nil)
        switch t.dtype {
        case .f32: try t.withElements(as: Float.self) { try group.write(name, $0, shape: t.shape, options: options) }
        case .i64: try t.withElements(as: Int64.self) { try group.write(name, $0, shape: t.shape, options: options) }
        case .bool: try t.withElements(as: Bool.self) { try group.write(name, $0, shape: t.shape, options: options) }
        }
    }

    // MARK: HDF5 -> Node

    /// Reads a file written by `save` (or `mpm.save`); tensors come back bit for bit. A file
    /// that mpm.save did not write is refused with a `DataError`.
    public static func load(_ path: String) throws -> Node {
        let file = try H5File.open(path)
        guard let f = try formatTag(file) else {
            throw DataError("\(path) is an HDF5 file but not an mpmlua checkpoint (no mpmlua_format attribute: mpm.save did not write it); read other HDF5 files with mpm.data")
        }
        guard f == format else {
            throw DataError("\(path) has format '\(f)', expected '\(format)'")
        }
        let v = try file.attribute("mpmlua_version")?.intValue ?? 0
        guard v >= 1 && v <= version else {
            throw DataError("\(path) is value-file version \(v); this mpmlua reads versions 1...\(version)")
        }
        let root = try readGroup(file, path: path)
        if try file.attribute("mpmlua_wrapped")?.intValue == 1, case .table(let entries) = root,
           let value = entries.first(where: { $0.0 == .string("value") }) {
            return value.1
        }
        return root
    }

    /// Whether `path` is a file mpm.save wrote (false for other HDF5 files). A missing file or
    /// one that is not HDF5 throws as `load` does.
    public static func isValueFile(_ path: String) throws -> Bool {
        try formatTag(try H5File.open(path)) != nil
    }

    private static func formatTag(_ file: H5File) throws -> String? {
        try file.attribute("mpmlua_format")?.stringValue
    }

    private static func readGroup(_ group: H5Group, path: String) throws -> Node {
        func strings(_ name: String) throws -> Set<String> {
            switch try group.attribute(name) {
            case .strings(let s)?: return Set(s)
            case .string(let s)?: return [s]
            default: return []
            }
        }
        var integerKeys = Set<String>()
        switch try group.attribute("mpmlua_integer_keys") {
        case .ints(let v)?: integerKeys = Set(v.map { String($0) })
        case .int(let v)?: integerKeys = [String(v)]
        default: break
        }
        let booleans = try strings("mpmlua_booleans"), intLists = try strings("mpmlua_int_lists")
        let floatLists = try strings("mpmlua_float_lists")
        func key(_ name: String) -> Key {
            if integerKeys.contains(name), let i = Int64(name) { return .int(i) }
            return .string(name)
        }
        var entries: [(Key, Node)] = []
        for name in try group.members() {
            switch group.kind(of: name) {
            case .group?:
                entries.append((key(name), try readGroup(try group.group(name), path: path)))
            case .dataset?:
                entries.append((key(name), .tensor(try readTensor(try group.dataset(name), path: path))))
            default:
                throw DataError("\(path): member '\(name)' is neither a group nor a dataset")
            }
        }
        for name in try group.attributeNames() where !name.hasPrefix(reservedPrefix) {
            guard let value = try group.attribute(name) else { continue }
            let node: Node
            switch value {
            case .int(let v): node = booleans.contains(name) ? .bool(v != 0) : .int(v)
            case .double(let v): node = .double(v)
            case .string(let s): node = .string(s)
            case .ints(let v): node = intLists.contains(name) || v.count != 1 ? .ints(v) : .int(v[0])
            case .doubles(let v): node = floatLists.contains(name) || v.count != 1 ? .doubles(v) : .double(v[0])
            case .strings(let v): node = .table(v.enumerated().map { (.int(Int64($0.offset + 1)), .string($0.element)) })
            }
            entries.append((key(name), node))
        }
        return .table(entries)
    }

    private static func readTensor(_ ds: H5Dataset, path: String) throws -> Tensor {
        let shape = ds.shape
        switch ds.dtype {
        case .float:
            let name = ds.displayPath.replacingOccurrences(of: "/", with: ".")
            return try Tensor(try ds.readFiniteFloats(tensorName: name), shape: shape)
        case .integer, .enumeration:
            return try Tensor(try ds.read(Int64.self), shape: shape)
        case .bool:
            return try Tensor(try ds.read(Bool.self), shape: shape)
        default:
            throw DataError("\(path): dataset '\(ds.path)' has type \(ds.dtype), which is not a tensor type")
        }
    }

    // MARK: Modules and state dicts

    /// A module's state dict as a table node (dotted names, as `m:state_dict()` in Lua).
    public static func node(stateDict module: Module) -> Node {
        .table(module.stateDict().map { (.string($0.name), .tensor($0.tensor)) }.sorted { $0.0.name < $1.0.name })
    }

    /// The tensors of a table node by name (a state dict); other entries are left out.
    public static func stateDict(_ node: Node) -> [String: Tensor] {
        guard case .table(let entries) = node else { return [:] }
        var out: [String: Tensor] = [:]
        for (key, child) in entries { if case .tensor(let t) = child { out[key.name] = t } }
        return out
    }

    /// Saves `module`'s state dict as the root of a value file, the file
    /// `mpm.save(path, module:state_dict())` writes.
    public static func save(_ module: Module, to path: String) throws {
        try save(node(stateDict: module), to: path)
    }

    /// Loads a state-dict value file into `module` (every name and shape must match when
    /// `strict`), returning the missing and unexpected names as `loadStateDict` does.
    @discardableResult
    public static func load(into module: Module, from path: String, strict: Bool = true) throws -> (missing: [String], unexpected: [String]) {
        let node = try load(path)
        guard case .table = node else {
            throw DataError("\(path) holds a single value, not a state dict")
        }
        return try module.loadStateDict(stateDict(node), strict: strict)
    }
}
