use super::*;

#[test]
fn csv_has_the_header_and_quotes_and_defuses_cells() {
    let rows = vec![vec![
        "T1003".to_string(),
        "OS, Credential \"Dumping\"".to_string(),
        "credential-access".to_string(),
        "gap".to_string(),
        "gap".to_string(),
        "1.00".to_string(),
        String::new(),
        "=HYPERLINK(\"x\")".to_string(),
        "0/0".to_string(),
        String::new(),
    ]];
    let csv = coverage_csv(&rows);
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some(COVERAGE_COLUMNS.join(",").as_str()));
    let row = lines.next().unwrap_or_default();
    assert!(row.contains("\"OS, Credential \"\"Dumping\"\"\""), "{row}");
    assert!(row.contains("'=HYPERLINK"), "{row}");
    assert_eq!(lines.next(), None);
}
