import CHDF5
import CHDF5Support

/// An open HDF5 object (file, group or dataset) that carries attributes. Knows its file and
/// its path inside the file, so every error can name both.
///
/// ```swift
/// let f = try H5File.open("data/jetclass_val.h5")
/// print(try f.attribute("kind") ?? .string("unknown"))
/// ```
public class H5Object {
    let handle: H5Handle
    /// Path of the file on disk, as given when opening.
    public let filePath: String
    /// Path of the object inside the file ("/" for the root, "/csts" for a dataset).
    public let path: String

    init(handle: H5Handle, filePath: String, path: String) {
        self.handle = handle
        self.filePath = filePath
        self.path = path
    }

    var id: hid_t { handle.id }

    /// How messages name this object: the file, then the object when it is not the root.
    var where_: String { path == "/" ? filePath : "\(filePath): \(displayPath)" }

    /// The path without the root slash for top-level objects ('csts'), as users spell it.
    public var displayPath: String { path.hasPrefix("/") ? String(path.dropFirst()) : path }

    /// Joins a child name onto this object's path.
    func childPath(_ name: String) -> String {
        if name.hasPrefix("/") { return name }
        return path == "/" ? "/" + name : path + "/" + name
    }
}
