//! The history at a small scale (5,000 executions, 250,000 log lines): every `list` shape,
//! `status`, `logs`, the GUI's paths and the binary give the right answers, every `list` shape is
//! served by an index, and pruning then removes exactly the selected history. Prints its figures
//! (no timing is asserted; `cargo bench --bench history` runs the full size).

use crate::load;

use load::fill::{fill, Shape};
use load::measure::{self, Calls};

#[test]
fn a_large_history_reads_right_and_every_list_shape_uses_an_index() {
    let dir = tempfile::tempdir().unwrap();
    let shape = Shape { executions: 5_000, lines_per_execution: 50, big_log_lines: 5_000 };
    let filled = fill(&dir.path().join("data"), shape, 1);
    assert_eq!(filled.rows.len(), 5_001);
    assert!(filled.log_lines > 240_000, "{}", filled.log_lines);

    let report = measure::run(&filled, Calls { store: 40, process: 5 }, std::path::Path::new(env!("CARGO_BIN_EXE_crew-runner")));
    measure::print(&filled, &report);
    assert!(report.disk.file_bytes > 0);
    for (shape, plan) in &report.plans {
        // Every table access goes through an index, never a scan of the table itself.
        for step in plan.split("; ").filter(|s| s.contains("executions")) {
            assert!(step.contains("INDEX"), "{shape}: {plan}");
        }
        if shape.starts_with("several statuses") {
            // Only the merged pages (at most 50 per status) are sorted.
            assert!(plan.contains("LIST SUBQUERY") || plan.contains("COMPOUND"), "{shape}: {plan}");
        } else {
            assert!(!plan.contains("TEMP B-TREE"), "{shape} sorts instead of walking an index: {plan}");
        }
    }
}
