//! [`SimError`]: what can go wrong building or starting a simulator, one type for the
//! simulators on the kit (their builders read seeds, check their configuration and bind).

/// What can go wrong building or starting a simulator.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// A seed file could not be read.
    #[error("cannot read seed file {path}: {source}")]
    SeedRead {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A seed could not be understood.
    #[error("invalid seed {origin}: {message}")]
    Seed {
        /// The file, or `tickets(...)` for a builder's tickets.
        origin: String,
        /// What is wrong, with the ticket's position.
        message: String,
    },
    /// The simulator's configuration is invalid (a route table, a field declaration, ...).
    #[error("invalid simulator configuration: {0}")]
    Config(String),
    /// The listening socket could not be opened.
    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    Bind {
        /// The port asked for.
        port: u16,
        /// Why.
        source: std::io::Error,
    },
    /// A blocking simulator's thread or runtime could not be started.
    #[error("cannot start the simulator's runtime: {0}")]
    Runtime(#[from] std::io::Error),
}
