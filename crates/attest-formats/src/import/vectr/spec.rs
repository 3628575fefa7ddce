//! VECTR column names, outcome words and options.

/// Rule id given to results whose rule VECTR does not know. See [`super::assign_rules`].
pub const PLACEHOLDER_RULE: &str = "vectr:unmapped";

/// Options of [`super::read_vectr`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VectrOptions {
    /// Who or what produced the results (`ValidationResult::by`). Default `vectr`.
    pub by: String,
}

impl Default for VectrOptions {
    fn default() -> Self {
        VectrOptions {
            by: "vectr".to_string(),
        }
    }
}

/// Technique ID column.
pub(super) const MITRE_ID: &[&str] = &["MitreID", "Mitre ID", "MITRE ID", "TechniqueID"];
/// Outcome column.
pub(super) const OUTCOME: &[&str] = &["Outcome"];
/// Test case status column (`Completed`, `In Progress`, `Not Performed`).
pub(super) const STATUS: &[&str] = &["Status"];
/// Test case name: VECTR calls it the variant.
pub(super) const TEST_CASE: &[&str] = &["Variant", "Test Case Name", "TestCaseName", "Name"];
/// Start time as epoch.
pub(super) const START_EPOCH: &[&str] = &["Start Time Epoch", "StartTimeEpoch"];
/// Start time as text.
pub(super) const START: &[&str] = &["Start Time", "StartTime"];
/// Tools that detected it.
pub(super) const DETECTING_TOOLS: &[&str] = &["DetectingTools", "Detecting Tools"];
/// Free-text notes.
pub(super) const NOTES: &[&str] = &["Outcome Notes", "OutcomeNotes"];
/// Campaign and assessment, for the evidence text.
pub(super) const CAMPAIGN: &[&str] = &["Campaign"];
/// Assessment group.
pub(super) const ASSESSMENT: &[&str] = &["AssessmentGroup", "Assessment"];
/// Hosts tested.
pub(super) const TARGETS: &[&str] = &["TargetAssets", "Target Assets"];
/// Optional rule id column some teams add.
pub(super) const RULE: &[&str] = &["Rule ID", "rule_id", "RuleId"];

/// A VECTR outcome word as a result outcome; `None` for words that say nothing (TBD, Logged).
pub(super) fn outcome(word: &str) -> Option<attest_core::result::Outcome> {
    use attest_core::result::Outcome;
    let w: String = word
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '_' && *c != '-')
        .collect::<String>()
        .to_ascii_lowercase();
    match w.as_str() {
        "detected" | "blocked" | "alerted" => Some(Outcome::Pass),
        "notdetected" | "none" => Some(Outcome::Fail),
        _ => None,
    }
}

/// Whether a `Status` value means the test case was not run.
pub(super) fn not_performed(status: &str) -> bool {
    let s = status.trim().to_ascii_lowercase();
    s == "not performed" || s == "notperformed" || s == "not_performed"
}
