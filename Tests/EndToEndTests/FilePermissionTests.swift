import Foundation
import Glibc
import Testing

/// Symbolic links planted in shared results folders, results reached through another
/// user's link, queue folders of another user, and the modes of queue files (issue 14,
/// parts 6 and 7).
@Suite(.serialized)
struct FilePermissionTests {
    static let victimText = "precious, not to be overwritten\n"
    /// The uid of `nobody`: links and folders of another user (only root can make them).
    static let otherUser: uid_t = 65534

    func project() throws -> Project {
        let project = try Project()
        try project.write("configs/e/t-1.yaml", "n: 1\n")
        try project.write("task.sh", "#!/bin/sh\necho ran >> ran.txt\n", executable: true)
        try project.write("cmds.txt", "touch started\n")
        try project.write("victim.txt", Self.victimText)
        return project
    }

    /// multirun run through `sh -c 'SETUP; exec multirun ARGS'`: SETUP knows the pid multirun
    /// will have ($$, kept by exec), so it can plant files under names made of it.
    func multirunAfter(_ setup: String, _ arguments: [String], in project: Project) throws -> (status: Int32, stdout: String, stderr: String) {
        try Launched("/bin/sh", ["-c", "\(setup)\nexec \"$0\" \"$@\"", Binaries.multirun] + arguments, in: project).finish()
    }

    func mode(_ path: String) -> mode_t {
        var info = stat()
        return lstat(path, &info) == 0 ? info.st_mode & 0o7777 : 0
    }

    func isSymlink(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFLNK
    }

    static let configRun = ["-c", "t-", "--runner", "./task.sh {config}", "-gpu", "false", "-check", "false"]

    /// A link planted at the completion marker's temp name (`multirun-done.json.tmp-<pid>`)
    /// is removed and written around: the run succeeds, the marker is a file of its own, and
    /// the file the link pointed to is untouched.
    @Test func aLinkAtATempFileNameIsRemovedNotFollowed() throws {
        let project = try project()
        // A first run makes the results folder multirun's own; the edit makes the next run it again.
        #expect(try multirun(Self.configRun, in: project).status == 0)
        try project.write("configs/e/t-1.yaml", "n: 2\n")
        let result = try multirunAfter("ln -s \"$PWD/victim.txt\" results/e/t-1/multirun-done.json.tmp-$$", Self.configRun, in: project)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.isEmpty, "\(result.stderr)")
        #expect(try project.read("victim.txt") == Self.victimText)
        #expect(!isSymlink(project.path("results/e/t-1/multirun-done.json")))
        #expect(try project.read("results/e/t-1/multirun-done.json").contains("\"config\": \"configs/e/t-1.yaml\""))
        #expect((try FileManager.default.contentsOfDirectory(atPath: project.path("results/e/t-1"))).sorted() == ["multirun-attempt.json", "multirun-done.json"])
    }

    /// Plants `name` as a link to victim.txt in every run folder this run could get (its pid
    /// is $$; its second is now or one of the next few).
    static func plantInRunFolders(_ name: String) -> String {
        """
        now=$(date +%s)
        for s in 0 1 2 3 4 5; do
          folder=results/runs/$(date -u -d @$((now + s)) +%Y%m%dT%H%M%SZ)-$$
          mkdir -p "$folder/logs" && ln -s "$PWD/victim.txt" "$folder/\(name)"
        done
        """
    }

    /// A link planted at tasks.jsonl of the run folder: the run refuses to start, in one
    /// line naming the link and the fix, and writes nothing through it.
    @Test func aLinkAtTasksJSONLStopsTheRunBeforeItStarts() throws {
        let project = try project()
        let result = try multirunAfter(Self.plantInRunFolders("tasks.jsonl"), ["--commands", "cmds.txt", "-gpu", "false", "-check", "false"], in: project)
        #expect(result.status == 2)
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        #expect(result.stderr.hasPrefix("multirun: cannot start the run: results/runs/"), "\(result.stderr)")
        #expect(result.stderr.hasSuffix("/tasks.jsonl is a symbolic link, and multirun never writes through one in a results or queue folder; remove it (rm \(result.stderr.split(separator: " ")[5])) and run again\n"), "\(result.stderr)")
        #expect(try project.read("victim.txt") == Self.victimText)
        #expect(!project.exists("started"))
    }

    /// A link planted at a task's log: that task does not start (its line says why), the
    /// others run, and nothing is written through the link.
    @Test func aLinkAtATaskLogFailsThatTaskOnly() throws {
        let project = try project()
        try project.write("cmds.txt", "touch started-1\ntouch started-2\n")
        let result = try multirunAfter(Self.plantInRunFolders("logs/task-1.log"), ["--commands", "cmds.txt", "-gpu", "false", "-check", "false"], in: project)
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        let line = try #require(result.stdout.split(separator: "\n").first { $0.contains("could not start") })
        #expect(line.hasPrefix("The process could not start (results/runs/"), "\(line)")
        #expect(line.hasSuffix("/logs/task-1.log is a symbolic link, and multirun never writes through one in a results or queue folder; remove it (rm \(line.split(separator: " ")[5].dropFirst())) and run again): touch started-1 [1/2]"), "\(line)")
        #expect(try project.read("victim.txt") == Self.victimText)
        #expect(!project.exists("started-1") && project.exists("started-2"))
    }

    /// Who may make links and folders that belong to another user: root only.
    func requireRoot() -> Bool {
        if geteuid() == 0 { return true }
        print("skipped: needs root, to make files that belong to another user (uid \(Self.otherUser))")
        return false
    }

    /// results -> elsewhere, the link owned by another user: refused before anything starts;
    /// the same link owned by the user runs.
    @Test func aResultsFolderThroughAnotherUsersLinkIsRefused() throws {
        guard requireRoot() else { return }
        let project = try project()
        try FileManager.default.createDirectory(atPath: project.path("elsewhere"), withIntermediateDirectories: true)
        #expect(symlink("elsewhere", project.path("results")) == 0)
        #expect(lchown(project.path("results"), Self.otherUser, Self.otherUser) == 0)
        let expected = "multirun: results folder 'results' leads through the symbolic link 'results', which belongs to user id 65534 (not you or root) and could send what multirun writes anywhere; remove the link (rm results), or pass --results DIR\n"
        for arguments in [Self.configRun, ["--commands", "cmds.txt", "-gpu", "false", "-check", "false"],
                          ["submit", "-c", "t-", "--runner", "./task.sh {config}"]] {
            let result = try multirun(arguments, in: project)
            #expect(result.status == 2, "\(arguments)")
            #expect(result.stderr == expected, "\(arguments): \(result.stderr)")
            #expect(result.stdout.isEmpty)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: project.path("elsewhere")).isEmpty)
        #expect(!project.exists("ran.txt") && !project.exists("started") && !project.exists(".multirun"))

        // A link further down, in a results folder that is the user's own.
        unlink(project.path("results"))
        try FileManager.default.createDirectory(atPath: project.path("results"), withIntermediateDirectories: true)
        #expect(symlink("../elsewhere", project.path("results/e")) == 0)
        #expect(lchown(project.path("results/e"), Self.otherUser, Self.otherUser) == 0)
        let deeper = try multirun(Self.configRun, in: project)
        #expect(deeper.status == 2)
        #expect(deeper.stderr == "multirun: results folder 'results/e/t-1' leads through the symbolic link 'results/e', which belongs to user id 65534 (not you or root) and could send what multirun writes anywhere; remove the link (rm results/e), or pass --results DIR\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: project.path("elsewhere")).isEmpty)

        // The user's own link is followed.
        #expect(lchown(project.path("results/e"), 0, 0) == 0)
        let own = try multirun(Self.configRun, in: project)
        #expect(own.status == 0, "\(own.stderr)")
        #expect(project.exists("elsewhere/t-1/multirun-done.json"))
    }

    /// status, status --json, wait, drain and cancel make the check daemon and submit make.
    @Test func everyQueueCommandRefusesAnotherUsersFolder() throws {
        guard requireRoot() else { return }
        let project = try project()
        try FileManager.default.createDirectory(atPath: project.path(".multirun"), withIntermediateDirectories: true)
        chmod(project.path(".multirun"), 0o700)
        #expect(chown(project.path(".multirun"), Self.otherUser, Self.otherUser) == 0)
        let expected = "multirun: queue folder '.multirun' belongs to user id 65534, not you; use your own with --queue DIR\n"
        for arguments in [["daemon", "-gpu", "false", "-d", "1", "--exit-when-idle"], ["submit", "-c", "t-", "--runner", "./task.sh {config}"],
                          ["status"], ["status", "--json"], ["wait"], ["drain"], ["cancel", "--all"]] {
            let result = try multirun(arguments, in: project)
            #expect(result.status == 2, "\(arguments)")
            #expect(result.stderr == expected, "\(arguments): \(result.stderr)")
            #expect(result.stdout.isEmpty, "\(arguments): \(result.stdout)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: project.path(".multirun")).isEmpty)
    }

    /// Under umask 000 the queue folder is made 0700 and every queue file 0600 (journal,
    /// locks, key index, environment, log, status cache; exit records and pid files are
    /// gone once the scheduler has read them, and go through the same helper), while the
    /// files under results/ follow the umask; a 0777 queue folder is refused.
    @Test func queueFilesAreOwnerOnlyUnderUmask000() throws {
        let project = try project()
        let submit = try multirunAfter("umask 000", ["submit", "-c", "t-", "--runner", "./task.sh {config}"], in: project)
        #expect(submit.status == 0, "\(submit.stderr)")
        let daemon = try multirunAfter("umask 000", ["daemon", "-gpu", "false", "-d", "1", "--exit-when-idle"], in: project)
        #expect(daemon.status == 0, "\(daemon.stderr)")
        #expect(try multirunAfter("umask 000", ["status"], in: project).status == 0)
        #expect(project.exists("ran.txt"))
        #expect(mode(project.path(".multirun")) == 0o700)
        var files: [String] = []
        let walker = try #require(FileManager.default.enumerator(atPath: project.path(".multirun")))
        for case let name as String in walker {
            let path = project.path(".multirun/" + name)
            var info = stat()
            #expect(lstat(path, &info) == 0)
            if info.st_mode & S_IFMT == S_IFDIR {
                #expect(info.st_mode & 0o777 == 0o700, "\(name): \(String(info.st_mode & 0o777, radix: 8))")
            } else {
                files.append(name)
                #expect(info.st_mode & 0o777 == 0o600, "\(name): \(String(info.st_mode & 0o777, radix: 8))")
            }
        }
        for expected in ["journal.jsonl", "journal.lock", "keys.idx", "next-id", "submit.lock", "scheduler.lock", "scheduler.log",
                         "logs/1-1.log", "env/1.env", "cache/status.json"] {
            #expect(files.contains(expected), "no \(expected) among \(files.sorted())")
        }
        #expect(mode(project.path("results/e/t-1/multirun-done.json")) == 0o644)
        #expect(mode(project.path("results/e/t-1/multirun-attempt.json")) == 0o644)

        let open = try Project()
        try FileManager.default.createDirectory(atPath: open.path(".multirun"), withIntermediateDirectories: true)
        chmod(open.path(".multirun"), 0o777)
        let refused = try multirun(["status"], in: open)
        #expect(refused.status == 2)
        #expect(refused.stderr == "multirun: queue folder '.multirun' is writable by group or others (mode 777); run chmod 700 .multirun\n")
    }

    /// A queue folder of the user's that others can read (0755, as mkdir makes it) is
    /// narrowed to 0700, saying so once; then status runs as usual.
    @Test func aQueueFolderOthersCanReadIsNarrowed() throws {
        let project = try project()
        try FileManager.default.createDirectory(atPath: project.path(".multirun"), withIntermediateDirectories: true)
        chmod(project.path(".multirun"), 0o755)
        let first = try multirun(["status"], in: project)
        #expect(first.status == 0)
        #expect(first.stderr == "multirun: queue folder '.multirun' was readable by group or others (mode 755); made it 700, as its logs and environments are yours alone\n")
        #expect(mode(project.path(".multirun")) == 0o700)
        let second = try multirun(["status"], in: project)
        #expect(second.status == 0 && second.stderr.isEmpty, "\(second.stderr)")
    }
}
