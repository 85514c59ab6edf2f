use super::test_specs::{crew, task};
use super::*;

#[test]
fn writes_the_crewai_layout_and_reports_it() {
    let tmp = tempfile::tempdir().unwrap();
    let mut spec = crew(vec![task("research", false, None), task("write", false, None)]);
    spec.name = "My Crew".into();
    spec.llm = Some("offline".into());
    let project = export_project(&spec, &tmp.path().join("out")).unwrap();
    assert_eq!(project.package, "my_crew");
    assert_eq!(project.class_name, "MyCrew");
    assert_eq!(project.package_dir, project.root.join("src/my_crew"));
    let rel: Vec<_> = project.files.iter().map(|f| f.strip_prefix(&project.root).unwrap().to_str().unwrap()).collect();
    assert_eq!(
        rel,
        [
            "pyproject.toml",
            "README.md",
            ".gitignore",
            "src/my_crew/__init__.py",
            "src/my_crew/config/agents.yaml",
            "src/my_crew/config/tasks.yaml",
            "src/my_crew/crew.py",
            "src/my_crew/main.py"
        ]
    );
    assert!(project.files.iter().all(|f| f.is_file()));
    assert_eq!(project.notes.len(), 1, "offline is noted: {:?}", project.notes);
    assert!(project.notes[0].contains("offline"));
    assert_eq!(project.task_names["write"], "write");
}

#[test]
fn refuses_a_folder_with_files() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("mine.txt"), "x").unwrap();
    let err = export_project(&crew(vec![task("t", false, None)]), tmp.path()).unwrap_err();
    assert!(matches!(&err, ExportError::NotEmpty { dir } if dir == tmp.path()), "{err}");
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);
}

#[test]
fn schemas_and_guardrails_are_noted_as_not_exported() {
    let tmp = tempfile::tempdir().unwrap();
    let mut spec = crew(vec![task("research", false, None), task("write", false, None)]);
    spec.tasks[0].output_schema = Some(serde_json::json!({"type": "object"}));
    spec.tasks[1].guardrail = Some("must cite sources".into());
    let project = export_project(&spec, &tmp.path().join("out")).unwrap();
    assert!(project.notes.iter().any(|n| n.contains("`research`: output_schema is not exported")), "{:?}", project.notes);
    assert!(
        project.notes.iter().any(|n| n.contains("`write`: the guardrail \"must cite sources\" is not exported")),
        "{:?}",
        project.notes
    );
}
