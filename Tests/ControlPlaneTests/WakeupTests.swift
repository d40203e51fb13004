import Testing

@testable import ControlPlane

/// The sleep a signal cuts short, which the config watcher and the prober wait on.
@Suite struct WakeupTests {
    @Test("a signal ends a wait at once, before or during it; otherwise the timeout does")
    func signalOrTimeout() async {
        let wakeup = Wakeup()
        let started = ContinuousClock.now
        async let woken = wakeup.wait(atMost: .seconds(60))
        wakeup.signal()
        #expect(await woken)

        wakeup.signal()
        #expect(await wakeup.wait(atMost: .seconds(60)), "a signal while nobody waits ends the next wait")
        #expect(ContinuousClock.now - started < .seconds(30))

        #expect(await wakeup.wait(atMost: .milliseconds(10)) == false)
    }

    @Test("many signalled waits in a row each end at once")
    func manyWaits() async {
        let wakeup = Wakeup()
        let started = ContinuousClock.now
        for _ in 0..<1000 {
            async let woken = wakeup.wait(atMost: .seconds(60))
            wakeup.signal()
            #expect(await woken)
        }
        #expect(ContinuousClock.now - started < .seconds(30))
    }
}
