//! Tests: ways to exercise a technique.

/// What kind of exercise a test is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TestKind {
    /// An Atomic Red Team test, keyed by its `auto_generated_guid`.
    Atomic,
    /// A purple-team scenario.
    PurpleTeam,
    /// A breach-and-attack-simulation action.
    Simulation,
    /// A replay dataset: recorded events known to contain the technique.
    Replay,
}

impl TestKind {
    /// The lowercase word.
    pub fn as_str(self) -> &'static str {
        match self {
            TestKind::Atomic => "atomic",
            TestKind::PurpleTeam => "purple-team",
            TestKind::Simulation => "simulation",
            TestKind::Replay => "replay",
        }
    }

    /// Parses the lowercase word.
    pub fn parse(s: &str) -> Option<TestKind> {
        match s.trim().to_ascii_lowercase().as_str() {
            "atomic" => Some(TestKind::Atomic),
            "purple-team" | "purple" => Some(TestKind::PurpleTeam),
            "simulation" | "bas" => Some(TestKind::Simulation),
            "replay" => Some(TestKind::Replay),
            _ => None,
        }
    }
}

/// A test in the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Test {
    /// Stable id: the Atomic GUID (lower-case), or a name for other kinds.
    pub id: String,
    /// Kind.
    pub kind: TestKind,
    /// Techniques it exercises (ATT&CK IDs, upper-cased).
    pub techniques: Vec<String>,
    /// Human name.
    pub name: String,
    /// Platforms it runs on.
    pub platforms: Vec<String>,
    /// Executor (e.g. `powershell`, `command_prompt`, `sh`, `manual`).
    pub executor: Option<String>,
    /// Whether it needs elevation.
    pub elevation_required: bool,
}
