//! A crew project's `.env` as part of the LLM environment: its variables fill those the
//! environment leaves unset (the process environment wins, as with `python-dotenv`).

use std::path::Path;

use super::LlmEnv;

/// Why a `.env` could not be used.
#[derive(Debug, thiserror::Error)]
pub enum EnvFileError {
    /// The file is missing, unreadable, or has a line dotenv cannot parse.
    #[error("{path}: {source}")]
    Unreadable {
        path: String,
        #[source]
        source: dotenvy::Error,
    },
}

impl LlmEnv {
    /// This environment plus the variables of the `.env` at `path` that it does not set already.
    /// `None` leaves it as it is.
    pub fn with_env_file(mut self, path: Option<&Path>) -> Result<Self, EnvFileError> {
        let Some(path) = path else { return Ok(self) };
        let unreadable = |source| EnvFileError::Unreadable { path: path.display().to_string(), source };
        for item in dotenvy::from_path_iter(path).map_err(unreadable)? {
            let (name, value) = item.map_err(unreadable)?;
            self.vars.entry(name).or_insert(value);
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_only_unset_variables() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".env");
        std::fs::write(&path, "MODEL=gpt-4o-mini\nOPENAI_API_KEY=\"sk-file\"\n").unwrap();
        let mut env = LlmEnv::default();
        env.vars.insert("MODEL".into(), "ollama/llama3.1".into());
        let env = env.with_env_file(Some(&path)).unwrap();
        assert_eq!(env.vars["MODEL"], "ollama/llama3.1");
        assert_eq!(env.vars["OPENAI_API_KEY"], "sk-file");
        assert!(LlmEnv::default().with_env_file(Some(&dir.path().join("missing"))).is_err());
        assert!(LlmEnv::default().with_env_file(None).unwrap().vars.is_empty());
    }
}
