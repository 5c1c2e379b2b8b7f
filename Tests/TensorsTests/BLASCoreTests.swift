import XCTest
@testable import Tensors

/// BLASCore.recommendation: which OpenBLAS core to force (docs/architecture.md, "BLAS kernels").
final class BLASCoreTests: XCTestCase {
    let intel512 = CPUFlags(vendor: "GenuineIntel", avx2: true, avx512f: true, avx512bw: true,
                            avx512vl: true, avx512dq: true)
    let intelAVX2 = CPUFlags(vendor: "GenuineIntel", avx2: true)
    let amdAVX2 = CPUFlags(vendor: "AuthenticAMD", avx2: true)

    func testIntelAVX512OnPrescottGetsSkylakeX() {
        XCTAssertEqual(BLASCore.recommendation(current: "Prescott", flags: intel512, environment: [:]), "SkylakeX")
    }

    func testIntelAVX2OnPrescottGetsHaswell() {
        XCTAssertEqual(BLASCore.recommendation(current: "Prescott", flags: intelAVX2, environment: [:]), "Haswell")
        XCTAssertEqual(BLASCore.recommendation(current: "Nehalem", flags: intelAVX2, environment: [:]), "Haswell")
    }

    func testAMDOnGenericCoreGetsZen() {
        XCTAssertEqual(BLASCore.recommendation(current: "Barcelona", flags: amdAVX2, environment: [:]), "Zen")
    }

    /// OPENBLAS_CORETYPE=Haswell on an AVX-512 CPU: OpenBLAS runs half the CPU's width, and the
    /// product layer sends fp32 products to oneDNN instead (Products.oneDNNF32Wide).
    func testAVX2KernelsOnAnAVX512CPUAreNarrower() {
        let amd512 = CPUFlags(vendor: "AuthenticAMD", avx2: true, avx512f: true, avx512bw: true,
                              avx512vl: true, avx512dq: true, avx512bf16: true)
        XCTAssertTrue(BLASCore.runsNarrower(core: "Haswell", flags: amd512))
        XCTAssertTrue(BLASCore.runsNarrower(core: "Zen", flags: amd512))
        XCTAssertFalse(BLASCore.runsNarrower(core: "Cooperlake", flags: amd512))
        XCTAssertFalse(BLASCore.runsNarrower(core: "SkylakeX", flags: intel512))
        XCTAssertFalse(BLASCore.runsNarrower(core: "Zen", flags: amdAVX2))
    }

    func testAMDZenAlreadyRightIsLeftAlone() {
        XCTAssertNil(BLASCore.recommendation(current: "Zen", flags: amdAVX2, environment: [:]))
        XCTAssertNil(BLASCore.recommendation(current: "SkylakeX", flags: intel512, environment: [:]))
    }

    func testUserSetVariableIsNeverOverridden() {
        XCTAssertNil(BLASCore.recommendation(current: "Prescott", flags: intel512,
                                             environment: ["OPENBLAS_CORETYPE": "Prescott"]))
    }

    func testMarkerStopsASecondReexec() {
        XCTAssertNil(BLASCore.recommendation(current: "Prescott", flags: intel512,
                                             environment: [BLASCore.marker: "SkylakeX"]))
    }

    func testOldCPUKeepsGenericCore() {
        XCTAssertNil(BLASCore.recommendation(current: "Prescott", flags: CPUFlags(vendor: "GenuineIntel"), environment: [:]))
    }

    func testForcedCoreIsReportedOnlyWhenTheHostSetIt() {
        XCTAssertEqual(BLASCore.forcedCore(environment: ["OPENBLAS_CORETYPE": "Haswell", BLASCore.marker: "Haswell"]), "Haswell")
        XCTAssertNil(BLASCore.forcedCore(environment: ["OPENBLAS_CORETYPE": "Haswell"]))
    }

    func testLiveOpenBLASNamesItsCore() {
        XCTAssertFalse(BLASCore.coreName.isEmpty)
        XCTAssertTrue(BLASCore.configuration.hasPrefix("OpenBLAS"))
    }
}
