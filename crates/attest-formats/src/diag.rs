//! Inputs and diagnostics shared by every importer.

/// One input file: a label for messages (its path relative to the import root) and its bytes.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    /// Path or label shown in diagnostics.
    pub path: &'a str,
    /// The file's bytes.
    pub bytes: &'a [u8],
}

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Worth knowing; the record was still produced.
    Warning,
    /// The file or record was skipped.
    Error,
}

/// A problem found in one input, naming the file and, where known, the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Warning or error.
    pub severity: Severity,
    /// The input's path label.
    pub path: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// What is wrong, in words a user can act on.
    pub message: String,
}

impl Diagnostic {
    /// An error about `path`.
    pub fn error(path: &str, line: Option<usize>, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            path: path.to_string(),
            line,
            message: message.into(),
        }
    }

    /// A warning about `path`.
    pub fn warning(path: &str, line: Option<usize>, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            path: path.to_string(),
            line,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let level = match self.severity {
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        match self.line {
            Some(line) => write!(f, "{level}: {}:{line}: {}", self.path, self.message),
            None => write!(f, "{level}: {}: {}", self.path, self.message),
        }
    }
}
