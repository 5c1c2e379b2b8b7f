// swift-tools-version:6.0
// mpmlua: a Swift compute core for masked particle modelling, embedded in Lua 5.4.
// Layers (see docs/architecture.md): system libraries -> CSupport -> Tensors -> NN -> Data -> MPM
// -> LuaBindings -> mpmlua. Each target imports only targets below it in that list.
import PackageDescription

/// Numeric targets are compiled optimised even in debug and test builds: an unoptimised
/// kernel is 10-50x slower and would make the test suite crawl.
let optimised: [SwiftSetting] = [.unsafeFlags(["-O", "-enforce-exclusivity=unchecked"])]
let optimisedC: [CSetting] = [.unsafeFlags(["-O2"])]

let package = Package(
    name: "mpmlua",
    products: [
        .executable(name: "mpmlua", targets: ["mpmlua"]),
        .library(name: "MPMCore", targets: ["Tensors", "LuaBindings"]),
    ],
    targets: [
        // System libraries: module map + header only; C code lives in CSupport.
        .systemLibrary(name: "CLua", pkgConfig: "lua5.4",
                       providers: [.apt(["liblua5.4-dev"])]),
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5",
                       providers: [.apt(["libhdf5-dev"])]),
        .systemLibrary(name: "CEdit", pkgConfig: "libedit",
                       providers: [.apt(["libedit-dev"])]),
        // C support: the Lua trampoline, static inline wrappers for Lua macros, HDF5 constants.
        .target(name: "CSupport", dependencies: ["CLua", "CHDF5"], cSettings: optimisedC),

        .target(name: "Tensors", dependencies: ["CBLAS"], swiftSettings: optimised),
        .target(name: "NN", dependencies: ["Tensors"], swiftSettings: optimised),
        .target(name: "JetData", dependencies: ["Tensors", "CHDF5", "CSupport"], swiftSettings: optimised),
        .target(name: "MPM", dependencies: ["Tensors", "NN", "JetData"], swiftSettings: optimised),
        .target(name: "LuaBindings", dependencies: ["CLua", "CSupport", "Tensors", "NN", "JetData", "MPM"]),
        .executableTarget(name: "mpmlua", dependencies: ["LuaBindings", "CLua", "CEdit", "CSupport"]),

        .testTarget(name: "TensorsTests", dependencies: ["Tensors"], swiftSettings: optimised),
        // Helpers shared by the test targets (finite-difference gradient checks, packed offsets).
        .target(name: "TestSupport", dependencies: ["Tensors", "NN"], path: "Tests/TestSupport", swiftSettings: optimised),
        .testTarget(name: "NNTests", dependencies: ["NN", "TestSupport"], swiftSettings: optimised),
        .testTarget(name: "JetDataTests", dependencies: ["JetData"], swiftSettings: optimised),
        .testTarget(name: "MPMTests", dependencies: ["MPM", "TestSupport"], swiftSettings: optimised),
        .testTarget(name: "LuaBindingsTests", dependencies: ["LuaBindings", "CLua", "CSupport"]),
    ],
    swiftLanguageModes: [.v5]
)
