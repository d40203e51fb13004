import TrellisFuzzing

/// libFuzzer's entry point: one input through `ConfigFuzzer.fuzz`, which traps on a broken invariant.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    ConfigFuzzer.fuzz(Array(UnsafeRawBufferPointer(start: start, count: count)))
    return 0
}
