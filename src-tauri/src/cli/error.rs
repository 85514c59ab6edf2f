use std::fmt::Display;

/// A headless command's failure, mapped to an exit code.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Invalid usage, an unknown id, or an invalid crew: exit 2, nothing recorded.
    #[error("{0}")]
    Usage(String),
    /// The work could not be done (store failure, …): exit 1.
    #[error("{0}")]
    Failure(String),
}

impl CliError {
    pub fn usage(e: impl Display) -> Self {
        CliError::Usage(e.to_string())
    }

    pub fn failure(e: impl Display) -> Self {
        CliError::Failure(e.to_string())
    }

    /// A refused request (bad id or crew, an operation the state does not allow) is a usage
    /// error (exit 2), anything else a failure (exit 1).
    pub fn runner(e: crate::app::RunnerError) -> Self {
        if e.is_refusal() {
            CliError::usage(e)
        } else {
            CliError::failure(e)
        }
    }

    /// Prints the error on stderr (control characters escaped) and returns the exit code.
    pub fn report(&self) -> i32 {
        eprintln!("crew-runner: {}", super::escape::block(&self.to_string()));
        match self {
            CliError::Usage(_) => 2,
            CliError::Failure(_) => 1,
        }
    }
}
