//! The content folder on disk: which files are cards, folder pages or
//! attachments, which are editor noise, and reading them without ever
//! leaving the folder (symlinks that point outside are skipped), and only
//! regular files. Relative paths are NFC whatever form the disk names them
//! in, so they match card ids. Read-only: Quire never writes into `content/`.

use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

use super::card::{FileStamp, RACY_WINDOW, RACY_WINDOW_WHOLE_SECONDS};
use super::card_id::{self, CardId};
use super::problem::Problem;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    Card,
    /// `_index.md`: a folder's title, description and order.
    FolderPage,
    /// `_synonyms.yaml` at the top: the team's synonym groups (read by
    /// search, never served).
    Synonyms,
    /// Any other file: images, PDFs, served as they are.
    Attachment,
    /// Hidden files and editor temp files: never content.
    Ignored,
}

/// What a path relative to the content folder is, from its name alone.
pub fn classify(rel_path: &str) -> FileKind {
    if rel_path.is_empty() || rel_path.split('/').any(is_ignored_name) {
        return FileKind::Ignored;
    }
    let name = rel_path.rsplit('/').next().unwrap_or(rel_path);
    if name == "_index.md" {
        FileKind::FolderPage
    } else if rel_path == super::synonyms::FILE {
        FileKind::Synonyms
    } else if name.ends_with(".md") {
        FileKind::Card
    } else {
        FileKind::Attachment
    }
}

/// Hidden files and the temp files editors write beside the one being saved:
/// vim's `.swp` and `4913` probe, emacs's `#name#` and `.#name`, `name~`
/// backups, and the `.tmp`/`.crswap` files of atomic saves.
pub fn is_ignored_name(name: &str) -> bool {
    name.starts_with('.')
        || name.ends_with('~')
        || (name.starts_with('#') && name.ends_with('#'))
        || name == "4913"
        || [".swp", ".swo", ".swx", ".tmp", ".crswap", ".bak"]
            .iter()
            .any(|ext| name.ends_with(ext))
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContentFile {
    /// Relative to the content folder, `/`-separated.
    pub rel_path: String,
    pub kind: FileKind,
    pub stamp: FileStamp,
}

/// The content folder, resolved once, so that every read can be checked to
/// stay inside it.
#[derive(Clone, Debug)]
pub struct ContentDir {
    root: PathBuf,
}

impl ContentDir {
    pub fn open(root: &Path) -> io::Result<Self> {
        let root = root.canonicalize()?;
        if !root.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::NotADirectory,
                format!("{} is not a folder", root.display()),
            ));
        }
        Ok(ContentDir { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Every card, folder page and attachment under `rel_dir` (`""` for all),
    /// with problems for what had to be skipped.
    pub fn walk(&self, rel_dir: &str) -> (Vec<ContentFile>, Vec<Problem>) {
        let mut files = Vec::new();
        let mut problems = Vec::new();
        let Some(start) = self.resolve(rel_dir) else {
            return (Vec::new(), problems);
        };
        let walker = walkdir::WalkDir::new(&start)
            .follow_links(false)
            .into_iter()
            .filter_entry(|e| {
                e.depth() == 0 || e.file_name().to_str().is_none_or(|n| !is_ignored_name(n))
            });
        for entry in walker {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    let path = e.path().and_then(|p| self.rel_path(p)).unwrap_or_default();
                    problems.push(Problem::error(&path, 0, 0, format!("cannot read: {e}")));
                    continue;
                }
            };
            match self.entry(&entry) {
                Ok(Some(file)) => files.push(file),
                Ok(None) => {}
                Err(problem) => problems.push(problem),
            }
        }
        let files = one_spelling_each(files, &mut problems);
        (files, problems)
    }

    /// What a walked entry is: a file of the folder (and whether its name
    /// is spelled on disk in another Unicode form than its NFC path), none
    /// (the root, a folder, a file ignored), or a problem.
    fn entry(&self, entry: &walkdir::DirEntry) -> Result<Option<(ContentFile, bool)>, Problem> {
        if entry.depth() == 0 {
            return Ok(None);
        }
        let Some(rel_path) = self.rel_path(entry.path()) else {
            return Err(self.non_utf8_name(entry.path()));
        };
        let file_type = entry.file_type();
        if file_type.is_dir() {
            return Ok(None);
        }
        if !file_type.is_file() && !file_type.is_symlink() {
            return Err(not_regular(&rel_path));
        }
        let metadata = if file_type.is_symlink() {
            self.symlink_target(entry.path(), &rel_path)?
        } else {
            entry
                .metadata()
                .map_err(|e| Problem::error(&rel_path, 0, 0, format!("cannot read: {e}")))?
        };
        let kind = classify(&rel_path);
        if kind == FileKind::Ignored {
            return Ok(None);
        }
        if kind == FileKind::Card && CardId::from_rel_path(&rel_path).is_none() {
            return Err(Problem::error(
                &rel_path,
                0,
                0,
                "path is too long or not a valid card id; rename it",
            ));
        }
        // Paths are NFC: a name spelled otherwise on disk comes second.
        let other_form = entry.path() != self.root.join(&rel_path);
        let file = ContentFile {
            rel_path,
            kind,
            stamp: stamp_of(&metadata),
        };
        Ok(Some((file, other_form)))
    }

    /// The stamp of the file at `rel_path`, or `None` when it is not a
    /// regular file inside the folder (gone, a folder, or a link outside).
    pub fn stat(&self, rel_path: &str) -> Option<FileStamp> {
        let path = self.resolve(rel_path)?;
        let meta = fs::symlink_metadata(&path).ok()?;
        let meta = if meta.file_type().is_symlink() {
            self.symlink_target_inside(&path)?
        } else {
            meta
        };
        meta.is_file().then(|| stamp_of(&meta))
    }

    pub fn is_dir(&self, rel_path: &str) -> bool {
        self.resolve(rel_path)
            .and_then(|p| fs::symlink_metadata(p).ok())
            .is_some_and(|m| m.is_dir())
    }

    /// Reads a regular file inside the folder; refuses paths that leave it
    /// and anything else (see [`open_regular`]).
    pub fn read(&self, rel_path: &str) -> io::Result<Vec<u8>> {
        read_all(self.open_inside(rel_path)?, u64::MAX)
    }

    /// Like `read`, but never holds more than `limit + 1` bytes: a file
    /// that grows past the card limit is not read whole into memory.
    pub fn read_at_most(&self, rel_path: &str, limit: usize) -> io::Result<Vec<u8>> {
        read_all(self.open_inside(rel_path)?, limit as u64 + 1)
    }

    /// Opens `rel_path` if it is a regular file inside the folder (after
    /// following symlinks). On Linux the kernel keeps the whole lookup
    /// inside (`beneath::open`): no symlink swapped in between a check and
    /// the open can lead out, and a cold build no longer resolves every
    /// component of every path itself. Elsewhere, and for what the kernel
    /// will not resolve that way, the real path is checked, then opened.
    fn open_inside(&self, rel_path: &str) -> io::Result<fs::File> {
        let leaves = || {
            io::Error::new(
                io::ErrorKind::PermissionDenied,
                "path leaves the content folder",
            )
        };
        let path = self.resolve(rel_path).ok_or_else(leaves)?;
        #[cfg(target_os = "linux")]
        if let Ok(rel) = path.strip_prefix(&self.root)
            && let Some(opened) = beneath::open(&self.root, rel)
        {
            return regular(opened?);
        }
        let canonical = path.canonicalize()?;
        if !canonical.starts_with(&self.root) {
            return Err(leaves());
        }
        open_regular(&canonical)
    }

    /// Joins a relative `/`-separated path onto the root, refusing `..`,
    /// absolute paths and prefixes. Paths here are NFC; when nothing is
    /// there, the NFD spelling is tried (one `lstat`), for files saved on macOS.
    pub fn resolve(&self, rel_path: &str) -> Option<PathBuf> {
        let path = self.root.join(relative(rel_path)?);
        if rel_path.is_ascii() || fs::symlink_metadata(&path).is_ok() {
            return Some(path);
        }
        match card_id::nfd(rel_path) {
            std::borrow::Cow::Owned(decomposed) => {
                let other = self.root.join(decomposed);
                Some(if fs::symlink_metadata(&other).is_ok() {
                    other
                } else {
                    path
                })
            }
            std::borrow::Cow::Borrowed(_) => Some(path),
        }
    }

    /// The path relative to the root, `/`-separated and in NFC, or `None`
    /// when it is not under the root or not UTF-8.
    pub fn rel_path(&self, path: &Path) -> Option<String> {
        let rel = path.strip_prefix(&self.root).ok()?;
        let parts: Option<Vec<&str>> = rel.components().map(|c| c.as_os_str().to_str()).collect();
        Some(card_id::nfc(&parts?.join("/")).into_owned())
    }

    /// Why a path the watcher reported is not content although it exists:
    /// a name that is not UTF-8, or a symlink that leaves the folder or
    /// names a folder. `None` when it is content, or gone.
    pub fn skipped(&self, path: &Path) -> Option<Problem> {
        let meta = fs::symlink_metadata(path).ok()?;
        let Some(rel_path) = self.rel_path(path) else {
            return path
                .starts_with(&self.root)
                .then(|| self.non_utf8_name(path));
        };
        if meta.is_dir() || meta.is_file() {
            return None;
        }
        if !meta.file_type().is_symlink() {
            return Some(not_regular(&rel_path));
        }
        self.symlink_target(path, &rel_path).err()
    }

    fn non_utf8_name(&self, path: &Path) -> Problem {
        let lossy = path
            .strip_prefix(&self.root)
            .unwrap_or(path)
            .to_string_lossy()
            .into_owned();
        Problem::error(&lossy, 0, 0, "file name is not valid UTF-8; rename it")
    }

    /// The metadata of a symlink's target when it is a file inside the
    /// folder; otherwise why it is skipped.
    fn symlink_target(&self, path: &Path, rel_path: &str) -> Result<fs::Metadata, Problem> {
        match self.symlink_target_inside(path) {
            Some(m) if m.is_file() => Ok(m),
            Some(m) if !m.is_dir() => Err(not_regular(rel_path)),
            Some(_) => Err(Problem::warning(
                rel_path,
                0,
                0,
                "symlinked folders are not followed; skipped",
            )),
            None => Err(Problem::warning(
                rel_path,
                0,
                0,
                "symlink points outside the content folder; skipped",
            )),
        }
    }

    fn symlink_target_inside(&self, path: &Path) -> Option<fs::Metadata> {
        let target = path.canonicalize().ok()?;
        if !target.starts_with(&self.root) {
            return None;
        }
        fs::metadata(target).ok()
    }
}

/// `rel_path` as a path that stays below whatever it is joined to: no
/// `..`, no root, no prefix, no backslash.
fn relative(rel_path: &str) -> Option<&Path> {
    let rel = Path::new(rel_path);
    let below = !rel_path.contains('\\')
        && rel
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
    below.then_some(rel)
}

/// Reads `rel` under `root` (a theme's static folder), refusing `..`,
/// absolute paths, symlinks that lead out of `root` and anything but a
/// regular file.
pub fn read_under(root: &Path, rel: &str) -> Option<Vec<u8>> {
    if rel.is_empty() {
        return None;
    }
    let root = root.canonicalize().ok()?;
    let path = root.join(relative(rel)?).canonicalize().ok()?;
    if !path.starts_with(&root) {
        return None;
    }
    read_regular(&path, u64::MAX).ok()
}

/// Each path once: where two files spell one name in different Unicode
/// forms, the NFC one is read and the other reported.
fn one_spelling_each(
    mut files: Vec<(ContentFile, bool)>,
    problems: &mut Vec<Problem>,
) -> Vec<ContentFile> {
    files.sort_by(|(a, a_other), (b, b_other)| {
        a.rel_path.cmp(&b.rel_path).then(a_other.cmp(b_other))
    });
    files.dedup_by(|(later, _), (first, _)| {
        let same = later.rel_path == first.rel_path;
        if same {
            problems.push(Problem::error(
                &later.rel_path,
                0,
                0,
                "two files spell this name in different Unicode forms (NFC and NFD); only one is read: rename or remove the other",
            ));
        }
        same
    });
    files.into_iter().map(|(file, _)| file).collect()
}

/// A FIFO, socket or device under `content/`: opening a FIFO for reading
/// waits for a writer, so only regular files are ever read.
fn not_regular(rel_path: &str) -> Problem {
    Problem::warning(
        rel_path,
        0,
        0,
        "not a regular file (a FIFO, socket or device); skipped",
    )
}

/// Opens `path` for reading if it is a regular file, and refuses anything
/// else without blocking: the open is non-blocking (a FIFO's open would wait
/// for a writer forever) and the type is checked on the opened handle, so
/// a file swapped for a FIFO after a `stat` is refused too. Regular files
/// ignore `O_NONBLOCK`, so the handle reads as usual.
pub fn open_regular(path: &Path) -> io::Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    regular(options.open(path)?)
}

/// `file` if it is a regular file.
fn regular(file: fs::File) -> io::Result<fs::File> {
    if !file.metadata()?.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file (a FIFO, socket or device)",
        ));
    }
    Ok(file)
}

/// Reads at most `limit` bytes of the regular file at `path`.
pub fn read_regular(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    read_all(open_regular(path)?, limit)
}

fn read_all(file: fs::File, limit: u64) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    file.take(limit).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Opening a path with the kernel keeping its lookup under a folder:
/// Linux's `openat2` with `RESOLVE_BENEATH` (Linux 5.6).
#[cfg(target_os = "linux")]
mod beneath {
    use std::ffi::CString;
    use std::fs;
    use std::io;
    use std::os::fd::{AsRawFd, FromRawFd};
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::OpenOptionsExt;
    use std::path::Path;

    /// Opens `rel` under `root` for reading, following only symlinks that
    /// stay under it; `None` when the kernel cannot tell: no `openat2`
    /// (an older kernel, a seccomp filter), or a lookup it refuses that
    /// may yet be inside (an absolute symlink, refused even when it points
    /// into the folder). The root is opened each time, not kept: a folder
    /// replaced under the same name is the one read.
    pub(super) fn open(root: &Path, rel: &Path) -> Option<io::Result<fs::File>> {
        let path = CString::new(rel.as_os_str().as_bytes()).ok()?;
        let dir = match fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_PATH | libc::O_DIRECTORY)
            .open(root)
        {
            Ok(dir) => dir,
            Err(e) => return Some(Err(e)),
        };
        // SAFETY: an all-zero `open_how` is a valid one (no flags, mode 0,
        // no resolve flags); its fields are then set.
        let mut how: libc::open_how = unsafe { std::mem::zeroed() };
        how.flags = (libc::O_RDONLY | libc::O_NONBLOCK | libc::O_CLOEXEC | libc::O_NOCTTY) as u64;
        how.resolve = libc::RESOLVE_BENEATH | libc::RESOLVE_NO_MAGICLINKS;
        // SAFETY: `dir` is an open descriptor, `path` a NUL-terminated
        // string and `how` an `open_how` of the size passed, all alive for
        // the call, which reads them and writes nothing of ours.
        let fd = unsafe {
            libc::syscall(
                libc::SYS_openat2,
                dir.as_raw_fd(),
                path.as_ptr(),
                &how as *const libc::open_how,
                std::mem::size_of::<libc::open_how>(),
            )
        };
        if fd >= 0 {
            // SAFETY: the call returned a new descriptor that nothing else owns.
            return Some(Ok(unsafe { fs::File::from_raw_fd(fd as i32) }));
        }
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EXDEV | libc::ENOSYS | libc::EPERM | libc::EINVAL | libc::E2BIG) => None,
            _ => Some(Err(e)),
        }
    }
}

pub fn stamp_of(meta: &fs::Metadata) -> FileStamp {
    let mtime_ns = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as i128);
    let now_ns = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i128);
    FileStamp {
        size: meta.len(),
        mtime_ns,
        ctime_ns: change_time_ns(meta),
        inode: inode(meta),
        racy: is_racy(mtime_ns, now_ns),
    }
}

/// A stamp taken less than [`RACY_WINDOW`] after the file's modification
/// time, or before it (a clock set back, a file from a machine whose clock
/// runs ahead), may not change with the next write. A time in whole
/// seconds is taken to come from a file system that keeps no fraction
/// (on one that does, a time falls on a whole second once in millions).
fn is_racy(mtime_ns: i128, now_ns: i128) -> bool {
    let window = if mtime_ns % 1_000_000_000 == 0 {
        RACY_WINDOW_WHOLE_SECONDS
    } else {
        RACY_WINDOW
    };
    now_ns - mtime_ns < window.as_nanos() as i128
}

#[cfg(unix)]
fn change_time_ns(meta: &fs::Metadata) -> i128 {
    use std::os::unix::fs::MetadataExt;
    i128::from(meta.ctime()) * 1_000_000_000 + i128::from(meta.ctime_nsec())
}

#[cfg(unix)]
fn inode(meta: &fs::Metadata) -> u64 {
    use std::os::unix::fs::MetadataExt;
    meta.ino()
}

#[cfg(not(unix))]
fn change_time_ns(_: &fs::Metadata) -> i128 {
    0
}

#[cfg(not(unix))]
fn inode(_: &fs::Metadata) -> u64 {
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stamp_taken_in_the_moments_after_a_write_or_before_it_is_racy() {
        let (s, ms) = (1_000_000_000_i128, 1_000_000_i128);
        // A file system with fractions of a second: one clock tick is a
        // few milliseconds.
        let written = 1_700_000_000 * s + 123_456_789;
        assert!(is_racy(written, written), "in the same tick");
        assert!(is_racy(written, written + 50 * ms), "50 ms later");
        assert!(is_racy(written, written - 5 * s), "a file from the future");
        assert!(!is_racy(written, written + 200 * ms), "200 ms later");
        assert!(!is_racy(written, written + 3600 * s), "an hour later");
        // One that keeps whole seconds (or two, as FAT does).
        let whole = 1_700_000_000 * s;
        assert!(is_racy(whole, whole + s + 900 * ms), "within two seconds");
        assert!(!is_racy(whole, whole + 2 * s), "two seconds later");
    }

    #[test]
    fn a_racy_stamp_vouches_for_nothing_not_even_itself() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.md");
        fs::write(&path, "one").unwrap();
        let set_mtime = |t: std::time::SystemTime| {
            fs::File::options()
                .write(true)
                .open(&path)
                .and_then(|f| f.set_modified(t))
                .unwrap();
        };
        let now = std::time::SystemTime::now();
        let hour = std::time::Duration::from_secs(3600);
        // From the future: racy however long the stat below takes.
        set_mtime(now + hour);
        let fresh = stamp_of(&fs::metadata(&path).unwrap());
        assert!(fresh.racy);
        assert!(!fresh.vouches_for(&fresh));
        set_mtime(now - hour);
        let settled = stamp_of(&fs::metadata(&path).unwrap());
        assert!(!settled.racy);
        assert!(settled.vouches_for(&settled));
        assert!(!settled.vouches_for(&fresh) && !fresh.vouches_for(&settled));
    }

    #[test]
    fn editor_noise_is_never_content() {
        for name in [
            "a/.b.md.swp",
            "a/b.md~",
            "a/#b.md#",
            "a/.#b.md",
            "a/4913",
            ".git/config",
            "a/.hidden.md",
            "a/b.md.tmp",
        ] {
            assert_eq!(classify(name), FileKind::Ignored, "{name}");
        }
    }

    #[test]
    fn markdown_is_a_card_index_is_a_folder_page_and_the_rest_attachments() {
        assert_eq!(classify("a/b.md"), FileKind::Card);
        assert_eq!(classify("a/_index.md"), FileKind::FolderPage);
        assert_eq!(classify("a/chart.png"), FileKind::Attachment);
    }

    #[test]
    fn a_fifo_is_skipped_by_the_walk_and_refused_by_reads_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("a")).unwrap();
        std::fs::write(dir.path().join("a/card.md"), "x").unwrap();
        let fifo = dir.path().join("a/x.md");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        let content = ContentDir::open(dir.path()).unwrap();
        let (files, problems) = content.walk("");
        let names: Vec<_> = files.iter().map(|f| f.rel_path.as_str()).collect();
        assert_eq!(names, ["a/card.md"]);
        assert_eq!(problems[0].path, "a/x.md");
        assert!(problems[0].message.contains("not a regular file"));
        let refused = content.read_at_most("a/x.md", 100).unwrap_err();
        assert_eq!(refused.kind(), io::ErrorKind::InvalidInput);
        assert!(content.read("a/x.md").is_err());
        assert_eq!(content.stat("a/x.md"), None);
        assert!(content.skipped(&fifo).is_some());
        assert_eq!(content.read("a/card.md").unwrap(), b"x");
    }

    #[test]
    fn walking_skips_symlinks_that_leave_the_folder() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(
            outside.path().join("secret.md"),
            "---\ntitle: secret\n---\n",
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("a")).unwrap();
        std::fs::write(dir.path().join("a/card.md"), "x").unwrap();
        std::os::unix::fs::symlink(
            outside.path().join("secret.md"),
            dir.path().join("a/leak.md"),
        )
        .unwrap();
        let content = ContentDir::open(dir.path()).unwrap();
        let (files, problems) = content.walk("");
        let names: Vec<_> = files.iter().map(|f| f.rel_path.as_str()).collect();
        assert_eq!(names, ["a/card.md"]);
        assert!(problems[0].message.contains("outside"));
        assert!(content.read("a/leak.md").is_err());
        assert!(content.read("../x").is_err());
        assert!(content.resolve("/etc/passwd").is_none());
    }

    #[test]
    fn reads_follow_symlinks_that_stay_inside_and_no_other() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::create_dir(outside.path().join("d")).unwrap();
        std::fs::write(outside.path().join("d/secret.md"), "secret").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for folder in ["a", "b"] {
            std::fs::create_dir(root.join(folder)).unwrap();
        }
        std::fs::write(root.join("b/real.md"), "real").unwrap();
        let link = |target: &Path, name: &str| {
            std::os::unix::fs::symlink(target, root.join(name)).unwrap();
        };
        link(Path::new("../b/real.md"), "a/relative.md");
        link(&root.join("b/real.md"), "a/absolute.md");
        link(Path::new("../b"), "a/folder");
        link(Path::new("../../escape"), "a/climbs.md");
        link(outside.path(), "a/away");
        let content = ContentDir::open(root).unwrap();
        for inside in ["a/relative.md", "a/absolute.md", "a/folder/real.md"] {
            assert_eq!(content.read(inside).unwrap(), b"real", "{inside}");
        }
        for leaving in ["a/climbs.md", "a/away/d/secret.md", "a/folder/../../x"] {
            assert!(content.read(leaving).is_err(), "{leaving}");
            assert!(content.read_at_most(leaving, 10).is_err(), "{leaving}");
        }
        assert!(content.read("a/folder").is_err(), "a folder is not a card");
    }
}
