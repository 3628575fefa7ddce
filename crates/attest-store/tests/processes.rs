//! Tests with real writer processes: a writer SIGKILLed in the middle of a large append leaves
//! the previous state, and two concurrent writers serialize.
//!
//! This test binary has its own `main` (`harness = false`): run with `ATTEST_STORE_WRITER` set
//! it is the writer process, otherwise it runs the tests, which re-execute it as writers.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use attest_core::journal::Event;
use attest_store::{JournalQuery, NewEntry, RuleFilter, Store};
use common::{TestDb, backends, create, rule, ts};
use sqlx::Connection;

const WRITER_ENV: &str = "ATTEST_STORE_WRITER";

/// A command re-executing this binary as a writer: `big URL N` prints `appending` and appends
/// one batch of N rules; `many URL K TAG` appends K batches of five rules named `TAG-<b>-<i>`.
fn writer(args: &[&str]) -> Command {
    let exe = std::env::current_exe().expect("current exe");
    let mut cmd = Command::new(exe);
    cmd.env(WRITER_ENV, args.join("\u{1f}"));
    cmd
}

fn writer_rule(id: String) -> attest_core::rule::Rule {
    let mut r = rule(&id, &["T1059", "T1059.001"], &["execution"]);
    r.content_hash = id;
    r
}

/// The writer process.
async fn run_writer(spec: &str) -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<&str> = spec.split('\u{1f}').collect();
    let at = jiff::Timestamp::now();
    match args.as_slice() {
        ["big", url, n] => {
            let store = Store::open(url).await?;
            let n: usize = n.parse()?;
            let batch: Vec<NewEntry> = (0..n)
                .map(|i| {
                    NewEntry::new(
                        "crash",
                        at,
                        Event::RuleUpserted(writer_rule(format!("big-{i}"))),
                    )
                })
                .collect();
            println!("appending");
            std::io::stdout().flush()?;
            store.append(batch).await?;
            println!("done");
            store.close().await;
        }
        ["many", url, k, tag] => {
            let store = Store::open(url).await?;
            for b in 0..k.parse::<usize>()? {
                let batch = (0..5)
                    .map(|i| {
                        NewEntry::new(
                            *tag,
                            at,
                            Event::RuleUpserted(writer_rule(format!("{tag}-{b:03}-{i}"))),
                        )
                    })
                    .collect();
                store.append(batch).await?;
            }
            store.close().await;
        }
        _ => return Err(format!("bad writer spec {spec:?}").into()),
    }
    Ok(())
}

/// A test of this harness: builds the future to run.
type TestFn = fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>;

fn main() -> std::process::ExitCode {
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    if let Ok(spec) = std::env::var(WRITER_ENV) {
        return match runtime.block_on(run_writer(&spec)) {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("writer: {e}");
                std::process::ExitCode::FAILURE
            }
        };
    }
    let tests: [(&str, TestFn); 2] = [
        (
            "a_writer_killed_mid_append_leaves_the_previous_state",
            || Box::pin(a_writer_killed_mid_append_leaves_the_previous_state()),
        ),
        ("concurrent_writers_serialize", || {
            Box::pin(concurrent_writers_serialize())
        }),
    ];
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let mut failed = 0;
    for (name, test) in tests {
        if !filter.is_empty() && !filter.iter().any(|f| name.contains(f.as_str())) {
            continue;
        }
        let outcome =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| runtime.block_on(test())));
        match outcome {
            Ok(()) => println!("test {name} ... ok"),
            Err(_) => {
                println!("test {name} ... FAILED");
                failed += 1;
            }
        }
    }
    if failed > 0 {
        println!("test result: FAILED. {failed} failed");
        std::process::ExitCode::FAILURE
    } else {
        println!("test result: ok");
        std::process::ExitCode::SUCCESS
    }
}

/// Whether some other connection holds the journal's write lock right now.
async fn write_locked(db: &TestDb) -> bool {
    if db.label == "sqlite" {
        // With no busy timeout, BEGIN IMMEDIATE fails at once while another writer holds
        // the lock.
        let url = format!("{}?mode=rw", db.url);
        let Ok(mut c) = sqlx::SqliteConnection::connect(&url).await else {
            return false;
        };
        if sqlx::query("PRAGMA busy_timeout = 0")
            .execute(&mut c)
            .await
            .is_err()
        {
            return false;
        }
        let locked = sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut c)
            .await
            .is_err();
        if !locked {
            sqlx::query("ROLLBACK").execute(&mut c).await.ok();
        }
        c.close().await.ok();
        locked
    } else {
        let Ok(mut c) = sqlx::PgConnection::connect(&db.url).await else {
            return false;
        };
        let row: Result<(i64,), _> = sqlx::query_as(
            "SELECT COUNT(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation \
             WHERE c.relname = 'journal' AND c.relnamespace = \
             (SELECT oid FROM pg_namespace WHERE nspname = current_schema()) \
             AND l.mode = 'ExclusiveLock' AND l.granted",
        )
        .fetch_one(&mut c)
        .await;
        c.close().await.ok();
        row.is_ok_and(|r| r.0 > 0)
    }
}

async fn a_writer_killed_mid_append_leaves_the_previous_state() {
    for db in backends("a_writer_killed_mid_append_leaves_the_previous_state").await {
        let l = db.label;
        let store = create(&db).await;
        let base: Vec<NewEntry> = (0..10)
            .map(|i| {
                NewEntry::new(
                    "ci",
                    ts("2026-01-01T00:00:00Z"),
                    Event::RuleUpserted(rule(&format!("base-{i}"), &["T1003"], &[])),
                )
            })
            .collect();
        store.append(base).await.expect("base append");
        let before = store.state(None).await.expect("state");
        store.close().await;

        let mut child = writer(&["big", &db.url, "60000"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn writer");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("writer output");
        assert_eq!(line.trim(), "appending", "{l}");
        // Wait until the writer holds the write lock: it is inside its transaction.
        let deadline = Instant::now() + Duration::from_secs(60);
        while !write_locked(&db).await {
            assert!(Instant::now() < deadline, "{l}: writer never took the lock");
            assert!(
                child.try_wait().expect("try_wait").is_none(),
                "{l}: writer ended before it was killed"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        child.kill().expect("SIGKILL");
        let status = child.wait().expect("wait");
        assert_eq!(status.signal(), Some(9), "{l}: killed, not finished");

        let store = Store::open(&db.url).await.expect("reopen after kill");
        assert_eq!(
            store.head().await.expect("head"),
            10,
            "{l}: nothing of the batch"
        );
        let after = store.state(None).await.expect("state");
        assert_eq!(after.rules.len(), 10, "{l}");
        assert_eq!(after.rules, before.rules, "{l}");
        let projected = store.rules(&RuleFilter::default()).await.expect("rules");
        assert_eq!(projected.len(), 10, "{l}: projections intact");
        // The workspace is writable again and the journal stays gapless.
        let o = store
            .append(vec![NewEntry::new(
                "ci",
                ts("2026-01-02T00:00:00Z"),
                Event::RuleUpserted(rule("after", &[], &[])),
            )])
            .await
            .expect("append after crash");
        assert_eq!(o.first_seq, 11, "{l}");
    }
}

async fn concurrent_writers_serialize() {
    for db in backends("concurrent_writers_serialize").await {
        let l = db.label;
        let store = create(&db).await;
        let spawn = |tag: &str| {
            writer(&["many", &db.url, "40", tag])
                .stdout(Stdio::null())
                .stderr(Stdio::inherit())
                .spawn()
                .expect("spawn writer")
        };
        let mut a = spawn("a");
        let mut b = spawn("b");
        assert!(a.wait().expect("wait a").success(), "{l}: writer a");
        assert!(b.wait().expect("wait b").success(), "{l}: writer b");

        let journal = store
            .journal(&JournalQuery::default())
            .await
            .expect("journal");
        assert_eq!(journal.len(), 2 * 40 * 5, "{l}");
        let seqs: Vec<u64> = journal.iter().map(|e| e.seq).collect();
        let expected: Vec<u64> = (1..=400).collect();
        assert_eq!(seqs, expected, "{l}: gapless and strictly increasing");
        // Each writer's batches stay whole (five consecutive entries) and in its own order.
        for chunk in journal.chunks(5) {
            let who = &chunk[0].who;
            assert!(
                chunk.iter().all(|e| &e.who == who),
                "{l}: a batch was split"
            );
        }
        for tag in ["a", "b"] {
            let ids: Vec<String> = journal
                .iter()
                .filter(|e| e.who == tag)
                .filter_map(|e| match &e.event {
                    Event::RuleUpserted(r) => Some(r.id.0.clone()),
                    _ => None,
                })
                .collect();
            let mut sorted = ids.clone();
            sorted.sort();
            assert_eq!(ids, sorted, "{l}: writer {tag} kept its order");
            assert_eq!(ids.len(), 200);
        }
        let rules = store.rules(&RuleFilter::default()).await.expect("rules");
        assert_eq!(rules.len(), 400, "{l}");
    }
}
