//! One error type with readable messages: they reach the page as the text of a JS Error.

use std::fmt;

#[derive(Debug)]
pub enum Error {
    /// The user's input (prompt, options) is not acceptable; the message says why.
    Input(String),
    /// A weights or model file is missing, truncated, tampered with or has the wrong shape.
    Weights(String),
    /// No GPU adapter, a lost device or a failed GPU operation.
    Gpu(String),
    /// Tensors whose shapes do not fit an operation: a config that does not match the network
    /// (a bug, not a GPU failure: the device and the loaded model stay usable).
    Shape(String),
    /// The caller stopped the run (the page's Cancel button).
    Cancelled,
    /// Anything candle, tokenizers or I/O reported.
    Other(String),
}

impl Error {
    /// A stable code the page maps to a message in the user's language.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Input(_) => "input",
            Error::Weights(_) => "weights",
            Error::Gpu(_) => "gpu",
            Error::Shape(_) => "shape",
            Error::Cancelled => "cancelled",
            Error::Other(_) => "other",
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Input(m) => write!(f, "invalid input: {m}"),
            Error::Weights(m) => write!(f, "model files: {m}"),
            Error::Gpu(m) => write!(f, "WebGPU: {m}"),
            Error::Shape(m) => write!(f, "shapes do not fit: {m}"),
            Error::Cancelled => write!(f, "cancelled"),
            Error::Other(m) => write!(f, "{m}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<candle_core::Error> for Error {
    fn from(e: candle_core::Error) -> Self {
        Error::Other(format!("candle: {e}"))
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Other(format!("io: {e}"))
    }
}
