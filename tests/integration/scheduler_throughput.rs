//! A rough throughput probe (ignored by default): N no-op executions, concurrency 2, submitted
//! one at a time while the worker runs. `cargo test --no-default-features --release --test
//! integration -- scheduler_throughput:: --ignored --nocapture`

use crate::scheduler_support;

use std::sync::Arc;
use std::time::Instant;

use crew_runner::execution::{Priority, Status};
use crew_runner::scheduler::Scheduler;
use crew_runner::store::Store;
use scheduler_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark, not a test"]
async fn no_op_throughput() {
    let n: usize = std::env::var("N").ok().and_then(|v| v.parse().ok()).unwrap_or(2_000);
    let (_dir, store) = temp_store();
    let scheduler = Scheduler::start(store.clone(), Arc::new(Noop::default()), fast_config(2)).await.unwrap();
    let t0 = Instant::now();
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        ids.push(scheduler.submit(job(&format!("j{i}"), Priority::ALL[i % 4])).await.unwrap().id);
    }
    let enqueued = t0.elapsed();
    for id in &ids {
        assert_eq!(wait(&scheduler, id).await.status(), Status::Succeeded);
    }
    let wall = t0.elapsed();
    println!(
        "{n} no-op executions: enqueue {:.0} ms, wall {:.0} ms, {:.0} executions/s, {} commits",
        enqueued.as_secs_f64() * 1e3,
        wall.as_secs_f64() * 1e3,
        n as f64 / wall.as_secs_f64(),
        store.commits()
    );
    assert_eq!(store.counts().unwrap().succeeded, n as u64);
    scheduler.shutdown().await.unwrap();
}
