//! `crew-runner config get|set|list` through the binary: one configuration that the desktop app's
//! Settings view also edits (`tests/gui_commands.rs`), checked before anything is written, the
//! environment winning over it, and applied by `run`.

use crate::harness;
use crate::support;

use std::io::Write;
use std::process::Stdio;

use harness::{arg, Crew};
use serde_json::Value;
use support::MockLlm;

fn entry<'a>(list: &'a Value, key: &str) -> &'a Value {
    list.as_array().unwrap().iter().find(|e| e["key"] == key).unwrap_or_else(|| panic!("{key} in {list:#}"))
}

/// `config set KEY -` with `value` on stdin.
fn set_from_stdin(crew: &Crew, key: &str, value: &str) {
    let mut child =
        crew.cmd(&["config", "set", key, "-"]).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    writeln!(child.stdin.take().unwrap(), "{value}").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn set_then_get_and_list_with_sources_and_the_key_redacted() {
    let crew = Crew::new(None);
    crew.ok(&["config", "set", "llm.model", "gpt-4o-mini"]);
    crew.ok(&["config", "set", "http_api.port", "9100"]);
    set_from_stdin(&crew, "llm.api_key", "sk-from-config");
    assert_eq!(crew.ok(&["config", "get", "llm.model"]).trim(), "gpt-4o-mini");
    assert_eq!(crew.ok(&["config", "get", "http_api.port"]).trim(), "9100");
    assert_eq!(crew.ok(&["config", "get", "llm.api_key"]).trim(), "<redacted>");
    assert_eq!(crew.ok(&["config", "get", "llm.api_key", "--reveal"]).trim(), "sk-from-config");

    let list = crew.json(&["config", "list", "--json"]);
    assert_eq!(list.as_array().unwrap().len(), 9, "{list:#}");
    assert_eq!(
        (&entry(&list, "llm.model")["value"], &entry(&list, "llm.model")["source"]),
        (&Value::from("gpt-4o-mini"), &Value::from("file"))
    );
    assert_eq!(entry(&list, "llm.api_key")["value"], "<redacted>");
    assert_eq!(entry(&list, "llm.api_key")["source"], "file", "an explicit data dir keeps its key beside its settings, not in the keyring");
    assert_eq!(entry(&list, "llm.provider")["source"], "default");
    let text = crew.ok(&["config", "list"]);
    assert!(text.contains("llm.model") && text.contains("gpt-4o-mini") && !text.contains("sk-from-config"), "{text}");

    // The data dir was given explicitly: the configuration is there, the key not in settings.json.
    let settings = std::fs::read_to_string(crew.data_dir().join("settings.json")).unwrap();
    assert!(!settings.contains("sk-from-config"), "{settings}");
    #[cfg(unix)]
    for file in ["settings.json", "credentials.json"] {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(crew.data_dir().join(file)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{file}");
    }
}

#[test]
fn a_bad_key_or_value_exits_2_naming_it_and_writes_nothing() {
    let crew = Crew::new(None);
    crew.ok(&["config", "set", "llm.model", "kept"]);
    let before = std::fs::read_to_string(crew.data_dir().join("settings.json")).unwrap();
    for (args, says) in [
        (["config", "set", "llm.nope", "x"], "unknown configuration key \"llm.nope\""),
        (["config", "set", "http_api.port", "0"], "invalid value for http_api.port"),
        (["config", "set", "notify_on_finish", "maybe"], "invalid value for notify_on_finish"),
        (["config", "set", "llm.provider", "nope"], "invalid value for llm.provider: unknown provider"),
        (["config", "set", "llm.base_url", "ftp://x/"], "invalid value for llm.base_url"),
    ] {
        let stderr = crew.usage_error(&args);
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
    assert!(crew.usage_error(&["config", "get", "nope"]).contains("unknown configuration key"));
    assert_eq!(std::fs::read_to_string(crew.data_dir().join("settings.json")).unwrap(), before, "nothing written");
    assert!(!crew.data_dir().join("credentials.json").exists());
}

#[test]
fn the_environment_wins_and_list_names_the_variable() {
    let crew = Crew::new(None);
    crew.ok(&["config", "set", "llm.model", "from-file"]);
    let out = crew.cmd(&["config", "list", "--json"]).env("MODEL", "openai/from-env").env("OPENAI_API_KEY", "sk-env").output().unwrap();
    assert!(out.status.success());
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    let model = entry(&list, "llm.model");
    assert_eq!(
        (&model["value"], &model["source"], &model["variable"]),
        (&Value::from("openai/from-env"), &Value::from("env"), &Value::from("MODEL"))
    );
    let key = entry(&list, "llm.api_key");
    assert_eq!((&key["value"], &key["variable"]), (&Value::from("<redacted>"), &Value::from("OPENAI_API_KEY")));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("sk-env"));
    let get = crew.cmd(&["config", "get", "llm.model"]).env("MODEL", "openai/from-env").output().unwrap();
    assert_eq!(String::from_utf8_lossy(&get.stdout).trim(), "openai/from-env");
    let set = crew.cmd(&["config", "set", "llm.model", "again"]).env("MODEL", "x").output().unwrap();
    assert!(String::from_utf8_lossy(&set.stderr).contains("MODEL is set in the environment and overrides llm.model"));
}

#[test]
fn config_dir_and_the_move_of_an_old_settings_file() {
    let crew = Crew::new(None);
    std::fs::create_dir_all(crew.data_dir()).unwrap();
    std::fs::write(crew.data_dir().join("settings.json"), r#"{"llm": {"provider": "openai", "model": "old-model", "api_key": "sk-old"}}"#)
        .unwrap();
    let config = crew.dir.path().join("config");
    let config_arg = arg(&config);
    let with_dir = |args: &[&str]| crew.ok(&[&["--config-dir", config_arg.as_str()], args].concat());
    assert_eq!(with_dir(&["config", "get", "llm.api_key", "--reveal"]).trim(), "sk-old", "the old key moved, not lost");
    assert_eq!(with_dir(&["config", "get", "llm.model"]).trim(), "old-model");
    assert!(!crew.data_dir().join("settings.json").exists(), "moved out of the data dir");
    assert!(!std::fs::read_to_string(config.join("settings.json")).unwrap().contains("sk-old"));
    // CREW_RUNNER_CONFIG_DIR does the same.
    let out = crew.cmd(&["config", "get", "llm.model"]).env("CREW_RUNNER_CONFIG_DIR", &config).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "old-model");
}

#[test]
fn run_uses_the_configured_model_key_and_endpoint() {
    let mock = MockLlm::start();
    let crew = Crew::new(None);
    crew.ok(&["config", "set", "llm.provider", "openai"]);
    crew.ok(&["config", "set", "llm.base_url", &mock.base_url()]);
    set_from_stdin(&crew, "llm.api_key", "sk-configured");
    let no_model = crew.write(
        "no-model.yaml",
        "name: no_model\nagents:\n  w:\n    role: W\n    goal: G\n    backstory: B\ntasks:\n  t:\n    description: Say hi.\n    expected_output: A greeting.\n    agent: w\n",
    );
    crew.ok(&["config", "set", "llm.model", "configured-model"]);
    crew.ok(&["run", &arg(&no_model), "--quiet"]);
    let request = mock.chat_requests().into_iter().last().expect("the run called the configured endpoint");
    assert_eq!(request.header("authorization"), Some("Bearer sk-configured"));
    assert_eq!(request.body["model"], "configured-model");
}
