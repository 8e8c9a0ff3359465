//! The model of a disk behind a page cache: every file and directory as the
//! programs see it now, and as it would be found after a power cut.
//!
//! A file's content is pages shared copy-on-write between the two views, so
//! an fsync costs the pages it makes durable, not the file's size.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::{OsStr, OsString};
use std::sync::Arc;
use std::time::SystemTime;

pub(crate) const PAGE: u64 = 4096;
pub(crate) const ROOT: u64 = 1;

/// What an fsync does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fsync {
    /// Makes the file's (or directory's) current state durable.
    Honoured,
    /// Answers success and makes nothing durable: a disk whose cache lies.
    /// Only [`Disk::writeback`] makes data durable then.
    Ignored,
}

/// When a directory's entries (a file created, removed or renamed) become
/// durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entries {
    /// At once, as on filesystems that journal metadata in order.
    Immediate,
    /// Only when the directory itself is fsynced (what POSIX promises).
    OnDirectoryFsync,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    pub fsync: Fsync,
    pub entries: Entries,
}

/// What a power cut took away.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Loss {
    /// Files whose content or size went back to their last durable state.
    pub files: usize,
    /// Pages written since their file's last fsync, dropped.
    pub pages: usize,
    /// Pages written since their file's last fsync that reached the disk
    /// anyway (a partial power cut only).
    pub kept: usize,
    /// Directory entries added, removed or renamed since their directory's
    /// last fsync, undone.
    pub entries: usize,
}

pub(crate) type Page = Arc<Vec<u8>>;

#[derive(Debug, Clone, Default)]
pub(crate) struct FileData {
    pages: BTreeMap<u64, Page>,
    len: u64,
    durable_pages: BTreeMap<u64, Page>,
    durable_len: u64,
    /// Pages changed (written, truncated away) since the last fsync.
    dirty: BTreeSet<u64>,
}

fn pages_for(len: u64) -> u64 {
    len.div_ceil(PAGE)
}

impl FileData {
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    pub(crate) fn read(&self, offset: u64, size: u32) -> Vec<u8> {
        let end = self.len.min(offset.saturating_add(u64::from(size)));
        if offset >= end {
            return Vec::new();
        }
        let mut out = vec![0u8; (end - offset) as usize];
        let mut pos = offset;
        while pos < end {
            let page = pos / PAGE;
            let within = (pos % PAGE) as usize;
            let take = ((PAGE - pos % PAGE).min(end - pos)) as usize;
            if let Some(p) = self.pages.get(&page) {
                let at = (pos - offset) as usize;
                out[at..at + take].copy_from_slice(&p[within..within + take]);
            }
            pos += take as u64;
        }
        out
    }

    pub(crate) fn write(&mut self, offset: u64, data: &[u8]) {
        let mut pos = offset;
        let mut rest = data;
        while !rest.is_empty() {
            let page = pos / PAGE;
            let within = (pos % PAGE) as usize;
            let take = (PAGE as usize - within).min(rest.len());
            let p = self
                .pages
                .entry(page)
                .or_insert_with(|| Arc::new(vec![0u8; PAGE as usize]));
            // Copies the page only while the durable view still shares it.
            Arc::make_mut(p)[within..within + take].copy_from_slice(&rest[..take]);
            self.dirty.insert(page);
            pos += take as u64;
            rest = &rest[take..];
        }
        self.len = self.len.max(offset + data.len() as u64);
    }

    pub(crate) fn truncate(&mut self, len: u64) {
        if len < self.len {
            let keep = pages_for(len);
            let gone: Vec<u64> = self.pages.range(keep..).map(|(p, _)| *p).collect();
            for p in gone {
                self.pages.remove(&p);
                self.dirty.insert(p);
            }
            // Bytes past the end read as zeros if the file grows again.
            if !len.is_multiple_of(PAGE) {
                if let Some(p) = self.pages.get_mut(&(len / PAGE)) {
                    Arc::make_mut(p)[(len % PAGE) as usize..].fill(0);
                    self.dirty.insert(len / PAGE);
                }
            }
        }
        self.len = len;
    }

    /// Makes the current content durable; returns the pages written.
    pub(crate) fn sync(&mut self) -> usize {
        let written = self.dirty.len();
        for p in std::mem::take(&mut self.dirty) {
            match self.pages.get(&p) {
                Some(page) => self.durable_pages.insert(p, page.clone()),
                None => self.durable_pages.remove(&p),
            };
        }
        let keep = pages_for(self.len);
        self.durable_pages.retain(|p, _| *p < keep);
        self.durable_len = self.len;
        written
    }

    /// Goes back to the durable content, except for the unsynced pages (and
    /// the new size) that `written` says reached the disk before the power
    /// went; returns the pages dropped and kept, or `None` if nothing
    /// changed since the last sync.
    fn revert(&mut self, written: &mut dyn FnMut() -> bool) -> Option<(usize, usize)> {
        if self.dirty.is_empty() && self.len == self.durable_len {
            return None;
        }
        let (mut dropped, mut kept) = (0, 0);
        for p in std::mem::take(&mut self.dirty) {
            if written() {
                match self.pages.get(&p) {
                    Some(page) => self.durable_pages.insert(p, page.clone()),
                    None => self.durable_pages.remove(&p),
                };
                kept += 1;
            } else {
                dropped += 1;
            }
        }
        if written() {
            self.durable_len = self.len;
        }
        let keep = pages_for(self.durable_len);
        self.durable_pages.retain(|p, _| *p < keep);
        // A page kept past a shorter durable size would hide the zeros
        // that must read there if the file grows again.
        if !self.durable_len.is_multiple_of(PAGE) {
            if let Some(p) = self.durable_pages.get_mut(&(self.durable_len / PAGE)) {
                Arc::make_mut(p)[(self.durable_len % PAGE) as usize..].fill(0);
            }
        }
        self.pages = self.durable_pages.clone();
        self.len = self.durable_len;
        Some((dropped, kept))
    }
}

#[derive(Debug, Clone, Default)]
pub(crate) struct DirData {
    pub(crate) entries: BTreeMap<OsString, u64>,
    durable: BTreeMap<OsString, u64>,
    pub(crate) parent: u64,
}

impl DirData {
    pub(crate) fn new(parent: u64) -> DirData {
        DirData {
            parent,
            ..Default::default()
        }
    }

    fn sync(&mut self) {
        self.durable = self.entries.clone();
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Content {
    File(FileData),
    Dir(DirData),
}

#[derive(Debug, Clone)]
pub(crate) struct Inode {
    pub(crate) content: Content,
    pub(crate) perm: u16,
    pub(crate) uid: u32,
    pub(crate) gid: u32,
    pub(crate) atime: SystemTime,
    pub(crate) mtime: SystemTime,
    pub(crate) ctime: SystemTime,
    /// Open handles; an unlinked file lives on while one is open.
    pub(crate) open: u32,
}

/// Every inode of the filesystem, in memory.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) options: Options,
    pub(crate) inodes: BTreeMap<u64, Inode>,
    next_ino: u64,
}

pub(crate) fn new_inode(content: Content, perm: u16, uid: u32, gid: u32) -> Inode {
    let now = SystemTime::now();
    Inode {
        content,
        perm,
        uid,
        gid,
        atime: now,
        mtime: now,
        ctime: now,
        open: 0,
    }
}

impl State {
    pub(crate) fn new(options: Options) -> State {
        let mut inodes = BTreeMap::new();
        let root = DirData {
            parent: ROOT,
            ..Default::default()
        };
        inodes.insert(ROOT, new_inode(Content::Dir(root), 0o755, 0, 0));
        State {
            options,
            inodes,
            next_ino: ROOT + 1,
        }
    }

    pub(crate) fn dir(&self, ino: u64) -> Option<&DirData> {
        match self.inodes.get(&ino).map(|i| &i.content) {
            Some(Content::Dir(d)) => Some(d),
            _ => None,
        }
    }

    pub(crate) fn dir_mut(&mut self, ino: u64) -> Option<&mut DirData> {
        match self.inodes.get_mut(&ino).map(|i| &mut i.content) {
            Some(Content::Dir(d)) => Some(d),
            _ => None,
        }
    }

    pub(crate) fn file_mut(&mut self, ino: u64) -> Option<&mut FileData> {
        match self.inodes.get_mut(&ino).map(|i| &mut i.content) {
            Some(Content::File(f)) => Some(f),
            _ => None,
        }
    }

    pub(crate) fn lookup(&self, parent: u64, name: &OsStr) -> Option<u64> {
        self.dir(parent)?.entries.get(name).copied()
    }

    /// Adds an inode under `parent`/`name` (which the caller checked is free).
    pub(crate) fn add(&mut self, parent: u64, name: &OsStr, inode: Inode) -> u64 {
        let ino = self.next_ino;
        self.next_ino += 1;
        self.inodes.insert(ino, inode);
        self.set_entry(parent, name, Some(ino));
        ino
    }

    /// Points `parent`/`name` at `ino`, or removes it; directory entries
    /// are durable at once when so configured.
    pub(crate) fn set_entry(&mut self, parent: u64, name: &OsStr, ino: Option<u64>) {
        let immediate = self.options.entries == Entries::Immediate;
        let Some(dir) = self.dir_mut(parent) else {
            return;
        };
        match ino {
            Some(ino) => dir.entries.insert(name.to_owned(), ino),
            None => dir.entries.remove(name),
        };
        if immediate {
            dir.sync();
        }
    }

    /// The number of entries naming `ino`, now or in the durable view.
    pub(crate) fn links(&self, ino: u64) -> (u32, bool) {
        let mut now = 0;
        let mut durable = false;
        for inode in self.inodes.values() {
            if let Content::Dir(d) = &inode.content {
                now += d.entries.values().filter(|i| **i == ino).count() as u32;
                durable |= d.durable.values().any(|i| *i == ino);
            }
        }
        (now, durable)
    }

    /// Forgets an inode nothing names, nothing has open and no power cut
    /// could bring back.
    pub(crate) fn collect(&mut self, ino: u64) {
        let open = self.inodes.get(&ino).is_some_and(|i| i.open > 0);
        if ino != ROOT && !open && self.links(ino) == (0, false) {
            self.inodes.remove(&ino);
        }
    }

    pub(crate) fn fsync(&mut self, ino: u64) {
        if self.options.fsync == Fsync::Ignored {
            return;
        }
        match self.inodes.get_mut(&ino).map(|i| &mut i.content) {
            Some(Content::File(f)) => {
                f.sync();
            }
            Some(Content::Dir(d)) => d.sync(),
            None => {}
        }
    }

    /// Makes everything durable, as a kernel flushing its page cache does.
    pub(crate) fn writeback(&mut self) {
        for inode in self.inodes.values_mut() {
            match &mut inode.content {
                Content::File(f) => {
                    f.sync();
                }
                Content::Dir(d) => d.sync(),
            }
        }
    }

    /// Loses everything that was not durable: file contents and sizes and
    /// directory entries go back to their last durable state, and inodes
    /// no durable entry reaches are gone.
    pub(crate) fn power_cut(&mut self) -> Loss {
        self.cut(&mut || false)
    }

    /// A power cut after the kernel had written back some of what was not
    /// synced: each unsynced page, file size and directory entry reached
    /// the disk or not as `written` says (a seeded coin, say).
    pub(crate) fn partial_power_cut(&mut self, written: &mut dyn FnMut() -> bool) -> Loss {
        self.cut(written)
    }

    fn cut(&mut self, written: &mut dyn FnMut() -> bool) -> Loss {
        let mut loss = Loss::default();
        for inode in self.inodes.values_mut() {
            inode.open = 0;
            match &mut inode.content {
                Content::File(f) => {
                    if let Some((dropped, kept)) = f.revert(written) {
                        loss.files += 1;
                        loss.pages += dropped;
                        loss.kept += kept;
                    }
                }
                Content::Dir(d) => {
                    let names: BTreeSet<OsString> =
                        d.entries.keys().chain(d.durable.keys()).cloned().collect();
                    for name in names {
                        let now = d.entries.get(&name).copied();
                        if now == d.durable.get(&name).copied() || !written() {
                            continue;
                        }
                        match now {
                            Some(ino) => d.durable.insert(name, ino),
                            None => d.durable.remove(&name),
                        };
                    }
                    let names: BTreeSet<&OsString> =
                        d.entries.keys().chain(d.durable.keys()).collect();
                    loss.entries += names
                        .into_iter()
                        .filter(|n| d.entries.get(*n) != d.durable.get(*n))
                        .count();
                    d.entries = d.durable.clone();
                }
            }
        }
        let mut reachable = BTreeSet::from([ROOT]);
        let mut queue = vec![ROOT];
        while let Some(ino) = queue.pop() {
            let children: Vec<u64> = self
                .dir(ino)
                .map(|d| d.entries.values().copied().collect())
                .unwrap_or_default();
            for child in children {
                if reachable.insert(child) {
                    if let Some(d) = self.dir_mut(child) {
                        d.parent = ino;
                    }
                    queue.push(child);
                }
            }
        }
        self.inodes.retain(|ino, _| reachable.contains(ino));
        loss
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> FileData {
        FileData::default()
    }

    #[test]
    fn reads_see_writes_across_pages_and_holes() {
        let mut f = file();
        f.write(4090, b"0123456789");
        assert_eq!(f.len(), 4100);
        assert_eq!(f.read(4088, 20), b"\0\x000123456789");
        f.write(3 * PAGE, b"z");
        assert_eq!(f.read(2 * PAGE, 10), vec![0u8; 10]);
        assert_eq!(f.read(3 * PAGE, 10), b"z");
        assert_eq!(f.read(10 * PAGE, 10), b"");
    }

    #[test]
    fn a_revert_goes_back_to_the_last_sync() {
        let mut f = file();
        f.write(0, &[1u8; 10_000]);
        assert_eq!(f.sync(), 3);
        f.write(5_000, &[2u8; 10]);
        f.write(20_000, &[3u8; 10]);
        assert_eq!(f.revert(&mut || false), Some((2, 0)));
        assert_eq!(f.len(), 10_000);
        assert_eq!(f.read(0, 20_000), vec![1u8; 10_000]);
        assert_eq!(f.revert(&mut || false), None);
    }

    #[test]
    fn truncation_is_volatile_until_synced() {
        let mut f = file();
        f.write(0, &[7u8; 9_000]);
        f.sync();
        f.truncate(100);
        assert_eq!(f.read(0, 9_000), vec![7u8; 100]);
        f.write(200, b"x");
        assert_eq!(f.read(100, 101), [vec![0u8; 100], b"x".to_vec()].concat());
        f.revert(&mut || false);
        assert_eq!(f.read(0, 9_000), vec![7u8; 9_000]);
        f.truncate(0);
        f.sync();
        f.write(0, b"new");
        f.revert(&mut || false);
        assert_eq!((f.len(), f.read(0, 10)), (0, Vec::new()));
    }

    #[test]
    fn a_synced_page_is_not_changed_by_later_writes() {
        let mut f = file();
        f.write(0, b"aaaa");
        f.sync();
        f.write(0, b"bb");
        assert_eq!(f.read(0, 4), b"bbaa");
        f.revert(&mut || false);
        assert_eq!(f.read(0, 4), b"aaaa");
    }

    fn state(entries: Entries) -> State {
        State::new(Options {
            fsync: Fsync::Honoured,
            entries,
        })
    }

    fn add_file(s: &mut State, parent: u64, name: &str) -> u64 {
        s.add(
            parent,
            OsStr::new(name),
            new_inode(Content::File(FileData::default()), 0o644, 0, 0),
        )
    }

    #[test]
    fn unsynced_entries_are_lost_when_only_directory_fsync_counts() {
        let mut s = state(Entries::OnDirectoryFsync);
        let kept = add_file(&mut s, ROOT, "kept");
        s.fsync(ROOT);
        let lost = add_file(&mut s, ROOT, "lost");
        s.file_mut(kept).unwrap().write(0, b"k");
        s.fsync(kept);
        s.file_mut(lost).unwrap().write(0, b"l");
        s.fsync(lost);
        let loss = s.power_cut();
        assert_eq!(loss.entries, 1);
        assert_eq!(s.lookup(ROOT, OsStr::new("kept")), Some(kept));
        assert_eq!(s.lookup(ROOT, OsStr::new("lost")), None);
        assert!(!s.inodes.contains_key(&lost));
    }

    #[test]
    fn entries_survive_at_once_when_immediate() {
        let mut s = state(Entries::Immediate);
        let f = add_file(&mut s, ROOT, "f");
        s.file_mut(f).unwrap().write(0, b"unsynced");
        let loss = s.power_cut();
        assert_eq!(
            loss,
            Loss {
                files: 1,
                pages: 1,
                kept: 0,
                entries: 0
            }
        );
        assert_eq!(s.lookup(ROOT, OsStr::new("f")), Some(f));
        assert_eq!(s.file_mut(f).unwrap().len(), 0);
    }

    #[test]
    fn ignored_fsync_keeps_nothing_until_writeback() {
        let mut s = State::new(Options {
            fsync: Fsync::Ignored,
            entries: Entries::Immediate,
        });
        let f = add_file(&mut s, ROOT, "f");
        s.file_mut(f).unwrap().write(0, b"one");
        s.fsync(f);
        s.power_cut();
        assert_eq!(s.file_mut(f).unwrap().len(), 0);
        s.file_mut(f).unwrap().write(0, b"two");
        s.writeback();
        s.file_mut(f).unwrap().write(0, b"333");
        s.power_cut();
        assert_eq!(s.file_mut(f).unwrap().read(0, 3), b"two");
    }

    #[test]
    fn unlinked_files_stay_while_a_power_cut_could_bring_them_back() {
        let mut s = state(Entries::OnDirectoryFsync);
        let f = add_file(&mut s, ROOT, "f");
        s.fsync(ROOT);
        s.set_entry(ROOT, OsStr::new("f"), None);
        s.collect(f);
        assert!(s.inodes.contains_key(&f), "a durable entry still names it");
        s.power_cut();
        assert_eq!(s.lookup(ROOT, OsStr::new("f")), Some(f));
        s.set_entry(ROOT, OsStr::new("f"), None);
        s.fsync(ROOT);
        s.collect(f);
        assert!(!s.inodes.contains_key(&f));
    }

    #[test]
    fn a_partial_cut_keeps_what_was_written_back() {
        let mut f = file();
        f.write(0, &[1u8; 3 * PAGE as usize]);
        f.sync();
        f.write(0, &[2u8; 10]);
        f.write(PAGE, &[3u8; 10]);
        f.write(3 * PAGE, &[4u8; 100]);
        // Pages 0, 1 and 3 in order, then the size: keep 0 and 3, not the size.
        let mut coins = [true, false, true, false].into_iter();
        assert_eq!(f.revert(&mut || coins.next().unwrap()), Some((1, 2)));
        assert_eq!(f.len(), 3 * PAGE);
        assert_eq!(f.read(0, 2), [2, 2]);
        assert_eq!(f.read(PAGE, 2), [1, 1]);
        let mut s = state(Entries::OnDirectoryFsync);
        add_file(&mut s, ROOT, "a");
        add_file(&mut s, ROOT, "b");
        let mut coins = [true, false].into_iter();
        let loss = s.partial_power_cut(&mut || coins.next().unwrap());
        assert_eq!(loss.entries, 1);
        assert!(s.lookup(ROOT, OsStr::new("a")).is_some());
        assert!(s.lookup(ROOT, OsStr::new("b")).is_none());
    }
}
