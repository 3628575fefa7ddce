//! Exporters, one folder per format. Each turns typed records into bytes.

// --- inventory as code (issue #3) ---
pub mod inventory;
// --- end of issue #3 exporters ---

// --- validation results as JSON lines (issue #4) ---
pub mod results_jsonl;

// --- Navigator layers, workbooks and SIEM lookups (issue #5) ---
pub mod lookup;
pub mod navigator;
pub mod trend;
pub mod xlsx;

// --- the coverage table as CSV and workbook (issue #7, shared by the CLI and the dashboard) ---
pub mod coverage_table;
