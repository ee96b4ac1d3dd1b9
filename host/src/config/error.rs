//! Configuration errors: every one names the file, the key path and, where known, the line.

use std::{fmt, io, path::PathBuf};

/// One thing wrong with a configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Dotted key path, e.g. `ticket_systems.zendesk.params.api_token`; empty for the whole file.
    pub key_path: String,
    /// What is wrong and what to do; never contains a configured value.
    pub message: String,
    /// 1-based line and column, where the parser knew them.
    pub location: Option<(usize, usize)>,
}

impl Problem {
    pub fn new(key_path: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            key_path: key_path.into(),
            message: message.into(),
            location: None,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.key_path.is_empty() {
            write!(f, "{}: ", self.key_path)?;
        }
        f.write_str(&self.message)?;
        if let Some((line, column)) = self.location {
            write!(f, " (line {line}, column {column})")?;
        }
        Ok(())
    }
}

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration file {}: {error}", file.display())]
    Read { file: PathBuf, error: io::Error },
    #[error("{}", ProblemList { file, problems })]
    Invalid {
        file: PathBuf,
        problems: Vec<Problem>,
    },
}

impl ConfigError {
    /// Every problem, for callers that list them one by one (`otai check`).
    pub fn problems(&self) -> Vec<String> {
        match self {
            Self::Read { .. } => vec![self.to_string()],
            Self::Invalid { file, problems } => problems
                .iter()
                .map(|p| format!("{}: {p}", file.display()))
                .collect(),
        }
    }
}

struct ProblemList<'a> {
    file: &'a PathBuf,
    problems: &'a [Problem],
}

impl fmt::Display for ProblemList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = self.file.display();
        match self.problems {
            [one] => write!(f, "invalid configuration file {file}: {one}"),
            many => {
                write!(
                    f,
                    "invalid configuration file {file} ({} problems):",
                    many.len()
                )?;
                for problem in many {
                    write!(f, "\n  - {problem}")?;
                }
                Ok(())
            }
        }
    }
}
