import Foundation

// `TENANTRY_FUZZ_TARGET=NAME tenantry-fuzz [libFuzzer flags] [CORPUS…]` runs one of `FuzzTargets.all` under
// libFuzzer, which brings its own `main`. Only `scripts/fuzz.sh` builds it that way (`--sanitize fuzzer
// -Xswiftc -DTENANTRY_FUZZ`, in .build-fuzz); the normal build gets a `main` that says so.

#if TENANTRY_FUZZ
nonisolated(unsafe) private var chosen: ([UInt8]) -> Void = { _ in }

@_cdecl("LLVMFuzzerInitialize")
func fuzzerInitialize(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> Int32 {
    let name = ProcessInfo.processInfo.environment["TENANTRY_FUZZ_TARGET"] ?? ""
    guard let target = FuzzTargets.all[name] else {
        FuzzTargets.fail("set TENANTRY_FUZZ_TARGET to one of \(FuzzTargets.all.keys.sorted().joined(separator: ", ")) (got \"\(name)\")")
    }
    chosen = target
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    chosen(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}
#else
@main
enum FuzzMain {
    static func main() {
        FuzzTargets.fail("tenantry-fuzz: this build has no libFuzzer; run the fuzz targets with scripts/fuzz.sh")
    }
}
#endif
