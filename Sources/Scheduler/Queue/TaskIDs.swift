/// Task ids: 1, 2, 3, … in submission order, unique within a queue folder, short enough to
/// type into `cancel`. The next one is kept in `next-id` and reserved (written durably,
/// under submit.lock) *before* the journal append, so a crash can skip ids but never hand
/// one out twice. A second `submitted` event with a taken id is dropped as a replay, so a
/// reused id would lose a task: random 32-bit ids did, about once per 100,000 tasks.
enum TaskIDs {
    /// Reserves `count` ids and returns the first. Call with submit.lock held.
    static func reserve(_ count: Int, in folder: QueueFolder) throws(SystemError) -> Int {
        let first = next(in: folder)
        if count > 0 { try FileIO.writeAtomically(folder.nextID, Array("\(first + count)\n".utf8), access: .owner) }
        return first
    }

    /// The next free id: from `next-id`, or, when that file is missing or unreadable (a
    /// queue made before it existed), one past the largest numeric id in the journal.
    static func next(in folder: QueueFolder) -> Int {
        if let text = try? FileIO.readText(folder.nextID),
           let value = Int(text.split(separator: "\n").first ?? ""), value > 0 {
            return value
        }
        var largest = 0
        try? Journal(folder: folder).readAll(light: true) { event in
            if case .submitted(let task) = event, let number = Int(task.id) { largest = max(largest, number) }
        }
        return largest + 1
    }
}
