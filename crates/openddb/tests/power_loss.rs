//! Power loss: the real `openddb` binary on a filesystem that keeps every
//! byte written since the last fsync in a volatile layer (crates/testfs).
//! Under concurrent write load the server is SIGKILLed and the power cut
//! (the volatile layer dropped, all of it or a random part); restarted on
//! what remains, it must still
//! have every write it acknowledged, with its index agreeing and its files
//! passing SQLite's integrity check. The same run on a filesystem that
//! ignores fsync must lose acknowledged writes: the check can fail.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};
use aws_sdk_dynamodb::Client;
use common::faults::{
    self, batch_get_all, create_grouped_table, expected_in_group, half_there, increment_action,
    index_group, integrity_report, put_action, Counters, INDEX,
};
use common::load::kill_under_load;
use common::{get_consistent, item, n, put_request, s, ServerProcess};

const TABLE: &str = "Power";
const GROUPS: usize = 4;
const WRITERS: usize = 12;
const CYCLES: usize = 3;
/// Acknowledged writes to wait for in each cycle before the power goes.
const MIN_ACKED: usize = 150;

/// Not a test: the filesystem process the power-loss tests start, which is
/// this test binary run again under `unshare`, in a mount namespace of its
/// own (so that no mount outlives the test). Ignored so that test runs skip
/// it; without its environment it does nothing.
#[test]
#[ignore = "helper process of the power-loss tests"]
fn testfs_daemon() {
    let Some(mountpoint) = std::env::var_os("OPENDDB_TESTFS_MOUNT") else {
        return;
    };
    let fsync = match std::env::var("OPENDDB_TESTFS_FSYNC").as_deref() {
        Ok("ignored") => openddb_testfs::Fsync::Ignored,
        _ => openddb_testfs::Fsync::Honoured,
    };
    let options = openddb_testfs::Options {
        fsync,
        entries: openddb_testfs::Entries::OnDirectoryFsync,
    };
    // Answers go to stderr, which the test harness leaves alone.
    openddb_testfs::serve(
        Path::new(&mountpoint),
        options,
        std::io::stdin().lock(),
        std::io::stderr(),
    )
    .expect("serve the filesystem");
}

/// The filesystem process and its mount, seen from the test.
struct Testfs {
    child: Child,
    commands: ChildStdin,
    answers: mpsc::Receiver<String>,
    mount_point: PathBuf,
}

impl Testfs {
    /// Mounts a fresh in-memory disk in a mount namespace of its own, or
    /// says why this machine cannot (no FUSE device, or no privilege to
    /// make a mount namespace or mount).
    fn start(parent: &Path, fsync: &str) -> Result<Testfs, String> {
        if !Path::new("/dev/fuse").exists() {
            return Err("/dev/fuse is missing".into());
        }
        let mount_point = parent.join("mnt");
        std::fs::create_dir(&mount_point).map_err(|e| e.to_string())?;
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let mut child = faults::unshare_mount()
            .arg(exe)
            .args(["--ignored", "--exact", "testfs_daemon", "--nocapture"])
            .env("OPENDDB_TESTFS_MOUNT", &mount_point)
            .env("OPENDDB_TESTFS_FSYNC", fsync)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run unshare: {e}"))?;
        let commands = child.stdin.take().expect("piped stdin");
        let stderr = child.stderr.take().expect("piped stderr");
        let (tx, answers) = mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                let answer = match line.find("testfs: ") {
                    Some(at) => line[at + "testfs: ".len()..].to_owned(),
                    None => format!("output {line}"),
                };
                if tx.send(answer).is_err() {
                    break;
                }
            }
        });
        let fs = Testfs {
            child,
            commands,
            answers,
            mount_point,
        };
        // Wait for the mount, keeping what the process says meanwhile: a
        // refusal by the kernel means this machine cannot run the test;
        // anything else is a failure of the test's own machinery.
        let mut said = Vec::new();
        loop {
            match fs.answers.recv_timeout(Duration::from_secs(60)) {
                Ok(a) if a == "mounted" => return Ok(fs),
                Ok(a) => said.push(a),
                Err(_) => break,
            }
        }
        let said = said.join("\n");
        if said.contains("Operation not permitted") || said.contains("Permission denied") {
            return Err(said);
        }
        panic!("the test filesystem did not mount:\n{said}");
    }

    /// The next answer, skipping other output; `None` if the process ended.
    fn answer(&mut self) -> Option<String> {
        loop {
            match self.answers.recv_timeout(Duration::from_secs(60)) {
                Ok(a) if a.starts_with("output ") => eprintln!("[testfs] {}", &a[7..]),
                Ok(a) => return Some(a),
                Err(_) => return None,
            }
        }
    }

    fn command(&mut self, command: &str) -> String {
        writeln!(self.commands, "{command}").expect("send a command to testfs");
        self.commands.flush().expect("send a command to testfs");
        let answer = self.answer().expect("testfs answers");
        assert!(!answer.starts_with("error"), "testfs {command}: {answer}");
        answer
    }

    /// The mount as the test sees it.
    fn root(&self) -> PathBuf {
        faults::in_namespace(self.child.id(), &self.mount_point)
    }

    fn data_dir(&self) -> PathBuf {
        self.mount_point.join("data")
    }

    /// Starts the server in the filesystem's namespace. It creates its
    /// data directory itself: nothing else makes that durable.
    fn start_server(&self) -> ServerProcess {
        faults::start_in_namespace(self.child.id(), &self.data_dir())
    }
}

impl Drop for Testfs {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What one key should hold: its last acknowledged state and, if a write
/// to it got no answer before the power went, the state that write asked
/// for. `None` is absent.
#[derive(Debug, Clone, Default)]
struct KeyState {
    acked: Option<Option<i64>>,
    pending: Option<Option<i64>>,
}

#[derive(Debug, Default, Clone)]
struct Ledger {
    keys: BTreeMap<String, KeyState>,
    /// Per counter: increments acknowledged, and increments unanswered.
    counters: Counters,
    /// The items of unanswered transactions: all there or none.
    pending_groups: Vec<Vec<String>>,
    acked_writes: usize,
}

impl Ledger {
    fn begin(&mut self, keys: &[String], state: Option<i64>) {
        for key in keys {
            self.keys.entry(key.clone()).or_default().pending = Some(state);
        }
    }

    fn acknowledge(&mut self, keys: &[String]) {
        for key in keys {
            let entry = self.keys.get_mut(key).expect("begun");
            entry.acked = entry.pending.take();
        }
        self.acked_writes += 1;
    }
}

fn new_item(key: &str, v: i64) -> HashMap<String, AttributeValue> {
    let unit = format!("{key}/{v};");
    item([
        ("pk", s(key)),
        ("g", s(&faults::group_of(key, GROUPS))),
        ("v", n(&v.to_string())),
        ("payload", s(&unit.repeat(300 / unit.len() + 1))),
    ])
}

/// An answer other than the connection going away (the kill) is a
/// failure: every request here is valid.
fn gone<E: std::fmt::Debug, R: std::fmt::Debug>(what: &str, err: &SdkError<E, R>) {
    if let SdkError::ServiceError(_) = err {
        panic!("{what}: the server refused a valid write: {err:?}");
    }
}

/// PutItem of `key`'s item as write `seq` makes it; whether it was
/// acknowledged.
async fn put(client: &Client, key: &str, seq: i64) -> bool {
    let r = client
        .put_item()
        .table_name(TABLE)
        .set_item(Some(new_item(key, seq)))
        .send()
        .await;
    if let Err(e) = &r {
        gone("PutItem", e);
    }
    r.is_ok()
}

/// Writes until stopped or until the server goes away: puts of fresh keys,
/// deletes and overwrites of its own earlier keys, increments of its own
/// counter, two-item transactions and small batches. Every key and counter
/// belongs to one writer, so no write waits for a transaction of another.
async fn writer(
    client: Client,
    id: String,
    ledger: Arc<Mutex<Ledger>>,
    stop: Arc<AtomicBool>,
    acked: Arc<AtomicUsize>,
) {
    let mut seq: i64 = 0;
    while !stop.load(Ordering::SeqCst) {
        seq += 1;
        let key = |i: i64| format!("{id}-{i}");
        let ok = match seq % 6 {
            0 | 1 => {
                let keys = [key(seq)];
                ledger.lock().unwrap().begin(&keys, Some(seq));
                let r = put(&client, &keys[0], seq).await;
                r.then(|| ledger.lock().unwrap().acknowledge(&keys))
            }
            2 => {
                // Delete or overwrite the key written four writes ago.
                let keys = [key(seq - 4)];
                let r = if seq % 12 == 2 {
                    ledger.lock().unwrap().begin(&keys, None);
                    let r = client
                        .delete_item()
                        .table_name(TABLE)
                        .key("pk", s(&keys[0]))
                        .send()
                        .await;
                    if let Err(e) = &r {
                        gone("DeleteItem", e);
                    }
                    r.is_ok()
                } else {
                    ledger.lock().unwrap().begin(&keys, Some(seq));
                    put(&client, &keys[0], seq).await
                };
                r.then(|| ledger.lock().unwrap().acknowledge(&keys))
            }
            3 => {
                let counter = format!("{id}-counter");
                ledger.lock().unwrap().counters.begin(&counter);
                let r = client
                    .update_item()
                    .table_name(TABLE)
                    .key("pk", s(&counter))
                    .update_expression("ADD c :one")
                    .expression_attribute_values(":one", n("1"))
                    .send()
                    .await;
                if let Err(e) = &r {
                    gone("UpdateItem", e);
                }
                r.is_ok().then(|| {
                    let mut ledger = ledger.lock().unwrap();
                    ledger.counters.acknowledge(&counter);
                    ledger.acked_writes += 1;
                })
            }
            4 => {
                let keys = [key(seq), format!("{id}-{seq}-pair")];
                let counter = format!("{id}-counter");
                {
                    let mut ledger = ledger.lock().unwrap();
                    ledger.begin(&keys, Some(seq));
                    ledger.counters.begin(&counter);
                }
                let mut actions: Vec<TransactWriteItem> = keys
                    .iter()
                    .map(|k| put_action(TABLE, new_item(k, seq)))
                    .collect();
                actions.push(increment_action(TABLE, &counter));
                let r = client
                    .transact_write_items()
                    .set_transact_items(Some(actions))
                    .send()
                    .await;
                if let Err(e) = &r {
                    gone("TransactWriteItems", e);
                }
                let mut l = ledger.lock().unwrap();
                if r.is_ok() {
                    l.acknowledge(&keys);
                    l.counters.acknowledge(&counter);
                    Some(())
                } else {
                    l.pending_groups.push(keys.to_vec());
                    None
                }
            }
            _ => {
                let keys: Vec<String> = (0..3).map(|i| format!("{id}-{seq}-b{i}")).collect();
                ledger.lock().unwrap().begin(&keys, Some(seq));
                let requests = keys.iter().map(|k| put_request(new_item(k, seq))).collect();
                let r = client
                    .batch_write_item()
                    .request_items(TABLE, requests)
                    .send()
                    .await;
                if let Err(e) = &r {
                    gone("BatchWriteItem", e);
                }
                if let Ok(out) = &r {
                    assert!(out.unprocessed_items().is_none_or(|u| u.is_empty()));
                }
                r.is_ok().then(|| ledger.lock().unwrap().acknowledge(&keys))
            }
        };
        match ok {
            Some(()) => {
                acked.fetch_add(1, Ordering::SeqCst);
            }
            // The server is gone: nothing more will be answered.
            None => return,
        }
    }
}

async fn setup(client: &Client) {
    create_grouped_table(client, TABLE).await;
}

/// Runs the writers until `MIN_ACKED` writes are acknowledged (and at least
/// 300 ms), then SIGKILLs the server and waits for the writers to notice.
async fn load_then_kill(server: ServerProcess, ledger: &Arc<Mutex<Ledger>>, cycle: usize) {
    let client = server.client();
    let (before, _) = kill_under_load(
        server,
        cycle,
        WRITERS,
        MIN_ACKED,
        Duration::from_secs(60),
        |w, stop, acked| {
            let id = format!("c{cycle}w{w}");
            writer(client.clone(), id, Arc::clone(ledger), stop, acked)
        },
    )
    .await;
    eprintln!("cycle {cycle}: SIGKILL and power cut after {before} acknowledged writes");
}

/// Everything that disagrees with the ledger, as sentences (empty if all
/// is well).
async fn check(client: &Client, ledger: &Ledger) -> Vec<String> {
    let mut problems = Vec::new();
    let described = client.describe_table().table_name(TABLE).send().await;
    if let Err(e) = described {
        return vec![format!("table {TABLE} is gone: {e:?}")];
    }
    let keys: Vec<&String> = ledger.keys.keys().collect();
    let mut found: HashMap<String, HashMap<String, AttributeValue>> = HashMap::new();
    for got in batch_get_all(client, TABLE, &keys)
        .await
        .unwrap_or_else(|e| panic!("BatchGetItem: {e:?}"))
    {
        if let Some(AttributeValue::S(pk)) = got.get("pk") {
            found.insert(pk.clone(), got);
        }
    }
    let mut lost = 0;
    for (key, state) in &ledger.keys {
        let got = found.get(key);
        let allowed: Vec<Option<i64>> = match (state.acked, state.pending) {
            (Some(a), Some(p)) => vec![a, p],
            (Some(a), None) => vec![a],
            (None, Some(p)) => vec![None, p],
            (None, None) => vec![None],
        };
        let matches = |want: &Option<i64>| match (want, got) {
            (None, None) => true,
            (Some(v), Some(got)) => *got == new_item(key, *v),
            _ => false,
        };
        if !allowed.iter().any(matches) {
            lost += usize::from(state.acked.is_some_and(|a| a.is_some()) && got.is_none());
            problems.push(format!(
                "{key}: found {:?}, expected one of {allowed:?}",
                got.map(|g| g.get("v").cloned())
            ));
        }
    }
    if lost > 0 {
        problems.push(format!("{lost} acknowledged items lost"));
    }
    for group in &ledger.pending_groups {
        if half_there(group, &found) {
            problems.push(format!("a transaction is half there: {group:?}"));
        }
    }
    for (counter, (acked, unknown)) in &ledger.counters.0 {
        let got = get_consistent(client, TABLE, counter)
            .await
            .unwrap_or_else(|e| panic!("GetItem {counter}: {e:?}"));
        let c = got.map_or(0, |g| common::num(&g, "c"));
        if !(*acked..=acked + unknown).contains(&c) {
            problems.push(format!(
                "{counter} = {c}, acknowledged {acked} (+{unknown} unanswered)"
            ));
        }
    }
    for g in 0..GROUPS {
        let group = format!("g{g}");
        let mut indexed = BTreeSet::new();
        let entries = index_group(client, TABLE, &group)
            .await
            .unwrap_or_else(|e| panic!("Query {INDEX}: {e:?}"));
        for got in &entries {
            if let Some(AttributeValue::S(pk)) = got.get("pk") {
                if found.get(pk) != Some(got) {
                    problems.push(format!("index entry {pk} disagrees with its item"));
                }
                indexed.insert(pk.clone());
            }
        }
        let expected = expected_in_group(&found, &group, GROUPS);
        if indexed != expected {
            problems.push(format!(
                "index {INDEX} group {group}: {} entries for {} items",
                indexed.len(),
                expected.len()
            ));
        }
    }
    problems
}

/// `PRAGMA integrity_check` on copies of the database files as the power
/// cut left them (SQLite cannot open them through `/proc/<pid>/root`: it
/// resolves symbolic links in paths).
fn integrity_check(data_dir: &Path) -> Vec<String> {
    // The one account these tests write: its hashed directory.
    let file = openddb_kv_sqlite::tenant_file(&data_dir.join("tenants"), "000000000000");
    let tenants = file.parent().expect("a tenant directory").to_path_buf();
    let Ok(entries) = std::fs::read_dir(&tenants) else {
        return vec![format!("{} is gone", tenants.display())];
    };
    let copies = tempfile::tempdir().expect("temp dir");
    let mut databases = Vec::new();
    for entry in entries {
        let path = entry.expect("directory entry").path();
        let name = path.file_name().expect("a file name").to_owned();
        if name.to_string_lossy().ends_with("-shm") {
            continue;
        }
        let bytes = std::fs::copy(&path, copies.path().join(&name)).expect("copy a database file");
        eprintln!("  {}: {bytes} bytes", name.to_string_lossy());
        if path.extension().is_some_and(|x| x == "sqlite3") {
            databases.push(copies.path().join(name));
        }
    }
    if databases.is_empty() {
        return vec!["no database file".into()];
    }
    databases
        .iter()
        .filter_map(|db| {
            let conn = rusqlite::Connection::open(db).expect("open a copy");
            let report = integrity_report(&conn).unwrap_or_else(|e| vec![e.to_string()]);
            (report != ["ok"]).then(|| format!("integrity_check: {report:?}"))
        })
        .collect()
}

/// Starts the filesystem, or explains (and returns `None`) when this
/// machine has no FUSE or refuses a mount namespace.
fn testfs(parent: &Path, fsync: &str) -> Option<Testfs> {
    match Testfs::start(parent, fsync) {
        Ok(fs) => Some(fs),
        Err(why) => {
            eprintln!("SKIPPED: power-loss test needs FUSE and a mount namespace: {why}");
            None
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_power_loss() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let Some(mut fs) = testfs(tmp.path(), "honoured") else {
        return;
    };
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let server = fs.start_server();
    setup(&server.client()).await;
    let mut server = Some(server);
    for cycle in 0..CYCLES {
        load_then_kill(server.take().expect("running"), &ledger, cycle).await;
        // The first cut loses everything unsynced; the others let a random
        // part of it reach the disk first, as the kernel's write-back may.
        let cut = match cycle {
            0 => "cut".to_owned(),
            _ => format!("cut partial {cycle}"),
        };
        eprintln!("cycle {cycle}: {}", fs.command(&cut));
        let mut problems = integrity_check(&fs.root().join("data"));
        let restarted = fs.start_server();
        let snapshot = ledger.lock().unwrap().clone();
        problems.extend(check(&restarted.client(), &snapshot).await);
        assert!(
            problems.is_empty(),
            "cycle {cycle}: after the power cut:\n{}",
            problems.join("\n")
        );
        server = Some(restarted);
    }
    let ledger = ledger.lock().unwrap();
    eprintln!(
        "{} writes acknowledged over {CYCLES} power cuts, none lost",
        ledger.acked_writes
    );
}

/// The control: the same load on a filesystem whose fsync does nothing
/// (its data becomes durable only by an explicit writeback, done once the
/// table exists) must lose acknowledged writes, and the check must say so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_check_detects_lost_writes_when_fsync_is_ignored() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let Some(mut fs) = testfs(tmp.path(), "ignored") else {
        return;
    };
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let server = fs.start_server();
    setup(&server.client()).await;
    fs.command("writeback");
    load_then_kill(server, &ledger, 0).await;
    eprintln!("{}", fs.command("cut"));
    let problems = integrity_check(&fs.root().join("data"));
    assert!(
        problems.is_empty(),
        "a lost write-back leaves an older database, not a corrupt one: {problems:?}"
    );
    let server = fs.start_server();
    let snapshot = ledger.lock().unwrap().clone();
    let problems = check(&server.client(), &snapshot).await;
    eprintln!(
        "the check found {} problems, e.g. {:?}",
        problems.len(),
        problems.first()
    );
    assert!(
        problems
            .iter()
            .any(|p| p.ends_with("acknowledged items lost")),
        "acknowledged writes after the last write-back must be missing: {problems:?}"
    );
    server.kill();
}
