//! Store: many writers on one file (two handles, many tasks) keep log seqs gap-free and every
//! write acknowledged after commit; many handles opening one fresh file at once migrate it once.

use std::sync::Arc;

use crew_runner::execution::{EventKind, LogEvent, NewExecution, Priority};
use crew_runner::store::{AttemptLease, SqliteStore, Store};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_log_writers_get_gap_free_seqs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crew.db");
    let a: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).unwrap());
    let b: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).unwrap());
    let mut ids = Vec::new();
    for i in 0..3 {
        let new = NewExecution { crew_name: format!("c{i}"), max_attempts: 1, priority: Priority::Normal, ..NewExecution::default() };
        ids.push(a.insert(new).await.unwrap().execution.id);
    }
    const PER_TASK: usize = 100;
    let mut tasks = Vec::new();
    for t in 0..6 {
        let store = if t % 2 == 0 { a.clone() } else { b.clone() };
        let ids = ids.clone();
        tasks.push(tokio::spawn(async move {
            // Fire many writes before awaiting any, so they share group commits.
            let pending: Vec<_> = (0..PER_TASK)
                .map(|n| {
                    store.append_logs(
                        &ids[n % ids.len()],
                        AttemptLease::unfenced(1),
                        vec![LogEvent::info(EventKind::AgentStep, format!("t{t} n{n}"))],
                    )
                })
                .collect();
            for write in pending {
                assert_eq!(write.await.unwrap().len(), 1);
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let mut total = 0;
    for id in &ids {
        let seqs: Vec<u64> = b.logs(id, 0, 0).unwrap().iter().map(|l| l.seq).collect();
        // seq 1 is the `submitted` line.
        assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>(), "gap-free for {id}");
        total += seqs.len() - 1;
    }
    assert_eq!(total, 6 * PER_TASK);
}

/// Eight handles (as eight processes would) open the same fresh file at once, released together
/// by a barrier: every open succeeds, and the file holds each migration once, at the schema
/// version.
#[test]
fn concurrent_opens_of_a_fresh_file_migrate_it_once() {
    const OPENERS: usize = 8;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fresh.db");
    let barrier = std::sync::Barrier::new(OPENERS);
    let stores: Vec<SqliteStore> = std::thread::scope(|scope| {
        let opening: Vec<_> = (0..OPENERS)
            .map(|_| {
                scope.spawn(|| {
                    barrier.wait();
                    SqliteStore::open(&path)
                })
            })
            .collect();
        opening.into_iter().map(|h| h.join().unwrap().expect("every concurrent open succeeds")).collect()
    });
    let applied = stores[0].applied_migrations().unwrap();
    let versions: Vec<i64> = applied.iter().map(|m| m.0).collect();
    assert_eq!(versions, (1..=crew_runner::store::sqlite::SCHEMA_VERSION).collect::<Vec<_>>(), "each migration once, in order");
    for store in &stores {
        assert_eq!(store.applied_migrations().unwrap(), applied);
    }
}
