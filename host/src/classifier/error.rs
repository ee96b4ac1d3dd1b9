//! The classifier's error type: every variant says what failed, where, and (when the user can act) what to do.

use std::path::{Path, PathBuf};

/// Why loading, running or training a classifier failed.
#[derive(Debug, thiserror::Error)]
pub enum ClassifierError {
    /// ONNX Runtime could not be found, loaded or initialised. The message says how to fix it.
    #[error("{0}")]
    Runtime(String),
    /// A model folder or one of its files is missing or invalid.
    #[error("model {path}: {message}")]
    Model {
        /// The folder or file at fault.
        path: PathBuf,
        /// What is wrong with it, and what to do.
        message: String,
    },
    /// A training or evaluation data file has a problem at a given line (1-based; 0 = the whole file).
    #[error("{path}:{line}: {message}")]
    Data {
        /// The data file.
        path: PathBuf,
        /// 1-based line number, 0 when the problem concerns the whole file.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Tokenising or running the model failed on valid files (a bug or a model the code does not support).
    #[error("inference failed: {0}")]
    Inference(String),
    /// A caller passed arguments that cannot work (e.g. an empty training set).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The thread that owns the ONNX session has stopped (it panicked or the process is shutting down).
    #[error("the classifier's inference thread has stopped; reload the model")]
    WorkerStopped,
}

/// Result alias for the classifier.
pub type Result<T, E = ClassifierError> = std::result::Result<T, E>;

impl ClassifierError {
    pub(crate) fn model(path: impl AsRef<Path>, message: impl Into<String>) -> Self {
        Self::Model {
            path: path.as_ref().to_path_buf(),
            message: message.into(),
        }
    }

    pub(crate) fn io(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.as_ref().to_path_buf(),
            source,
        }
    }

    pub(crate) fn data(path: impl AsRef<Path>, line: usize, message: impl Into<String>) -> Self {
        Self::Data {
            path: path.as_ref().to_path_buf(),
            line,
            message: message.into(),
        }
    }
}
