//! Disk full: the real `openddb` binary with its data directory on a small
//! filesystem that fills up. Writes that cannot be stored answer
//! InternalServerError, reads go on, every acknowledged write stays (across
//! a crash and a clean stop on the full disk too), writes succeed again once
//! space returns without a restart, and the files pass SQLite's integrity
//! check.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Debug;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::batch_write_item::{BatchWriteItemError, BatchWriteItemOutput};
use aws_sdk_dynamodb::types::{
    AttributeValue, BillingMode, KeyType, ScalarAttributeType, TableStatus, TransactWriteItem,
};
use aws_sdk_dynamodb::Client;
use common::faults::{
    self, batch_get_all, create_grouped_table, expected_in_group, half_there, increment_action,
    index_group, integrity_report, put_action, Counters, INDEX,
};
use common::{
    attr_def, create_table, get_consistent, item, key_elem, n, put_request, s, ServerProcess,
};

const TABLE: &str = "Full";
const GROUPS: usize = 5;
const COUNTERS: usize = 3;
/// Requests in one "disk full" phase, at most: enough for every kind of
/// write to meet the full disk several times over.
const MAX_FULL_PHASE: usize = 400;
/// Requests before the disk must have filled, at most.
const MAX_FILL: usize = 3000;

/// Runs the scenario on a tmpfs of its own when this machine lets the test
/// mount one (root with CAP_SYS_ADMIN), else on a file size limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disk_full_is_survived() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let disk = match Disk::tmpfs(tmp.path()) {
        Ok(disk) => disk,
        Err(why) => {
            eprintln!("disk full by tmpfs is not possible here ({why}); using RLIMIT_FSIZE");
            Disk::file_size_limit(tmp.path())
        }
    };
    scenario(disk).await;
}

/// The same scenario on a file size limit, which needs no privilege: a
/// write past it fails with EFBIG, which SQLite reports as an I/O error
/// rather than SQLITE_FULL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_size_limit_is_survived() {
    let tmp = tempfile::tempdir().expect("temp dir");
    scenario(Disk::file_size_limit(tmp.path())).await;
}

/// Where the data directory lives and how it fills up.
enum Disk {
    /// A tmpfs mounted in a mount namespace of its own, which `holder`
    /// (`unshare … cat`) keeps alive while the test holds its stdin: the
    /// mount vanishes with the namespace once the holder and the server are
    /// gone, so a test that dies leaves no mount behind. The test reaches
    /// the files through `/proc/<holder>/root`.
    Tmpfs {
        holder: Child,
        mount_point: PathBuf,
        fillers: usize,
        size_mib: u64,
    },
    /// RLIMIT_FSIZE on the server process, SIGXFSZ ignored so that a write
    /// past the limit fails instead of killing the server; raised again to
    /// return the space. `None` is no limit.
    FileSizeLimit {
        dir: PathBuf,
        limit: Option<u64>,
        server: Option<u32>,
    },
}

/// The tmpfs's size, and the ballast that leaves the database 8 MiB of it:
/// enough for a full WAL (SQLite checkpoints at 1000 pages, ~4 MiB) and
/// some of the database file, so both a failed WAL append and a failed
/// checkpoint happen.
const TMPFS_SIZE_MIB: u64 = 12;
const BALLAST_MIB: u64 = 4;
/// The file size limit the fallback starts with.
const FSIZE_LIMIT: u64 = 4 << 20;

impl Disk {
    fn tmpfs(parent: &Path) -> Result<Disk, String> {
        let mount_point = parent.join("mnt");
        std::fs::create_dir(&mount_point).map_err(|e| e.to_string())?;
        let script = format!(
            "mount -t tmpfs -o size={TMPFS_SIZE_MIB}m,mode=0700 openddb-disk-full \"$0\" \
             && echo mounted && exec cat >/dev/null"
        );
        let mut holder = faults::unshare_mount()
            .args(["sh", "-c"])
            .arg(script)
            .arg(&mount_point)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run unshare: {e}"))?;
        let mut line = String::new();
        let stdout = holder.stdout.take().expect("piped stdout");
        let _ = std::io::BufReader::new(stdout).read_line(&mut line);
        if line.trim() != "mounted" {
            let _ = holder.kill();
            let out = holder.wait_with_output().map_err(|e| e.to_string())?;
            return Err(String::from_utf8_lossy(&out.stderr).trim().to_owned());
        }
        let disk = Disk::Tmpfs {
            holder,
            mount_point,
            fillers: 0,
            size_mib: TMPFS_SIZE_MIB,
        };
        let ballast = disk.root().join("ballast");
        let mut file = std::fs::File::create(&ballast).map_err(|e| e.to_string())?;
        let chunk = vec![0xA5u8; 1 << 20];
        for _ in 0..BALLAST_MIB {
            file.write_all(&chunk).map_err(|e| e.to_string())?;
        }
        eprintln!(
            "disk full by a {TMPFS_SIZE_MIB} MiB tmpfs in a private mount namespace \
             ({BALLAST_MIB} MiB of ballast)"
        );
        Ok(disk)
    }

    fn file_size_limit(parent: &Path) -> Disk {
        eprintln!("disk full by RLIMIT_FSIZE ({FSIZE_LIMIT} bytes per file)");
        Disk::FileSizeLimit {
            dir: parent.join("fsize"),
            limit: Some(FSIZE_LIMIT),
            server: None,
        }
    }

    /// The filesystem's root as the test sees it.
    fn root(&self) -> PathBuf {
        match self {
            Disk::Tmpfs {
                holder,
                mount_point,
                ..
            } => faults::in_namespace(holder.id(), mount_point),
            Disk::FileSizeLimit { dir, .. } => dir.clone(),
        }
    }

    /// The data directory as the server sees it.
    fn data_dir(&self) -> PathBuf {
        match self {
            Disk::Tmpfs { mount_point, .. } => mount_point.join("data"),
            Disk::FileSizeLimit { dir, .. } => dir.join("data"),
        }
    }

    /// The data directory as the test sees it.
    fn data_dir_here(&self) -> PathBuf {
        self.root().join("data")
    }

    fn start_server(&mut self) -> ServerProcess {
        let data_dir = self.data_dir();
        let server = match self {
            Disk::Tmpfs { holder, .. } => faults::start_in_namespace(holder.id(), &data_dir),
            Disk::FileSizeLimit { limit, server, .. } => {
                let fsize = format!("--fsize={}:", limit_arg(*limit));
                let wrapper = [
                    "sh",
                    "-c",
                    "trap '' XFSZ; exec \"$@\"",
                    "sh",
                    "prlimit",
                    &fsize,
                    "--",
                ];
                let started = ServerProcess::start_wrapped(&wrapper, &data_dir, &[]);
                *server = Some(started.pid());
                started
            }
        };
        server
    }

    /// Leaves the database a little room, if it has no bound yet: with the
    /// file size limit lifted, the files may grow 2 MiB past the database
    /// file's current size. (A tmpfs is bounded already.)
    fn bound(&mut self) {
        let root = self.root();
        if let Disk::FileSizeLimit { limit, server, .. } = self {
            if limit.is_none() {
                *limit = Some(largest_database(&root.join("data")) + (2 << 20));
                set_limit(*server, *limit);
            }
        }
    }

    /// Takes whatever space is left.
    fn fill(&mut self) {
        let root = self.root();
        match self {
            Disk::Tmpfs { fillers, .. } => {
                *fillers += 1;
                let path = root.join(format!("filler-{fillers}"));
                let mut file = std::fs::File::create(&path).expect("create a filler file");
                for size in [1 << 16, 1 << 12, 1] {
                    let chunk = vec![0x5Au8; size];
                    while file.write_all(&chunk).is_ok() {}
                }
            }
            Disk::FileSizeLimit { limit, server, .. } => {
                // No file may grow past the database file's current size.
                *limit = Some(largest_database(&root.join("data")));
                set_limit(*server, *limit);
            }
        }
    }

    /// Gives space back: the first time by deleting the ballast and the
    /// fillers, later by remounting the tmpfs 8 MiB larger (the database
    /// has by then taken what the ballast left); or the limit is lifted.
    fn free(&mut self) {
        let root = self.root();
        match self {
            Disk::Tmpfs {
                holder,
                mount_point,
                fillers,
                size_mib,
            } => {
                let ballast = root.join("ballast");
                if ballast.exists() {
                    std::fs::remove_file(ballast).expect("remove the ballast");
                } else {
                    *size_mib += 8;
                    let status = Command::new("nsenter")
                        .args(["--target", &holder.id().to_string(), "--mount", "--"])
                        .args(["mount", "-o", &format!("remount,size={size_mib}m")])
                        .arg(&*mount_point)
                        .status()
                        .expect("run nsenter mount");
                    assert!(status.success(), "remount the tmpfs larger");
                }
                for i in 1..=*fillers {
                    let _ = std::fs::remove_file(root.join(format!("filler-{i}")));
                }
            }
            Disk::FileSizeLimit { limit, server, .. } => {
                *limit = None;
                set_limit(*server, None);
            }
        }
    }
}

impl Drop for Disk {
    fn drop(&mut self) {
        if let Disk::Tmpfs { holder, .. } = self {
            let _ = holder.kill();
            let _ = holder.wait();
        }
    }
}

fn limit_arg(limit: Option<u64>) -> String {
    limit.map_or_else(|| "unlimited".to_owned(), |l| l.to_string())
}

fn set_limit(server: Option<u32>, limit: Option<u64>) {
    let Some(pid) = server else { return };
    let status = Command::new("prlimit")
        .args(["--pid", &pid.to_string()])
        .arg(format!("--fsize={}:", limit_arg(limit)))
        .status()
        .expect("run prlimit");
    assert!(status.success(), "prlimit --fsize on the server");
}

fn largest_database(data_dir: &Path) -> u64 {
    database_files(data_dir)
        .into_iter()
        .map(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .max()
        .unwrap_or(0)
}

/// Every tenant file: `tenants/<h0>/<h1>/<id>.sqlite3`.
fn database_files(data_dir: &Path) -> Vec<PathBuf> {
    let list = |dir: &Path| -> Vec<PathBuf> {
        std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("list {}: {e}", dir.display()))
            .map(|e| e.expect("directory entry").path())
            .collect()
    };
    let mut files: Vec<PathBuf> = list(&data_dir.join("tenants"))
        .iter()
        .filter(|p| p.is_dir())
        .flat_map(|d| list(d))
        .filter(|p| p.is_dir())
        .flat_map(|d| list(&d))
        .filter(|p| p.extension().is_some_and(|x| x == "sqlite3"))
        .collect();
    files.sort();
    files
}

/// What the server was asked to write and what it acknowledged.
#[derive(Default)]
struct Ledger {
    /// Items whose write was acknowledged: key → `v`.
    items: BTreeMap<String, i64>,
    /// Items written only by requests that failed: they may exist, and then
    /// only as written.
    maybe: BTreeMap<String, i64>,
    /// The items of each failed TransactWriteItems: all there or none.
    maybe_groups: Vec<Vec<String>>,
    /// Per counter: increments acknowledged and increments that failed.
    counters: Counters,
    /// Tables whose creation was acknowledged / failed.
    tables: BTreeSet<String>,
    maybe_tables: BTreeSet<String>,
}

/// The kinds of write, taken in turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    PutItem,
    BatchWriteItem,
    TransactWriteItems,
    UpdateItem,
    CreateTable,
}

const KINDS: [Kind; 5] = [
    Kind::PutItem,
    Kind::BatchWriteItem,
    Kind::TransactWriteItems,
    Kind::UpdateItem,
    Kind::CreateTable,
];

/// An item's payload: tied to its key and value so that any mix-up shows.
fn payload(key: &str, v: i64, len: usize) -> String {
    let unit = format!("{key}/{v};");
    unit.repeat(len / unit.len() + 1)[..len].to_owned()
}

fn new_item(key: &str, v: i64, len: usize) -> HashMap<String, AttributeValue> {
    item([
        ("pk", s(key)),
        ("g", s(&faults::group_of(key, GROUPS))),
        ("v", n(&v.to_string())),
        ("payload", s(&payload(key, v, len))),
    ])
}

/// Checks that a refused write got the answer chosen for a full disk:
/// InternalServerError, HTTP 500, DynamoDB's wording.
fn expect_internal_error<E: ProvideErrorMetadata + Debug>(
    what: &str,
    err: &SdkError<E, HttpResponse>,
) {
    match err {
        SdkError::ServiceError(service) => {
            let got = (
                service.raw().status().as_u16(),
                service.err().code(),
                service.err().message(),
            );
            assert_eq!(
                got,
                (
                    500,
                    Some("InternalServerError"),
                    Some("Internal server error")
                ),
                "{what}: {err:?}"
            );
        }
        other => panic!("{what}: the server gave no answer: {other:?}"),
    }
}

/// One write of `kind`; `n` makes its keys unique. Returns whether it was
/// acknowledged; a refusal must be the full-disk answer.
async fn write(client: &Client, ledger: &mut Ledger, kind: Kind, seq: usize) -> bool {
    let v = seq as i64;
    match kind {
        Kind::PutItem => {
            let key = format!("p{seq}");
            ledger.maybe.insert(key.clone(), v);
            let result = client
                .put_item()
                .table_name(TABLE)
                .set_item(Some(new_item(&key, v, 12_000)))
                .send()
                .await;
            settle_items(ledger, &[key], result.is_ok());
            check(kind, result)
        }
        Kind::BatchWriteItem => {
            let keys: Vec<String> = (0..4).map(|i| format!("b{seq}-{i}")).collect();
            let result = batch_put(client, ledger, &keys, v, 6_000).await;
            if let Ok(out) = &result {
                let unprocessed = out.unprocessed_items().map_or(0, |u| u.len());
                assert_eq!(unprocessed, 0, "BatchWriteItem left items unprocessed");
            }
            settle_items(ledger, &keys, result.is_ok());
            check(kind, result)
        }
        Kind::TransactWriteItems => {
            let keys: Vec<String> = (0..2).map(|i| format!("t{seq}-{i}")).collect();
            let counter = format!("counter-{}", seq % COUNTERS);
            let mut actions: Vec<TransactWriteItem> = keys
                .iter()
                .map(|key| {
                    ledger.maybe.insert(key.clone(), v);
                    put_action(TABLE, new_item(key, v, 6_000))
                })
                .collect();
            actions.push(increment_action(TABLE, &counter));
            ledger.counters.begin(&counter);
            let result = client
                .transact_write_items()
                .set_transact_items(Some(actions))
                .send()
                .await;
            settle_counter(ledger, &counter, result.is_ok());
            if result.is_err() {
                ledger.maybe_groups.push(keys.clone());
            }
            settle_items(ledger, &keys, result.is_ok());
            check(kind, result)
        }
        Kind::UpdateItem => {
            let counter = format!("counter-{}", seq % COUNTERS);
            ledger.counters.begin(&counter);
            let result = client
                .update_item()
                .table_name(TABLE)
                .key("pk", s(&counter))
                .update_expression("ADD c :one SET padding = :pad")
                .expression_attribute_values(":one", n("1"))
                .expression_attribute_values(":pad", s(&payload(&counter, v, 8_000)))
                .send()
                .await;
            settle_counter(ledger, &counter, result.is_ok());
            check(kind, result)
        }
        Kind::CreateTable => {
            let name = format!("Extra{seq}");
            let result = client
                .create_table()
                .table_name(&name)
                .billing_mode(BillingMode::PayPerRequest)
                .attribute_definitions(attr_def("id", ScalarAttributeType::S))
                .key_schema(key_elem("id", KeyType::Hash))
                .send()
                .await;
            if result.is_ok() {
                ledger.tables.insert(name);
            } else {
                ledger.maybe_tables.insert(name);
            }
            check(kind, result)
        }
    }
}

/// One BatchWriteItem putting the item of each of `keys` with `v` and a
/// payload of `len` bytes, each noted as a write that may have happened.
async fn batch_put(
    client: &Client,
    ledger: &mut Ledger,
    keys: &[String],
    v: i64,
    len: usize,
) -> Result<BatchWriteItemOutput, SdkError<BatchWriteItemError, HttpResponse>> {
    let requests = keys
        .iter()
        .map(|key| {
            ledger.maybe.insert(key.clone(), v);
            put_request(new_item(key, v, len))
        })
        .collect();
    client
        .batch_write_item()
        .request_items(TABLE, requests)
        .send()
        .await
}

fn settle_items(ledger: &mut Ledger, keys: &[String], acked: bool) {
    if acked {
        for key in keys {
            let v = ledger.maybe.remove(key).expect("recorded before sending");
            ledger.items.insert(key.clone(), v);
        }
    }
}

fn settle_counter(ledger: &mut Ledger, counter: &str, acked: bool) {
    if acked {
        ledger.counters.acknowledge(counter);
    }
}

fn check<T, E: ProvideErrorMetadata + Debug>(
    kind: Kind,
    result: Result<T, SdkError<E, HttpResponse>>,
) -> bool {
    match result {
        Ok(_) => true,
        Err(err) => {
            expect_internal_error(&format!("{kind:?}"), &err);
            false
        }
    }
}

/// Creates the table (with a global index over every item's group) and the
/// counters.
async fn setup(client: &Client, ledger: &mut Ledger) {
    create_grouped_table(client, TABLE).await;
    for i in 0..COUNTERS {
        let key = format!("counter-{i}");
        client
            .put_item()
            .table_name(TABLE)
            .item("pk", s(&key))
            .item("c", n("0"))
            .send()
            .await
            .expect("PutItem counter");
        ledger.counters.0.insert(key, (0, 0));
    }
    // Another table whose creation must survive, made while there is room.
    create_table(client, "Before", false).await;
    ledger.tables.insert("Before".into());
}

/// Writes until the disk is full (the first refusal), takes what space is
/// left, then goes on until every kind of write has been refused at least
/// twice. Returns the next request number.
async fn fill_up(client: &Client, ledger: &mut Ledger, disk: &mut Disk, mut n: usize) -> usize {
    disk.bound();
    let start = n;
    loop {
        assert!(n - start < MAX_FILL, "the disk never filled up");
        let kind = KINDS[n % KINDS.len()];
        n += 1;
        if !write(client, ledger, kind, n).await {
            eprintln!("first refusal after {} writes ({kind:?})", n - start);
            break;
        }
    }
    disk.fill();
    let mut refused: BTreeMap<Kind, usize> = BTreeMap::new();
    let mut acked = 0;
    let phase = n;
    while KINDS
        .iter()
        .any(|k| refused.get(k).copied().unwrap_or(0) < 2)
    {
        assert!(
            n - phase < MAX_FULL_PHASE,
            "on a full disk some kind of write was never refused: {refused:?}"
        );
        let kind = KINDS[n % KINDS.len()];
        n += 1;
        if write(client, ledger, kind, n).await {
            acked += 1;
        } else {
            *refused.entry(kind).or_default() += 1;
        }
    }
    eprintln!(
        "full disk: {} writes, {acked} acknowledged, refused {refused:?}",
        n - phase
    );
    n
}

/// Payload of the items of [`large_batch_is_refused`].
const LARGE_ITEM: usize = 380_000;

/// A batch of 25 items near 400 KB (9.5 MB) is more than SQLite's page
/// cache holds, so SQLite writes pages to the WAL before the commit: on the
/// full disk that spill fails in the middle of the transaction (SQLITE_FULL
/// from an INSERT, the whole transaction rolled back by SQLite), a
/// different path from a failed COMMIT. The batch must be refused whole.
async fn large_batch_is_refused(client: &Client, ledger: &mut Ledger, seq: usize) -> usize {
    let seq = seq + 1;
    let keys: Vec<String> = (0..25).map(|i| format!("L{seq}-{i}")).collect();
    let result = batch_put(client, ledger, &keys, seq as i64, LARGE_ITEM).await;
    let err = result.expect_err("a 9.5 MB batch on a full disk");
    expect_internal_error("large BatchWriteItem", &err);
    // openddb writes a batch in one transaction (docs/differences.md).
    ledger.maybe_groups.push(keys);
    seq
}

/// After space returns, every kind of write succeeds at once, `rounds` times.
async fn writes_succeed(
    client: &Client,
    ledger: &mut Ledger,
    mut n: usize,
    rounds: usize,
) -> usize {
    for _ in 0..rounds {
        for kind in KINDS {
            n += 1;
            assert!(
                write(client, ledger, kind, n).await,
                "{kind:?} refused after space returned"
            );
        }
    }
    n
}

/// Reads everything back: acknowledged items exactly as written, failed
/// writes absent or whole, counters within their bounds, the index agreeing
/// with the items, acknowledged tables present.
async fn verify(client: &Client, ledger: &Ledger, when: &str) {
    let keys: Vec<&String> = ledger.items.keys().chain(ledger.maybe.keys()).collect();
    let mut found: HashMap<String, HashMap<String, AttributeValue>> = HashMap::new();
    for got in batch_get_all(client, TABLE, &keys)
        .await
        .unwrap_or_else(|e| panic!("{when}: BatchGetItem: {e:?}"))
    {
        let Some(AttributeValue::S(pk)) = got.get("pk") else {
            panic!("{when}: an item without its key: {got:?}");
        };
        found.insert(pk.clone(), got);
    }
    let lengths = |key: &str| match key.as_bytes()[0] {
        b'p' => 12_000,
        b'L' => LARGE_ITEM,
        _ => 6_000,
    };
    for (key, v) in &ledger.items {
        let got = found
            .get(key)
            .unwrap_or_else(|| panic!("{when}: acknowledged item {key} is missing"));
        assert_eq!(*got, new_item(key, *v, lengths(key)), "{when}: item {key}");
    }
    for (key, v) in &ledger.maybe {
        if let Some(got) = found.get(key) {
            assert_eq!(*got, new_item(key, *v, lengths(key)), "{when}: item {key}");
        }
    }
    for group in &ledger.maybe_groups {
        assert!(
            !half_there(group, &found),
            "{when}: a failed transaction is half there: {group:?}"
        );
    }
    for (counter, (acked, unknown)) in &ledger.counters.0 {
        let got = get_consistent(client, TABLE, counter)
            .await
            .unwrap_or_else(|e| panic!("{when}: GetItem {counter}: {e:?}"))
            .unwrap_or_else(|| panic!("{when}: counter {counter} is missing"));
        let c = common::num(&got, "c");
        assert!(
            (*acked..=acked + unknown).contains(&c),
            "{when}: {counter} = {c}, acknowledged {acked} (+{unknown} failed)"
        );
    }

    // The index holds exactly the items there are, by group.
    for g in 0..GROUPS {
        let group = format!("g{g}");
        let mut indexed = BTreeSet::new();
        let entries = index_group(client, TABLE, &group)
            .await
            .unwrap_or_else(|e| panic!("{when}: Query {INDEX}: {e:?}"));
        for got in &entries {
            let Some(AttributeValue::S(pk)) = got.get("pk") else {
                panic!("{when}: an index entry without its key: {got:?}");
            };
            assert_eq!(found.get(pk), Some(got), "{when}: index entry {pk}");
            indexed.insert(pk.clone());
        }
        let expected = expected_in_group(&found, &group, GROUPS);
        assert_eq!(indexed, expected, "{when}: index {INDEX}, group {group}");
    }
    let count = client
        .scan()
        .table_name(TABLE)
        .select(aws_sdk_dynamodb::types::Select::Count)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{when}: Scan: {e:?}"));
    // One page covers the count: Count scans still stop at 1 MB of items.
    let mut scanned = count.count() as usize;
    let mut start = count.last_evaluated_key().cloned();
    while let Some(from) = start.take() {
        let page = client
            .scan()
            .table_name(TABLE)
            .select(aws_sdk_dynamodb::types::Select::Count)
            .set_exclusive_start_key(Some(from))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{when}: Scan: {e:?}"));
        scanned += page.count() as usize;
        start = page.last_evaluated_key().cloned();
    }
    assert_eq!(scanned, found.len() + COUNTERS, "{when}: items scanned");

    let mut listed = BTreeSet::new();
    let mut start = None;
    loop {
        let out = client
            .list_tables()
            .set_exclusive_start_table_name(start.take())
            .send()
            .await
            .unwrap_or_else(|e| panic!("{when}: ListTables: {e:?}"));
        listed.extend(out.table_names().iter().cloned());
        start = out.last_evaluated_table_name().map(str::to_owned);
        if start.is_none() {
            break;
        }
    }
    for table in &ledger.tables {
        assert!(listed.contains(table), "{when}: table {table} is missing");
        let status = client
            .describe_table()
            .table_name(table)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{when}: DescribeTable {table}: {e:?}"))
            .table
            .and_then(|t| t.table_status);
        assert_eq!(status, Some(TableStatus::Active), "{when}: table {table}");
    }
    for table in &listed {
        assert!(
            table == TABLE || ledger.tables.contains(table) || ledger.maybe_tables.contains(table),
            "{when}: table {table} was never asked for"
        );
    }
}

/// `PRAGMA integrity_check` on every database file, with no server running.
/// The files are checked as copies: SQLite resolves symbolic links in a
/// path, so it cannot open them through `/proc/<pid>/root` of a mount
/// namespace.
fn integrity_check(data_dir: &Path) {
    let files = database_files(data_dir);
    assert!(
        !files.is_empty(),
        "no database file in {}",
        data_dir.display()
    );
    let copies = tempfile::tempdir().expect("temp dir");
    for file in files {
        let name = file.file_name().expect("a file name").to_owned();
        let copy = copies.path().join(&name);
        std::fs::copy(&file, &copy).expect("copy the database file");
        let mut wal = name.clone();
        wal.push("-wal");
        if file.with_file_name(&wal).exists() {
            std::fs::copy(file.with_file_name(&wal), copies.path().join(&wal))
                .expect("copy the WAL");
        }
        let conn = rusqlite::Connection::open(&copy)
            .unwrap_or_else(|e| panic!("open {}: {e}", file.display()));
        let report = integrity_report(&conn)
            .unwrap_or_else(|e| panic!("integrity_check {}: {e}", file.display()));
        assert_eq!(report, ["ok"], "integrity_check of {}", file.display());
    }
}

async fn scenario(mut disk: Disk) {
    let mut ledger = Ledger::default();
    let server = disk.start_server();
    let client = server.client();
    setup(&client, &mut ledger).await;

    // 1. The disk fills up under writes; reads go on; nothing acknowledged
    //    is lost.
    let mut n = fill_up(&client, &mut ledger, &mut disk, 0).await;
    n = large_batch_is_refused(&client, &mut ledger, n).await;
    verify(&client, &ledger, "on the full disk").await;

    // 2. Space returns: writes succeed again, without a restart.
    disk.free();
    n = writes_succeed(&client, &mut ledger, n, 4).await;
    verify(&client, &ledger, "after space returned").await;

    // 3. Full again, then a crash and a restart on the full disk: the
    //    server starts, serves reads and refuses writes as before.
    n = fill_up(&client, &mut ledger, &mut disk, n).await;
    server.kill();
    let server = disk.start_server();
    let client = server.client();
    verify(&client, &ledger, "after a crash on the full disk").await;
    for kind in KINDS {
        n += 1;
        write(&client, &mut ledger, kind, n).await;
    }
    // A clean stop on the full disk: closing the files cannot checkpoint
    // the WAL into the database file, which must not lose anything either.
    let status = server.terminate();
    assert!(
        status.success(),
        "the server stops cleanly on a full disk: {status}"
    );
    for db in database_files(&disk.data_dir_here()) {
        let wal = std::fs::metadata(format!("{}-wal", db.display())).map(|m| m.len());
        eprintln!("after a clean stop on the full disk: WAL {wal:?}");
    }
    let server = disk.start_server();
    let client = server.client();
    verify(&client, &ledger, "after a clean stop on the full disk").await;

    // 4. Space returns again; then a clean stop, the integrity check, and
    //    a last restart that still finds everything.
    disk.free();
    n = writes_succeed(&client, &mut ledger, n, 4).await;
    verify(&client, &ledger, "after space returned again").await;
    let status = server.terminate();
    assert!(status.success(), "the server stops cleanly: {status}");
    integrity_check(&disk.data_dir_here());
    let server = disk.start_server();
    verify(&server.client(), &ledger, "after a clean restart").await;
    eprintln!(
        "{} requests; {} items, {} tables acknowledged",
        n,
        ledger.items.len(),
        ledger.tables.len()
    );
    server.kill();
}
