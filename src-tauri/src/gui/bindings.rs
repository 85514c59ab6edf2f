//! The TypeScript types of the page (`ui/src/gen/bindings.ts`), generated from the Rust types
//! with `ts-rs`: what the commands take and return and what the events carry, with every type
//! they name. Each type derives `ts_rs::TS` beside its serde derives, so the TypeScript follows
//! the serde attributes (`rename_all`, `tag`, `content`, `untagged`, `flatten`, `skip`); where a
//! field is left out of the JSON when empty, `#[ts(optional)]` makes it `field?: T`.
//!
//! [`tests::bindings_are_current`] renders [`render`] and compares it with the committed file;
//! `UPDATE_BINDINGS=1` writes it instead:
//!
//! ```sh
//! UPDATE_BINDINGS=1 cargo test --locked --features gui-test --lib gui::bindings
//! ```

use std::any::TypeId;
use std::collections::{BTreeMap, HashSet};

use ts_rs::{Config, TypeVisitor, TS};

use crate::app::{CancelOutcome, QueueSettings};
use crate::app::{CrewPreview, LogStreamMessage, QueueView, RunComparison, Trace, TraceCall};
use crate::crew::{CrewGraph, CrewReport, CrewSpec};
use crate::engine::crewai::CrewaiTarget;
use crate::execution::{Execution, ExecutionEvent, LogEntry, StepOutput};
use crate::gui::commands::executions::{ExecutionPage, ListQuery, SubmitArgs, Submitted};
use crate::gui::crew_library::CrewEntry;
use crate::gui::settings::{SettingsUpdate, SettingsView};
use crate::gui::token_batches::TokenBatch;
use crate::gui::CommandError;

/// The generated file, relative to the crate's folder.
pub const BINDINGS_PATH: &str = "../ui/src/gen/bindings.ts";

/// The command that writes [`BINDINGS_PATH`] anew (from the repository's root).
pub const UPDATE_COMMAND: &str = "UPDATE_BINDINGS=1 cargo test --locked --features gui-test --lib gui::bindings";

/// An execution's `crew_spec` (stored as JSON): a `CrewSpec` for the native engine, a
/// `CrewaiTarget` for the CrewAI engine (they share no field that would tell them apart except
/// `python`, which only a target has).
///
/// Only its TypeScript is used: `Execution::crew_spec` names it with `#[ts(type = ...)]`.
#[derive(TS)]
#[ts(untagged)]
#[allow(dead_code)]
enum CrewSnapshot {
    Native(CrewSpec),
    Crewai(CrewaiTarget),
}

/// Collects the declaration of every type it visits and, recursively, of every type those name.
struct Declarations {
    cfg: Config,
    seen: HashSet<TypeId>,
    /// By TypeScript name (sorted output).
    decls: BTreeMap<String, String>,
}

impl TypeVisitor for Declarations {
    fn visit<T: TS + 'static + ?Sized>(&mut self) {
        // Only derived types have a declaration (and a file of their own in ts-rs's exports);
        // `string`, `Array<T>`, `number | null` … are written inline.
        if T::output_path().is_none() || !self.seen.insert(TypeId::of::<T>()) {
            return;
        }
        let name = T::ident(&self.cfg);
        let decl = format!("{}export {}", T::docs().unwrap_or_default(), T::decl(&self.cfg));
        if let Some(other) = self.decls.insert(name.clone(), decl) {
            assert_eq!(other, self.decls[&name], "two Rust types are both `{name}` in TypeScript: rename one with #[ts(rename = \"...\")]");
        }
        T::visit_dependencies(self);
    }
}

/// `ui/src/gen/bindings.ts`: a header, then every declaration sorted by name.
pub fn render() -> String {
    // u64/i64 are JSON numbers (serde_json writes them as such; none of ours exceeds 2^53).
    let cfg = Config::new().with_large_int("number");
    let mut all = Declarations { cfg, seen: HashSet::new(), decls: BTreeMap::new() };
    macro_rules! roots {
        ($($ty:ty),* $(,)?) => { $( all.visit::<$ty>(); )* };
    }
    roots!(
        // Command results.
        CancelOutcome,
        CommandError,
        CrewEntry,
        CrewGraph,
        CrewPreview,
        CrewReport,
        Execution,
        ExecutionPage,
        LogEntry,
        QueueSettings,
        QueueView,
        RunComparison,
        SettingsView,
        StepOutput,
        Submitted,
        Trace,
        TraceCall,
        // Command arguments.
        ListQuery,
        SettingsUpdate,
        SubmitArgs,
        // Events and the log channel's messages.
        ExecutionEvent,
        LogStreamMessage,
        TokenBatch,
        // Named by `#[ts(type = ...)]`.
        CrewSnapshot,
    );
    let mut out = String::from("// Generated from the Rust types by ts-rs (src-tauri/src/gui/bindings.rs): do not edit.\n");
    out.push_str(&format!("// Regenerate with `{UPDATE_COMMAND}`.\n"));
    for decl in all.decls.values() {
        out.push('\n');
        // ts-rs leaves a blank after `{` and between fields at the ends of lines.
        for line in decl.lines() {
            out.push_str(line.trim_end());
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use serde::Serialize;
    use serde_json::json;

    use super::*;
    use crate::crew::Diagnostic;
    use crate::engine::crewai::{FoundPython, PythonCommand, TargetKind};
    use crate::engine::test_support::{agent, crew, task};
    use crate::execution::{ExecutionId, Progress, Status};

    /// Real JSON of the Rust values, typed with the generated types (`npm run typecheck` checks
    /// them: a field missing, extra or of another type fails), relative to the crate's folder.
    const SAMPLES_PATH: &str = "../ui/src/gen/samples.ts";

    /// `value` as the page receives it: `serde_json::to_value` keeps the last of two equal keys,
    /// as `JSON.parse` does.
    fn json_of(value: &impl Serialize) -> String {
        serde_json::to_string_pretty(&serde_json::to_value(value).unwrap()).unwrap()
    }

    /// `ui/src/gen/samples.ts`: an execution in every state (with a native crew, a CrewAI target or none),
    /// the events the page gets, cancel outcomes and a crew graph.
    fn render_samples() -> String {
        let mut executions = crate::http::conformance::executions();
        for (i, e) in executions.iter_mut().enumerate() {
            // Fixed ids: the file must not change from run to run.
            e.id = ExecutionId::from(format!("01J00000000000000000000{i:03}").as_str());
            e.retry_of = e.retry_of.as_ref().map(|_| ExecutionId::from("01J00000000000000000000999"));
            // The first keeps its native crew, the second (a CrewAI execution) gets a CrewAI
            // target; the others are as lists have them (no crew).
            match i {
                0 => {}
                1 => e.crew_spec = serde_json::to_value(crewai_target()).unwrap().into(),
                _ => e.crew_spec = serde_json::Value::Null.into(),
            }
        }
        let mut events: Vec<ExecutionEvent> = executions
            .iter()
            .map(|e| ExecutionEvent::State { id: e.id.clone(), state: e.state.clone(), attempt: e.attempt, priority: e.priority })
            .collect();
        events.push(ExecutionEvent::Progress {
            id: executions[0].id.clone(),
            progress: Progress { completed_steps: 1, total_steps: 2, current_step: Some("draft".into()), current_agent: None },
        });
        events.push(ExecutionEvent::Queue { paused: true, concurrency: 2 });
        let outcomes = [CancelOutcome::Cancelled, CancelOutcome::Requested, CancelOutcome::AlreadyFinished(Status::Failed)];
        let spec = crew(vec![agent("writer", "Writer")], vec![task("draft", Some("writer"))], std::path::Path::new("/tmp/ws"));
        let warnings = vec![Diagnostic::new("crew.yaml", "ignored").at_line(Some(3)).on_field("agents.writer.memory")];
        let graph = CrewGraph::build(&spec, &warnings);
        format!(
            "// Generated by src-tauri/src/gui/bindings.rs (serde_json's output of Rust values): do not edit.\n\
             // Regenerate with `{UPDATE_COMMAND}`.\n\n\
             import type {{ CancelOutcome, CrewGraph, Execution, ExecutionEvent }} from './bindings';\n\n\
             /** An execution in each state (`status` order of the Rust enum): the first with its native crew, the\n *  second with a CrewAI target, the rest as lists have them (no crew). */\n\
             export const executions: Execution[] = {};\n\n\
             /** A state event per execution above, then a progress and a queue event. */\n\
             export const events: ExecutionEvent[] = {};\n\n\
             export const cancelOutcomes: CancelOutcome[] = {};\n\n\
             export const graph: CrewGraph = {};\n",
            json_of(&executions),
            json_of(&events),
            json_of(&outcomes),
            json_of(&graph),
        )
    }

    fn crewai_target() -> CrewaiTarget {
        CrewaiTarget {
            kind: TargetKind::FlowProject,
            root: "/p".into(),
            entry: "/p/src/poem".into(),
            python: FoundPython {
                command: PythonCommand { program: "/usr/bin/uv".into(), args: vec!["run".into(), "python".into()] },
                source: "uv run".into(),
                python_version: "3.12.3".into(),
                crewai_version: "1.15.30".into(),
            },
            translated: None,
        }
    }

    /// Asserts the file at `relative` (to the crate) holds `rendered`, or writes it with `UPDATE_BINDINGS=1`.
    fn check_or_write(relative: &str, rendered: &str) {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative);
        if std::env::var_os("UPDATE_BINDINGS").is_some_and(|v| v == "1") {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, rendered).unwrap();
            return;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == rendered,
            "{} is not what the Rust types generate (a type the page sees changed); regenerate it with\n\n    {UPDATE_COMMAND}\n\nand commit it (then `cd ui && npm run typecheck && npm test`)",
            path.display()
        );
    }

    #[test]
    fn bindings_are_current() {
        check_or_write(BINDINGS_PATH, &render());
    }

    #[test]
    fn samples_are_current() {
        check_or_write(SAMPLES_PATH, &render_samples());
    }

    #[test]
    fn a_running_execution_names_each_start_once() {
        // The state's start (this attempt's) is `attempt_started_at`, beside the execution's own
        // `started_at` (the first attempt's): no key twice in one object.
        let mut e = crate::http::conformance::executions().swap_remove(1);
        e.started_at = Some(1);
        let text = serde_json::to_string(&e).unwrap();
        assert_eq!(text.matches("\"started_at\":").count(), 1, "{text}");
        let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed["status"], "running");
        assert_eq!(parsed["started_at"], json!(1));
        assert!(parsed["attempt_started_at"].is_i64(), "{text}");
        let back: crate::execution::Execution = serde_json::from_value(parsed).unwrap();
        assert_eq!(back, e);
    }
}
