//! The stop signals a headless command listens for besides Ctrl-C.

/// Which signal interrupted a command, and the exit code that reports it (128 + the signal
/// number, as shells do).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interrupt {
    /// SIGINT (Ctrl-C): exit 130.
    CtrlC,
    /// SIGTERM (`kill`, service managers, the desktop shutting down): exit 143.
    Terminate,
}

impl Interrupt {
    pub fn exit_code(self) -> i32 {
        match self {
            Interrupt::CtrlC => 130,
            Interrupt::Terminate => 143,
        }
    }
}

/// A SIGTERM listener, installed when created (from then on SIGTERM no longer kills the process;
/// [`recv`](Terminate::recv) reports it). On platforms without SIGTERM, or when the handler cannot
/// be installed, `recv` never completes.
pub struct Terminate {
    #[cfg(unix)]
    signal: Option<tokio::signal::unix::Signal>,
}

impl Terminate {
    /// Installs the listener (call inside the tokio runtime).
    pub fn listen() -> Terminate {
        Terminate {
            #[cfg(unix)]
            signal: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok(),
        }
    }

    /// Completes at the next SIGTERM received after [`listen`](Terminate::listen). Cancel safe:
    /// dropping the future loses no signal.
    pub async fn recv(&mut self) {
        #[cfg(unix)]
        {
            if let Some(signal) = self.signal.as_mut() {
                if signal.recv().await.is_some() {
                    return;
                }
            }
        }
        std::future::pending::<()>().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_shell_convention() {
        assert_eq!(Interrupt::CtrlC.exit_code(), 128 + 2);
        assert_eq!(Interrupt::Terminate.exit_code(), 128 + 15);
    }
}
