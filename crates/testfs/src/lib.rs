//! Test support: a FUSE filesystem in memory that models a disk behind a
//! page cache, to test what a power loss leaves of a database.
//!
//! Every byte written since a file's last fsync (or fdatasync) stays in a
//! volatile layer; a [`Disk::power_cut`] drops it, and optionally drops the
//! directory entries made since their directory's last fsync, which is what
//! a power loss may lose and no more (the model LazyFS uses). Running a
//! database on it, cutting the power under load and restarting on what
//! remains shows whether everything it acknowledged was really durable;
//! [`Fsync::Ignored`] is the control that shows such a test can fail.
#![forbid(unsafe_code)]

mod disk;
mod fs;

use std::io::{self, BufRead, Write};
use std::path::Path;
use std::sync::Arc;

use fuser::{BackgroundSession, Config, MountOption};
use parking_lot::Mutex;

pub use disk::{Entries, Fsync, Loss, Options};

/// A disk: the files and what of them is durable. It outlives mounts, as a
/// disk outlives the machine's power.
#[derive(Clone)]
pub struct Disk {
    state: Arc<Mutex<disk::State>>,
}

impl Disk {
    pub fn new(options: Options) -> Disk {
        Disk {
            state: Arc::new(Mutex::new(disk::State::new(options))),
        }
    }

    /// Mounts the disk at `mountpoint` (as root: no fusermount needed),
    /// served by a background thread until unmounted.
    pub fn mount(&self, mountpoint: &Path) -> io::Result<Mounted> {
        let mut config = Config::default();
        config.mount_options = vec![
            MountOption::FSName("openddb-testfs".into()),
            MountOption::DefaultPermissions,
            MountOption::RW,
        ];
        let session = fuser::spawn_mount(fs::Fs(self.state.clone()), mountpoint, &config)?;
        Ok(Mounted {
            session: Some(session),
        })
    }

    /// Loses what was not durable. Unmount first: the kernel's own caches
    /// must go with the power too.
    pub fn power_cut(&self) -> Loss {
        self.state.lock().power_cut()
    }

    /// Like [`Disk::power_cut`], after the kernel had written back a random
    /// part (decided by `seed`, half on average) of what was not synced:
    /// pages, file sizes and directory entries each reached the disk or
    /// not, in no particular order, which is what a power loss may leave.
    pub fn partial_power_cut(&self, seed: u64) -> Loss {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        self.state.lock().partial_power_cut(&mut || {
            // xorshift64*: enough for coin flips, and no dependency.
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 63 == 1
        })
    }

    /// Makes everything durable now, as the kernel writing its dirty pages
    /// back does (the only way data becomes durable under
    /// [`Fsync::Ignored`]).
    pub fn writeback(&self) {
        self.state.lock().writeback();
    }
}

/// A mounted [`Disk`]; unmounted when dropped.
pub struct Mounted {
    session: Option<BackgroundSession>,
}

impl Mounted {
    /// Unmounts and waits for the serving thread. Fails (EBUSY) while a
    /// process still has a file open on it.
    pub fn unmount(mut self) -> io::Result<()> {
        match self.session.take() {
            Some(session) => session.umount_and_join(),
            None => Ok(()),
        }
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        if let Some(session) = self.session.take() {
            let _ = session.umount_and_join();
        }
    }
}

/// Runs a disk mounted at `mountpoint` as a controlled process: reads
/// commands line by line and answers each with one line starting
/// `testfs: `.
///
/// - `cut`: unmounts, cuts the power, mounts again; answers
///   `testfs: cut files=F pages=P kept=0 entries=E` (what was lost).
/// - `cut partial SEED`: the same with [`Disk::partial_power_cut`]; `kept`
///   counts the unsynced pages that reached the disk.
/// - `writeback`: makes everything durable; answers `testfs: writeback`.
///
/// Answers `testfs: mounted` first. Returns, unmounting, when the commands
/// end: a test that dies closes them, so nothing stays mounted.
pub fn serve(
    mountpoint: &Path,
    options: Options,
    commands: impl BufRead,
    mut replies: impl Write,
) -> io::Result<()> {
    let disk = Disk::new(options);
    let mut mounted = Some(disk.mount(mountpoint)?);
    writeln!(replies, "testfs: mounted")?;
    replies.flush()?;
    for line in commands.lines() {
        let line = line?;
        let words: Vec<&str> = line.split_whitespace().collect();
        let answer = match words.as_slice() {
            ["cut"] => cut(&disk, &mut mounted, mountpoint, None)?,
            ["cut", "partial", seed] => match seed.parse() {
                Ok(seed) => cut(&disk, &mut mounted, mountpoint, Some(seed))?,
                Err(_) => "error the seed is not a number".to_owned(),
            },
            ["writeback"] => {
                disk.writeback();
                "writeback".to_owned()
            }
            other => format!("error unknown command {other:?}"),
        };
        writeln!(replies, "testfs: {answer}")?;
        replies.flush()?;
    }
    drop(mounted);
    Ok(())
}

/// Unmounts, cuts the power (all of it, or part of it with a seed), mounts
/// again; says what was lost.
fn cut(
    disk: &Disk,
    mounted: &mut Option<Mounted>,
    mountpoint: &Path,
    seed: Option<u64>,
) -> io::Result<String> {
    if let Err(e) = mounted.take().map_or(Ok(()), Mounted::unmount) {
        return Ok(format!("error cannot unmount: {e}"));
    }
    let loss = match seed {
        Some(seed) => disk.partial_power_cut(seed),
        None => disk.power_cut(),
    };
    *mounted = Some(disk.mount(mountpoint)?);
    Ok(format!(
        "cut files={} pages={} kept={} entries={}",
        loss.files, loss.pages, loss.kept, loss.entries
    ))
}
