//! Options every command takes, and the validated context built from them.

use std::path::PathBuf;

use clap::Args;

use crate::output::Format;

/// Flags shared by every command (`attest --help` lists them once).
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// ATT&CK STIX bundle (.json or .json.gz), one per domain; repeatable. Wins over
    /// ATTEST_ATTACK_BUNDLE, which wins over the workspace's release and the cached download.
    #[arg(long = "attack", value_name = "PATH", global = true)]
    pub attack: Vec<PathBuf>,

    /// Output format of listings and reports.
    #[arg(long, value_enum, global = true, default_value_t = Format::Table)]
    pub format: Format,

    /// Workspace directory (holds attest.db for the embedded SQLite store).
    #[arg(
        long,
        value_name = "DIR",
        env = "ATTEST_WORKSPACE",
        global = true,
        default_value = ".attest"
    )]
    pub workspace: PathBuf,

    /// Database URL: sqlite://PATH or postgres://… (default: SQLite in the workspace).
    #[arg(long, value_name = "URL", env = "ATTEST_DATABASE", global = true)]
    pub database: Option<String>,

    /// More log output on stderr (-v info, -vv debug). ATTEST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
}

/// What every command can use: validated global options.
#[derive(Debug, Clone)]
pub struct Context {
    /// Explicit ATT&CK bundles (flag, else environment), possibly empty.
    pub attack: Vec<PathBuf>,
    /// Output format.
    pub format: Format,
    /// Workspace directory.
    pub workspace: PathBuf,
    /// Database URL, if given.
    pub database: Option<String>,
    /// Whether stderr is a terminal (progress bars only then).
    pub stderr_is_terminal: bool,
}

impl Context {
    /// Builds the context: `--attack` wins over `ATTEST_ATTACK_BUNDLE` (a list separated like
    /// PATH, so several domains can be given at once).
    pub fn new(args: &GlobalArgs) -> Context {
        use std::io::IsTerminal;
        let attack = if !args.attack.is_empty() {
            args.attack.clone()
        } else {
            match std::env::var_os("ATTEST_ATTACK_BUNDLE") {
                Some(v) if !v.is_empty() => std::env::split_paths(&v).collect(),
                _ => Vec::new(),
            }
        };
        Context {
            attack,
            format: args.format,
            workspace: args.workspace.clone(),
            database: args.database.clone(),
            stderr_is_terminal: std::io::stderr().is_terminal(),
        }
    }
}
