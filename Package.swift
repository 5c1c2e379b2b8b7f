// swift-tools-version:6.0
// mpmlua: a Swift compute core for masked particle modelling, embedded in Lua 5.4.
// Layers (see docs/architecture.md): system libraries -> CHDF5Support, CSupport, CMPISupport, CCPU -> Tensors -> NN
// -> JetData -> MPM -> DistributedJob -> Export -> LuaBindings -> mpmlua. Each target imports only targets
// before it in that list; only LuaBindings and mpmlua see Lua (CLua, CSupport).
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
        // System libraries: module map + header only; C code lives in CHDF5Support and CSupport.
        .systemLibrary(name: "CLua", pkgConfig: "lua5.4",
                       providers: [.apt(["liblua5.4-dev"])]),
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5",
                       providers: [.apt(["libhdf5-dev"])]),
        .systemLibrary(name: "CEdit", pkgConfig: "libedit",
                       providers: [.apt(["libedit-dev"])]),
        .systemLibrary(name: "CMPI", pkgConfig: "ompi-c",
                       providers: [.apt(["libopenmpi-dev"])]),
        // OpenSSL's libcrypto: SHA-256 content digests that key reusable results.
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto",
                       providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CProtobufC", pkgConfig: "libprotobuf-c",
                       providers: [.apt(["libprotobuf-c-dev"])]),
        // oneDNN's matrix products (bf16 and f32) for the product layer; Debian ships no .pc file,
        // its header and library are on the default paths.
        .systemLibrary(name: "CDNNL", providers: [.apt(["libdnnl-dev"])]),
        // HDF5 constants (macros over globals Swift cannot import), for the data layer. No Lua.
        .target(name: "CHDF5Support", dependencies: ["CHDF5"], cSettings: optimisedC),
        // C side of the Lua boundary: the trampoline, pending errors, the heap-tracking
        // collector, the Ctrl-C hook, static inline wrappers for Lua macros.
        .target(name: "CSupport", dependencies: ["CLua"], cSettings: optimisedC),
        // MPI over MPI_COMM_WORLD for DistributedJob: handle macros resolved in C, error codes
        // returned (MPI_ERRORS_RETURN). No Lua.
        .target(name: "CMPISupport", dependencies: ["CMPI"], cSettings: optimisedC),
        // The ONNX schema in C: protoc-c's code for Debian's onnx.proto (tools/gen_onnx_proto.sh) and
        // a builder that fills its messages for Export. No Lua.
        .target(name: "CONNX", dependencies: ["CProtobufC"], cSettings: optimisedC),
        // cpuid flags (vendor, AVX2, AVX-512) for choosing OpenBLAS kernels. No Lua, no BLAS.
        .target(name: "CCPU", cSettings: optimisedC),

        // Storage, kernels (the product layer over OpenBLAS and oneDNN), autograd, random engines, raw access, errors and index conventions.
        .target(name: "Tensors", dependencies: ["CBLAS", "CDNNL", "CCPU"], swiftSettings: optimised),
        // Modules, losses, optimiser kernels, state dicts.
        .target(name: "NN", dependencies: ["Tensors"], swiftSettings: optimised),
        // HDF5 files, jet datasets, packed batches, loaders, preprocessing, masking, and the
        // saved-value file and records (needs NN for modules' state dicts).
        .target(name: "JetData", dependencies: ["Tensors", "NN", "CHDF5", "CHDF5Support", "CCrypto"], swiftSettings: optimised),
        .target(name: "MPM", dependencies: ["Tensors", "NN", "JetData"], swiftSettings: optimised),
        // The process's place in an MPI job and the collectives on tensors, with Swift errors
        // (not named Distributed: that is the Swift toolchain's module for distributed actors).
        .target(name: "DistributedJob", dependencies: ["CMPISupport", "Tensors"], swiftSettings: optimised),
        // ONNX files of backbones and fine-tuned classifiers, from the Swift modules' weights. No Lua.
        .target(name: "Export", dependencies: ["CONNX", "Tensors", "NN", "JetData", "MPM"], swiftSettings: optimised),
        .target(name: "LuaBindings", dependencies: ["CLua", "CSupport", "Tensors", "NN", "JetData", "MPM", "DistributedJob", "Export"]),
        .executableTarget(name: "mpmlua", dependencies: ["LuaBindings", "DistributedJob", "Tensors", "CLua", "CEdit", "CSupport"]),

        .testTarget(name: "TensorsTests", dependencies: ["Tensors", "TestSupport"], swiftSettings: optimised),
        // Helpers shared by the test targets (finite-difference gradient checks, packed offsets).
        .target(name: "TestSupport", dependencies: ["Tensors", "NN"], path: "Tests/TestSupport", swiftSettings: optimised),
        .testTarget(name: "NNTests", dependencies: ["NN", "TestSupport"], swiftSettings: optimised),
        .testTarget(name: "JetDataTests", dependencies: ["JetData", "NN"], swiftSettings: optimised),
        .testTarget(name: "MPMTests", dependencies: ["MPM", "TestSupport"], swiftSettings: optimised),
        .testTarget(name: "ExportTests", dependencies: ["Export", "MPM", "NN", "JetData", "Tensors"], swiftSettings: optimised),
        .testTarget(name: "LuaBindingsTests", dependencies: ["LuaBindings", "MPM", "JetData", "Tensors", "CLua", "CSupport"]),
    ],
    swiftLanguageModes: [.v5]
)
