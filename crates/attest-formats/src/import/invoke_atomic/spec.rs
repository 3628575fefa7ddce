//! The column names of the Invoke-AtomicRedTeam default CSV logger, per version.

/// The header versions the default CSV logger has written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HeaderVersion {
    /// The first logger: `Execution Time (UTC)`, `Execution Time (Local)`, `Technique`,
    /// `Test Number`, `Test Name`, `Hostname`. No GUID: results get no test id unless the caller
    /// resolves it from the catalogue ([`crate::correlate::resolve_test_guids`]).
    V1,
    /// Adds `Username` and `GUID` (the test's `auto_generated_guid`).
    V2,
    /// Adds `IP Address` (after `Hostname`), `ProcessId` and `ExitCode`; the local time gains a
    /// (wrong) `Z` suffix.
    V3,
}

impl HeaderVersion {
    /// Recognises a header row by the columns it has (names compared case-insensitively).
    /// `None` if the mandatory columns (`Technique` and one execution time) are missing.
    pub fn detect<S: AsRef<str>>(headers: &[S]) -> Option<HeaderVersion> {
        let has = |name: &str| {
            headers
                .iter()
                .any(|h| h.as_ref().trim().eq_ignore_ascii_case(name))
        };
        if !has(TECHNIQUE) || !(has(TIME_UTC) || has(TIME_LOCAL)) {
            return None;
        }
        Some(if has(EXIT_CODE) {
            HeaderVersion::V3
        } else if has(GUID) {
            HeaderVersion::V2
        } else {
            HeaderVersion::V1
        })
    }
}

/// Start time in UTC, `%Y-%m-%dT%H:%M:%SZ`.
pub(super) const TIME_UTC: &str = "Execution Time (UTC)";
/// Start time in the host's zone, with or without a misleading `Z`.
pub(super) const TIME_LOCAL: &str = "Execution Time (Local)";
/// ATT&CK technique ID.
pub(super) const TECHNIQUE: &str = "Technique";
/// 1-based position of the test in its technique file.
pub(super) const TEST_NUMBER: &str = "Test Number";
/// The test's name.
pub(super) const TEST_NAME: &str = "Test Name";
/// Target host.
pub(super) const HOSTNAME: &str = "Hostname";
/// Target user.
pub(super) const USERNAME: &str = "Username";
/// The test's `auto_generated_guid`.
pub(super) const GUID: &str = "GUID";
/// Exit code of the test's process.
pub(super) const EXIT_CODE: &str = "ExitCode";

/// Column positions found in a header row.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Columns {
    pub time_utc: Option<usize>,
    pub time_local: Option<usize>,
    pub technique: Option<usize>,
    pub test_number: Option<usize>,
    pub test_name: Option<usize>,
    pub host: Option<usize>,
    pub user: Option<usize>,
    pub guid: Option<usize>,
    pub exit_code: Option<usize>,
}

impl Columns {
    /// Maps a header row; other columns (`IP Address`, `ProcessId`, the syslog logger's `Tag`
    /// and `CustomTag`) are ignored.
    pub fn from_header<S: AsRef<str>>(headers: &[S]) -> Columns {
        let find = |name: &str| {
            headers
                .iter()
                .position(|h| h.as_ref().trim().eq_ignore_ascii_case(name))
        };
        Columns {
            time_utc: find(TIME_UTC),
            time_local: find(TIME_LOCAL),
            technique: find(TECHNIQUE),
            test_number: find(TEST_NUMBER),
            test_name: find(TEST_NAME),
            host: find(HOSTNAME),
            user: find(USERNAME),
            guid: find(GUID),
            exit_code: find(EXIT_CODE),
        }
    }
}
