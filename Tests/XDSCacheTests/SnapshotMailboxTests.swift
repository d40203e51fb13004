import Testing
import XDSCache

@Suite struct SnapshotMailboxTests {
    @Test("a slow consumer gets only the newest snapshot, and is woken once per batch")
    func latestWins() {
        let mailbox = SnapshotMailbox()
        let snapshots = (0..<100).map { Snapshot([Fixture.cluster("c\($0)")]) }
        let wakeUps = snapshots.filter { mailbox.put($0) }.count
        #expect(wakeUps == 1)
        #expect(mailbox.take() == snapshots.last)
        #expect(mailbox.take() == nil, "nothing older was queued")
        #expect(mailbox.put(snapshots[0]), "an empty mailbox wakes the consumer again")
    }
}
