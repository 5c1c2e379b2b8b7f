import CHDF5
import CHDF5Support

/// A group (or the root of a file): named members that are datasets or other groups.
///
/// ```swift
/// let f = try H5File.open("model.h5")
/// for name in try f.members() { print(name) }
/// let w = try f.group("encoder").dataset("weight").read(Float.self)
/// ```
public class H5Group: H5Object {
    /// What a member of a group is.
    public enum MemberKind: Sendable { case group, dataset, other }

    /// Names of the direct members, in name order.
    public func members() throws -> [String] {
        H5Library.prepare()
        var info = H5G_info_t()
        guard H5Gget_info(id, &info) >= 0 else {
            throw DataError("\(where_): cannot list members\(H5Library.lastError())")
        }
        var names: [String] = []
        for i in 0..<info.nlinks {
            let size = H5Lget_name_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC, i, nil, 0, mpm_h5p_default())
            guard size >= 0 else { throw DataError("\(where_): cannot read member \(i)\(H5Library.lastError())") }
            var buffer = [CChar](repeating: 0, count: Int(size) + 1)
            _ = H5Lget_name_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC, i, &buffer, buffer.count, mpm_h5p_default())
            names.append(String(cString: buffer))
        }
        return names
    }

    /// Whether `name` (a member name or a relative path "a/b") exists. Each component is checked
    /// in turn because HDF5 fails, rather than answers false, when an intermediate one is missing.
    public func contains(_ name: String) -> Bool {
        H5Library.prepare()
        var prefix = ""
        for component in name.split(separator: "/") {
            prefix += (prefix.isEmpty ? "" : "/") + component
            if H5Lexists(id, prefix, mpm_h5p_default()) <= 0 { return false }
        }
        return !prefix.isEmpty
    }

    /// The kind of member `name`, or nil when there is none.
    public func kind(of name: String) -> MemberKind? {
        guard contains(name) else { return nil }
        let o = H5Oopen(id, name, mpm_h5p_default())
        guard o >= 0 else { return .other }
        defer { H5Oclose(o) }
        switch H5Iget_type(o) {
        case H5I_GROUP: return .group
        case H5I_DATASET: return .dataset
        default: return .other
        }
    }

    /// Opens the group `name`.
    public func group(_ name: String) throws -> H5Group {
        guard let k = kind(of: name) else { throw DataError("\(filePath) has no group '\(displayName(name))'") }
        guard k == .group else { throw DataError("\(filePath): '\(displayName(name))' is not a group") }
        let g = H5Gopen2(id, name, mpm_h5p_default())
        guard g >= 0 else { throw DataError("\(filePath): cannot open group '\(displayName(name))'\(H5Library.lastError())") }
        return H5Group(handle: H5Handle(g, close: H5Gclose), filePath: filePath, path: childPath(name))
    }

    /// Creates the group `name` (intermediate groups too); returns the existing one if present.
    @discardableResult
    public func createGroup(_ name: String) throws -> H5Group {
        H5Library.prepare()
        if kind(of: name) == .group { return try group(name) }
        let lcpl = H5Pcreate(mpm_h5p_link_create())
        defer { if lcpl >= 0 { H5Pclose(lcpl) } }
        _ = H5Pset_create_intermediate_group(lcpl, 1)
        let g = H5Gcreate2(id, name, lcpl, mpm_h5p_default(), mpm_h5p_default())
        guard g >= 0 else { throw DataError("\(filePath): cannot create group '\(displayName(name))'\(H5Library.lastError())") }
        return H5Group(handle: H5Handle(g, close: H5Gclose), filePath: filePath, path: childPath(name))
    }

    /// Opens the dataset `name`; a missing one is `data: /path/x.h5 has no dataset 'name'`.
    public func dataset(_ name: String) throws -> H5Dataset {
        guard let k = kind(of: name) else { throw DataError("\(filePath) has no dataset '\(displayName(name))'") }
        guard k == .dataset else { throw DataError("\(filePath): '\(displayName(name))' is not a dataset") }
        return try H5Dataset.open(in: self, name: name)
    }

    /// Removes the member `name` (used to overwrite a dataset or attribute-free group).
    public func remove(_ name: String) throws {
        guard contains(name) else { return }
        guard H5Ldelete(id, name, mpm_h5p_default()) >= 0 else {
            throw DataError("\(filePath): cannot remove '\(displayName(name))'\(H5Library.lastError())")
        }
    }

    /// A member's path as messages show it ('csts', 'encoder/weight').
    func displayName(_ name: String) -> String {
        let full = childPath(name)
        return full.hasPrefix("/") ? String(full.dropFirst()) : full
    }
}
