//! The FUSE side: kernel requests answered from the in-memory [`State`].
//!
//! Only what a database needs is implemented: regular files and
//! directories, reads and writes at offsets, truncation, fsync of files and
//! directories, rename and unlink. Locks are left to the kernel (FUSE does
//! so when the filesystem does not ask for them), which is right for
//! processes of one machine.

use std::ffi::OsStr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use fuser::{
    Errno, FileAttr, FileHandle, FileType, Filesystem, FopenFlags, Generation, INodeNo, LockOwner,
    OpenFlags, RenameFlags, ReplyAttr, ReplyCreate, ReplyData, ReplyDirectory, ReplyEmpty,
    ReplyEntry, ReplyOpen, ReplyStatfs, ReplyWrite, Request, TimeOrNow, WriteFlags,
};
use parking_lot::Mutex;

use crate::disk::{new_inode, Content, DirData, FileData, State, PAGE, ROOT};

/// The kernel may cache attributes and names this long; all changes go
/// through this filesystem, so its caches never go stale.
const TTL: Duration = Duration::from_secs(1);

pub(crate) struct Fs(pub(crate) Arc<Mutex<State>>);

fn attr(state: &State, ino: u64) -> Option<FileAttr> {
    let inode = state.inodes.get(&ino)?;
    let (kind, size, nlink) = match &inode.content {
        Content::File(f) => (FileType::RegularFile, f.len(), state.links(ino).0),
        Content::Dir(_) => (FileType::Directory, PAGE, 2),
    };
    Some(FileAttr {
        ino: INodeNo(ino),
        size,
        blocks: size.div_ceil(512),
        atime: inode.atime,
        mtime: inode.mtime,
        ctime: inode.ctime,
        crtime: inode.ctime,
        kind,
        perm: inode.perm,
        nlink,
        uid: inode.uid,
        gid: inode.gid,
        rdev: 0,
        blksize: PAGE as u32,
        flags: 0,
    })
}

fn time(t: TimeOrNow) -> SystemTime {
    match t {
        TimeOrNow::SpecificTime(t) => t,
        TimeOrNow::Now => SystemTime::now(),
    }
}

/// Answers a request that made an entry ([`Fs::make`]).
fn entry_made(made: Result<(u64, FileAttr), Errno>, reply: ReplyEntry) {
    match made {
        Ok((_, attr)) => reply.entry(&TTL, &attr, Generation(0)),
        Err(e) => reply.error(e),
    }
}

/// Answers a request that has nothing to return but success.
fn done(result: Result<(), Errno>, reply: ReplyEmpty) {
    match result {
        Ok(()) => reply.ok(),
        Err(e) => reply.error(e),
    }
}

impl Fs {
    fn entry(&self, state: &State, ino: u64, reply: ReplyEntry) {
        match attr(state, ino) {
            Some(attr) => reply.entry(&TTL, &attr, Generation(0)),
            None => reply.error(Errno::ENOENT),
        }
    }

    /// Creates `name` in `parent`, or says why not.
    fn make(
        &self,
        req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        content: Content,
    ) -> Result<(u64, FileAttr), Errno> {
        let mut state = self.0.lock();
        if state.dir(parent.0).is_none() {
            return Err(Errno::ENOTDIR);
        }
        if state.lookup(parent.0, name).is_some() {
            return Err(Errno::EEXIST);
        }
        let perm = (mode & !umask & 0o7777) as u16;
        let ino = state.add(
            parent.0,
            name,
            new_inode(content, perm, req.uid(), req.gid()),
        );
        Ok((ino, attr(&state, ino).expect("just added")))
    }

    fn remove(&self, parent: INodeNo, name: &OsStr, want_dir: bool) -> Result<(), Errno> {
        let mut state = self.0.lock();
        let ino = state.lookup(parent.0, name).ok_or(Errno::ENOENT)?;
        match (
            &state.inodes.get(&ino).ok_or(Errno::ENOENT)?.content,
            want_dir,
        ) {
            (Content::Dir(d), true) if !d.entries.is_empty() => return Err(Errno::ENOTEMPTY),
            (Content::Dir(_), false) => return Err(Errno::EISDIR),
            (Content::File(_), true) => return Err(Errno::ENOTDIR),
            _ => {}
        }
        state.set_entry(parent.0, name, None);
        state.collect(ino);
        Ok(())
    }
}

impl Filesystem for Fs {
    fn lookup(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        let state = self.0.lock();
        match state.lookup(parent.0, name) {
            Some(ino) => self.entry(&state, ino, reply),
            None => reply.error(Errno::ENOENT),
        }
    }

    fn getattr(&self, _req: &Request, ino: INodeNo, _fh: Option<FileHandle>, reply: ReplyAttr) {
        let state = self.0.lock();
        match attr(&state, ino.0) {
            Some(attr) => reply.attr(&TTL, &attr),
            None => reply.error(Errno::ENOENT),
        }
    }

    fn setattr(
        &self,
        _req: &Request,
        ino: INodeNo,
        mode: Option<u32>,
        uid: Option<u32>,
        gid: Option<u32>,
        size: Option<u64>,
        atime: Option<TimeOrNow>,
        mtime: Option<TimeOrNow>,
        ctime: Option<SystemTime>,
        _fh: Option<FileHandle>,
        _crtime: Option<SystemTime>,
        _chgtime: Option<SystemTime>,
        _bkuptime: Option<SystemTime>,
        _flags: Option<fuser::BsdFileFlags>,
        reply: ReplyAttr,
    ) {
        let mut state = self.0.lock();
        if let Some(size) = size {
            match state.file_mut(ino.0) {
                Some(f) => f.truncate(size),
                None => return reply.error(Errno::EISDIR),
            }
        }
        let Some(inode) = state.inodes.get_mut(&ino.0) else {
            return reply.error(Errno::ENOENT);
        };
        if let Some(mode) = mode {
            inode.perm = (mode & 0o7777) as u16;
        }
        if let Some(uid) = uid {
            inode.uid = uid;
        }
        if let Some(gid) = gid {
            inode.gid = gid;
        }
        if let Some(t) = atime {
            inode.atime = time(t);
        }
        if let Some(t) = mtime {
            inode.mtime = time(t);
        }
        inode.ctime = ctime.unwrap_or_else(SystemTime::now);
        reply.attr(&TTL, &attr(&state, ino.0).expect("found above"));
    }

    fn mknod(
        &self,
        req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        _rdev: u32,
        reply: ReplyEntry,
    ) {
        if mode & libc::S_IFMT != libc::S_IFREG {
            return reply.error(Errno::EPERM);
        }
        let content = Content::File(FileData::default());
        entry_made(self.make(req, parent, name, mode, umask, content), reply);
    }

    fn mkdir(
        &self,
        req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        reply: ReplyEntry,
    ) {
        let content = Content::Dir(DirData::new(parent.0));
        entry_made(self.make(req, parent, name, mode, umask, content), reply);
    }

    fn unlink(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        done(self.remove(parent, name, false), reply);
    }

    fn rmdir(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        done(self.remove(parent, name, true), reply);
    }

    fn rename(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        newparent: INodeNo,
        newname: &OsStr,
        flags: RenameFlags,
        reply: ReplyEmpty,
    ) {
        if !flags.is_empty() {
            return reply.error(Errno::EINVAL);
        }
        let mut state = self.0.lock();
        let Some(ino) = state.lookup(parent.0, name) else {
            return reply.error(Errno::ENOENT);
        };
        if state.dir(newparent.0).is_none() {
            return reply.error(Errno::ENOTDIR);
        }
        let moving_dir = state.dir(ino).is_some();
        let replaced = state.lookup(newparent.0, newname);
        if let Some(old) = replaced {
            if old == ino {
                return reply.ok();
            }
            match (state.dir(old), moving_dir) {
                (Some(d), true) if !d.entries.is_empty() => return reply.error(Errno::ENOTEMPTY),
                (Some(_), false) => return reply.error(Errno::EISDIR),
                (None, true) => return reply.error(Errno::ENOTDIR),
                _ => {}
            }
        }
        state.set_entry(parent.0, name, None);
        state.set_entry(newparent.0, newname, Some(ino));
        if let Some(d) = state.dir_mut(ino) {
            d.parent = newparent.0;
        }
        if let Some(old) = replaced {
            state.collect(old);
        }
        reply.ok();
    }

    fn open(&self, _req: &Request, ino: INodeNo, _flags: OpenFlags, reply: ReplyOpen) {
        let mut state = self.0.lock();
        match state.inodes.get_mut(&ino.0) {
            Some(inode) => {
                inode.open += 1;
                reply.opened(FileHandle(ino.0), FopenFlags::empty());
            }
            None => reply.error(Errno::ENOENT),
        }
    }

    fn create(
        &self,
        req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        flags: i32,
        reply: ReplyCreate,
    ) {
        let existing = self.0.lock().lookup(parent.0, name);
        let (ino, attr) = match existing {
            Some(_) if flags & libc::O_EXCL != 0 => return reply.error(Errno::EEXIST),
            Some(ino) => {
                let mut state = self.0.lock();
                if flags & libc::O_TRUNC != 0 {
                    match state.file_mut(ino) {
                        Some(f) => f.truncate(0),
                        None => return reply.error(Errno::EISDIR),
                    }
                }
                (ino, attr(&state, ino).expect("looked up"))
            }
            None => {
                let content = Content::File(FileData::default());
                match self.make(req, parent, name, mode, umask, content) {
                    Ok(made) => made,
                    Err(e) => return reply.error(e),
                }
            }
        };
        if let Some(inode) = self.0.lock().inodes.get_mut(&ino) {
            inode.open += 1;
        }
        reply.created(
            &TTL,
            &attr,
            Generation(0),
            FileHandle(ino),
            FopenFlags::empty(),
        );
    }

    fn read(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        size: u32,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyData,
    ) {
        let mut state = self.0.lock();
        match state.file_mut(ino.0) {
            Some(f) => reply.data(&f.read(offset, size)),
            None => reply.error(Errno::EISDIR),
        }
    }

    fn write(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        data: &[u8],
        _write_flags: WriteFlags,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyWrite,
    ) {
        let mut state = self.0.lock();
        match state.file_mut(ino.0) {
            Some(f) => {
                f.write(offset, data);
                if let Some(inode) = state.inodes.get_mut(&ino.0) {
                    inode.mtime = SystemTime::now();
                }
                reply.written(data.len() as u32);
            }
            None => reply.error(Errno::EISDIR),
        }
    }

    fn flush(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _lock_owner: LockOwner,
        reply: ReplyEmpty,
    ) {
        // Closing a file makes nothing durable.
        reply.ok();
    }

    fn release(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        _flush: bool,
        reply: ReplyEmpty,
    ) {
        let mut state = self.0.lock();
        if let Some(inode) = state.inodes.get_mut(&ino.0) {
            inode.open = inode.open.saturating_sub(1);
        }
        state.collect(ino.0);
        reply.ok();
    }

    fn fsync(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        _datasync: bool,
        reply: ReplyEmpty,
    ) {
        self.0.lock().fsync(ino.0);
        reply.ok();
    }

    fn opendir(&self, _req: &Request, ino: INodeNo, _flags: OpenFlags, reply: ReplyOpen) {
        if self.0.lock().dir(ino.0).is_some() {
            reply.opened(FileHandle(ino.0), FopenFlags::empty());
        } else {
            reply.error(Errno::ENOTDIR);
        }
    }

    fn readdir(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        mut reply: ReplyDirectory,
    ) {
        let state = self.0.lock();
        let Some(dir) = state.dir(ino.0) else {
            return reply.error(Errno::ENOTDIR);
        };
        let parent = if ino.0 == ROOT { ROOT } else { dir.parent };
        let mut all = vec![
            (ino.0, FileType::Directory, OsStr::new(".")),
            (parent, FileType::Directory, OsStr::new("..")),
        ];
        for (name, child) in &dir.entries {
            let kind = match state.inodes.get(child).map(|i| &i.content) {
                Some(Content::Dir(_)) => FileType::Directory,
                _ => FileType::RegularFile,
            };
            all.push((*child, kind, name.as_os_str()));
        }
        for (i, (child, kind, name)) in all.into_iter().enumerate().skip(offset as usize) {
            if reply.add(INodeNo(child), i as u64 + 1, kind, name) {
                break;
            }
        }
        reply.ok();
    }

    fn fsyncdir(
        &self,
        req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        datasync: bool,
        reply: ReplyEmpty,
    ) {
        // A directory's entries are made durable as a file's bytes are.
        self.fsync(req, ino, fh, datasync, reply);
    }

    fn statfs(&self, _req: &Request, _ino: INodeNo, reply: ReplyStatfs) {
        let blocks = 1 << 24;
        reply.statfs(
            blocks,
            blocks,
            blocks,
            1 << 20,
            1 << 20,
            PAGE as u32,
            255,
            PAGE as u32,
        );
    }
}
