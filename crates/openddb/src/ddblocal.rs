//! DynamoDB Local's command line: `java -Djava.library.path=./DynamoDBLocal_lib
//! -jar DynamoDBLocal.jar -sharedDb -port 8000 …`, accepted unchanged and
//! turned into openddb's own flags with DynamoDB Local's defaults (port
//! 8000 on every interface, data in the current directory, one database
//! per access key id and region, CORS for every origin).
//!
//! A command line is DynamoDB Local's when the program is invoked as
//! `DynamoDBLocal`, or when it holds one of DynamoDB Local's (or the JVM's)
//! arguments. openddb's own `--flags` may be mixed in; they win over the
//! defaults (`--tenancy account` with DynamoDB Local's flags, say).

use std::ffi::OsString;

/// The name the binary answers to as DynamoDB Local.
pub const PROGRAM: &str = "DynamoDBLocal";

/// The data directory's name inside DynamoDB Local's `-dbPath`.
pub const DATA_SUBDIR: &str = "openddb-data";

/// DynamoDB Local's main class, for command lines that name it after
/// `-cp`.
const MAIN_CLASS: &str = "com.amazonaws.services.dynamodbv2.local.main.ServerRunner";

/// What a command line asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    /// Not DynamoDB Local's: parse it as openddb's.
    Native,
    /// Serve, with these openddb arguments (program name first).
    Serve(Vec<OsString>),
    /// `-help`: print [`usage`].
    Help,
    /// `-version`.
    Version,
    /// A mistake, worded as DynamoDB Local words it; print it (with the
    /// usage when `with_usage`) and exit.
    Error { message: String, with_usage: bool },
}

/// DynamoDB Local's options (single dash; commons-cli also takes them with
/// two), and whether each takes a value.
const OPTIONS: &[(&str, bool)] = &[
    ("port", true),
    ("inMemory", false),
    ("dbPath", true),
    ("sharedDb", false),
    ("cors", true),
    ("delayTransientStatuses", false),
    ("optimizeDbBeforeStartup", false),
    ("disableTelemetry", false),
    ("help", false),
    ("version", false),
];

/// DynamoDB Local's option `arg` names, if it names one: `-port`, or
/// `--inMemory` (but not openddb's own `--port`, which means the same).
fn option(arg: &str) -> Option<(&'static str, bool)> {
    let name = arg.strip_prefix("--").or_else(|| arg.strip_prefix('-'))?;
    OPTIONS.iter().copied().find(|(n, _)| *n == name)
}

/// Whether `arg` is one of the JVM's own (`-Dname=value`, `-Xmx512m`,
/// `-XX:+UseG1GC`, `-server`), which openddb has no use for.
fn jvm_option(arg: &str) -> bool {
    arg.starts_with("-D")
        || arg.starts_with("-X")
        || matches!(arg, "-server" | "-client" | "-ea" | "-da")
}

/// Whether the program was invoked as DynamoDB Local.
fn invoked_as_ddblocal(program: &OsString) -> bool {
    let path = std::path::Path::new(program);
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    stem == PROGRAM
}

fn is_java(arg: &str) -> bool {
    arg == "java" || arg.ends_with("/java") || arg.ends_with("\\java.exe")
}

/// Reads `argv` (program name first).
pub fn parse(argv: Vec<OsString>) -> Parsed {
    let mut args = argv.into_iter();
    let program = args.next().unwrap_or_else(|| OsString::from("openddb"));
    let rest: Vec<OsString> = args.collect();
    let strings: Option<Vec<&str>> = rest.iter().map(|a| a.to_str()).collect();
    let looks_like_ddblocal = invoked_as_ddblocal(&program)
        || strings.as_ref().is_some_and(|args| {
            args.first().is_some_and(|a| is_java(a))
                || args.iter().any(|a| {
                    a.starts_with('-')
                        && !a.starts_with("--")
                        && (option(a).is_some() || jvm_option(a) || *a == "-jar" || *a == "-cp")
                })
        });
    if !looks_like_ddblocal {
        return Parsed::Native;
    }
    // openddb's subcommands keep their meaning under either name.
    if let Some(first) = strings.as_ref().and_then(|a| a.first()) {
        if matches!(*first, "admin" | "serve" | "health" | "help") {
            return Parsed::Native;
        }
    }
    let Some(args) = strings else {
        return Parsed::Error {
            message: "Error while parsing options. Arguments must be valid UTF-8.".into(),
            with_usage: true,
        };
    };
    translate(&args)
}

fn translate(args: &[&str]) -> Parsed {
    let mut port: Option<&str> = None;
    let mut in_memory = false;
    let mut db_path: Option<&str> = None;
    let mut shared = false;
    let mut cors: Option<&str> = None;
    let mut delay = false;
    let mut optimize = false;
    let mut native: Vec<&str> = Vec::new();
    let mut i = 0;
    if args.first().is_some_and(|a| is_java(a)) {
        i = 1;
    }
    while i < args.len() {
        let arg = args[i];
        i += 1;
        if let Some((name, takes_value)) = option(arg) {
            let value = if takes_value {
                match args.get(i) {
                    Some(v) if !v.starts_with('-') => {
                        i += 1;
                        Some(*v)
                    }
                    _ => {
                        return Parsed::Error {
                            message: format!(
                                "Error while parsing options. Missing argument for option: {name}"
                            ),
                            with_usage: true,
                        }
                    }
                }
            } else {
                None
            };
            match (name, value) {
                ("port", v) => port = v,
                ("inMemory", _) => in_memory = true,
                ("dbPath", v) => db_path = v,
                ("sharedDb", _) => shared = true,
                ("cors", v) => cors = v,
                ("delayTransientStatuses", _) => delay = true,
                ("optimizeDbBeforeStartup", _) => optimize = true,
                // openddb sends no telemetry; nothing to turn off.
                ("disableTelemetry", _) => {}
                ("help", _) => return Parsed::Help,
                ("version", _) => return Parsed::Version,
                _ => {}
            }
        } else if arg == "-jar" || arg == "-cp" || arg == "-classpath" {
            // The jar (or class path) DynamoDB Local would run from.
            i += 1;
        } else if jvm_option(arg) || arg == MAIN_CLASS {
        } else if arg.starts_with("--") {
            // openddb's own flag, with its value if one follows (openddb
            // takes no positional arguments, so a word after a flag is
            // its value).
            native.push(arg);
            if !arg.contains('=') {
                if let Some(v) = args.get(i).filter(|v| !v.starts_with('-')) {
                    native.push(v);
                    i += 1;
                }
            }
        } else {
            return Parsed::Error {
                message: format!("Error while parsing options. Unrecognized option: {arg}"),
                with_usage: true,
            };
        }
    }

    if in_memory && db_path.is_some() {
        return Parsed::Error {
            message: "dbPath and inMemory cannot be set at the same time.".into(),
            with_usage: false,
        };
    }
    if optimize && db_path.is_none() {
        return Parsed::Error {
            message: "optimizeDbBeforeStartup option must be used with dbPath to determine the \
                      location of database files to optimize."
                .into(),
            with_usage: false,
        };
    }
    if let Some(p) = port {
        if p.parse::<u16>().is_err() {
            return Parsed::Error {
                message: "Invalid Port. Port number must lie between 1 and 65535.".into(),
                with_usage: false,
            };
        }
    }

    let given = |flag: &str| {
        native
            .iter()
            .any(|a| *a == flag || a.starts_with(&format!("{flag}=")))
    };
    let mut out: Vec<OsString> = vec![OsString::from("openddb")];
    let mut push = |flag: &str, value: Option<&str>| {
        out.push(flag.into());
        if let Some(v) = value {
            out.push(v.into());
        }
    };
    if !given("--host") {
        // DynamoDB Local listens on every interface (a container's port
        // mapping needs it).
        push("--host", Some("0.0.0.0"));
    }
    if !given("--port") {
        push("--port", Some(port.unwrap_or("8000")));
    }
    if in_memory {
        push("--in-memory", None);
    } else if !given("--data-dir") {
        // DynamoDB Local keeps its files in -dbPath (default: the current
        // directory); openddb keeps its data directory there, in one
        // subdirectory, so a project directory or a volume that holds
        // other files (DynamoDB Local's own among them) is left as it is.
        let dir = std::path::Path::new(db_path.unwrap_or(".")).join(DATA_SUBDIR);
        push("--data-dir", Some(&dir.to_string_lossy()));
    }
    if !given("--tenancy") {
        push(
            "--tenancy",
            Some(if shared { "shared" } else { "key-region" }),
        );
    }
    if !given("--cors") {
        push("--cors", Some(cors.unwrap_or("*")));
    }
    if delay {
        push("--delay-transient-statuses", None);
    }
    if optimize {
        push("--optimize-db-before-startup", None);
    }
    push("--ddblocal-banner", None);
    out.extend(native.iter().map(OsString::from));
    Parsed::Serve(out)
}

/// `-help`: DynamoDB Local's options, as openddb takes them.
pub fn usage() -> String {
    format!(
        "usage: {PROGRAM} [-port <port-no.>] [-inMemory] [-delayTransientStatuses]
            [-dbPath <path>] [-sharedDb] [-disableTelemetry] [-version]
            [-cors <allow-list>] [-optimizeDbBeforeStartup] [--openddb-flags…]
   (also: java -Djava.library.path=./DynamoDBLocal_lib -jar DynamoDBLocal.jar …)
 -cors <arg>                Origins allowed to read answers (browsers), separated
                            by commas; '*' for every origin (the default)
 -dbPath <path>             Directory for the database files (openddb keeps them
                            in its openddb-data subdirectory). Default is the
                            current directory.
 -delayTransientStatuses    Tables and global secondary indexes pass through
                            CREATING, UPDATING and DELETING for a while, as in
                            DynamoDB, instead of becoming ACTIVE (or gone) at once.
 -disableTelemetry          Accepted; openddb sends no telemetry.
 -help                      Display this usage.
 -inMemory                  Keep everything in memory; nothing survives the process.
 -optimizeDbBeforeStartup   Compact and optimize every database file under -dbPath
                            before serving.
 -port <port-no.>           Port to listen on (every interface). Default is 8000.
 -sharedDb                  One database for every client, whatever its access key
                            and region. Without it, each access key id and region
                            has its own database, as in DynamoDB Local.
 -version                   Display the version.

openddb's own flags (`--tenancy account|key-region|shared`, `--host`, `--log-level`,
…) may follow; see `openddb --help`."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(line: &str) -> Vec<OsString> {
        line.split_whitespace().map(OsString::from).collect()
    }

    fn serve(line: &str) -> Vec<String> {
        match parse(argv(line)) {
            Parsed::Serve(args) => args.into_iter().map(|a| a.into_string().unwrap()).collect(),
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn openddb_command_lines_are_left_alone() {
        for line in [
            "openddb",
            "openddb --port 8001 --in-memory",
            "openddb admin accounts list",
            "openddb --help",
            "openddb -h",
        ] {
            assert_eq!(parse(argv(line)), Parsed::Native, "{line}");
        }
    }

    #[test]
    fn documented_invocations() {
        let expected = "openddb --host 0.0.0.0 --port 8000 --in-memory --tenancy key-region \
                        --cors * --ddblocal-banner";
        for line in [
            "openddb java -Djava.library.path=./DynamoDBLocal_lib -jar DynamoDBLocal.jar -inMemory",
            "openddb -jar DynamoDBLocal.jar -inMemory",
            "/usr/bin/DynamoDBLocal -inMemory",
            "openddb -Xmx512m -cp DynamoDBLocal.jar:lib/* \
             com.amazonaws.services.dynamodbv2.local.main.ServerRunner -inMemory",
        ] {
            assert_eq!(serve(line).join(" "), expected, "{line}");
        }
        assert_eq!(
            serve("openddb -jar DynamoDBLocal.jar -sharedDb -dbPath ./data -port 8001").join(" "),
            "openddb --host 0.0.0.0 --port 8001 --data-dir ./data/openddb-data --tenancy shared \
             --cors * --ddblocal-banner"
        );
        assert_eq!(
            serve("DynamoDBLocal").join(" "),
            "openddb --host 0.0.0.0 --port 8000 --data-dir ./openddb-data --tenancy key-region \
             --cors * --ddblocal-banner"
        );
        assert_eq!(
            serve(
                "DynamoDBLocal -cors http://a.com,http://b.com -delayTransientStatuses \
                 -optimizeDbBeforeStartup -dbPath d -disableTelemetry --tenancy account \
                 --host 127.0.0.1 --log-level=debug"
            )
            .join(" "),
            "openddb --port 8000 --data-dir d/openddb-data --cors http://a.com,http://b.com \
             --delay-transient-statuses --optimize-db-before-startup --ddblocal-banner \
             --tenancy account --host 127.0.0.1 --log-level=debug"
        );
        assert_eq!(serve("DynamoDBLocal --sharedDb --inMemory")[7], "shared");
    }

    #[test]
    fn help_version_and_mistakes() {
        assert_eq!(parse(argv("DynamoDBLocal -help")), Parsed::Help);
        assert_eq!(parse(argv("openddb -jar x.jar -version")), Parsed::Version);
        let error = |line: &str| match parse(argv(line)) {
            Parsed::Error { message, .. } => message,
            other => panic!("{line}: {other:?}"),
        };
        assert_eq!(
            error("DynamoDBLocal -foo"),
            "Error while parsing options. Unrecognized option: -foo"
        );
        assert_eq!(
            error("DynamoDBLocal -Port 1"),
            "Error while parsing options. Unrecognized option: -Port"
        );
        assert_eq!(
            error("DynamoDBLocal -port"),
            "Error while parsing options. Missing argument for option: port"
        );
        for bad in ["abc", "99999", "-1"] {
            let message = match parse(argv(&format!("DynamoDBLocal -port {bad}"))) {
                Parsed::Error { message, .. } => message,
                other => panic!("{bad}: {other:?}"),
            };
            assert!(
                message.starts_with("Invalid Port") || message.contains("Missing argument"),
                "{message}"
            );
        }
        assert_eq!(
            error("DynamoDBLocal -inMemory -dbPath /tmp"),
            "dbPath and inMemory cannot be set at the same time."
        );
        assert!(
            error("DynamoDBLocal -optimizeDbBeforeStartup").starts_with("optimizeDbBeforeStartup")
        );
        assert!(usage().contains("-sharedDb"));
    }
}
