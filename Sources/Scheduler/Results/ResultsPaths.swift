import Glibc

/// The rule for results paths: none may lead through a symbolic link that belongs to
/// another user (not the one running, not root). Such a link in a shared results folder
/// would send the files a run writes (as root, perhaps) wherever its owner points it. A
/// link of the user's own (results -> /scratch/me) is fine.
enum ResultsPaths {
    static func refusal(_ path: String, link: String, owner: uid_t) -> String {
        "results folder '\(path)' leads through the symbolic link '\(link)', which belongs to user id \(owner) (not you or root) and could send what multirun writes anywhere; remove the link (rm \(link)), or pass --results DIR"
    }

    /// Refuses the first of `folders` that leads through another user's link; checked before
    /// anything starts or is written.
    static func check(_ folders: some Sequence<String>) throws(UsageError) {
        var verified: Set<String> = []
        for folder in folders {
            if let (link, owner) = FileIO.foreignSymlink(on: folder, verified: &verified) {
                throw UsageError(refusal(folder, link: link, owner: owner))
            }
        }
    }
}
