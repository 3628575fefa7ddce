//! Unit tests of the workbook writer: the zip is read back and the sheet XML checked.

use std::io::Read;

use super::*;

fn sheets() -> Vec<Sheet> {
    vec![
        Sheet {
            name: "Headline".into(),
            header: vec!["state".into(), "techniques".into(), "share".into()],
            rows: vec![
                vec!["validated".into(), Cell::from(12usize), Cell::Number(0.25)],
                vec!["gap".into(), Cell::from(36usize), Cell::Number(0.75)],
            ],
        },
        Sheet {
            name: "Rules".into(),
            header: vec!["rule".into(), "name".into()],
            rows: vec![vec![
                "sigma:1".into(),
                "=cmd|' /C calc'!A0".into(),
                Cell::Empty,
            ]],
        },
    ]
}

fn part(bytes: &[u8], name: &str) -> String {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip");
    let mut f = zip.by_name(name).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut s = String::new();
    f.read_to_string(&mut s).expect("utf-8 xml");
    s
}

#[test]
fn sheets_cells_freeze_and_filter() {
    let bytes = write_workbook(&sheets()).expect("written");
    let workbook = part(&bytes, "xl/workbook.xml");
    assert!(workbook.contains(r#"name="Headline""#), "{workbook}");
    assert!(workbook.contains(r#"name="Rules""#));
    let s1 = part(&bytes, "xl/worksheets/sheet1.xml");
    assert!(s1.contains(r#"<pane ySplit="1""#), "frozen header: {s1}");
    assert!(s1.contains(r#"<autoFilter ref="A1:C3"/>"#), "{s1}");
    assert!(
        s1.contains("<v>12</v>") && s1.contains("<v>0.75</v>"),
        "{s1}"
    );
    let shared = part(&bytes, "xl/sharedStrings.xml");
    for text in [
        "state",
        "validated",
        "gap",
        "sigma:1",
        "=cmd|&apos; /C calc&apos;!A0",
    ] {
        assert!(
            shared.contains(text) || shared.contains(&text.replace("&apos;", "'")),
            "{text}: {shared}"
        );
    }
    let s2 = part(&bytes, "xl/worksheets/sheet2.xml");
    assert!(!s2.contains("<f>"), "text is never a formula: {s2}");
}

#[test]
fn bad_sheet_names_are_errors() {
    for name in ["", "a/b", "x".repeat(32).as_str(), "'quoted'"] {
        let err = write_workbook(&[Sheet {
            name: name.to_string(),
            ..Sheet::default()
        }]);
        assert!(matches!(err, Err(XlsxError::SheetName { .. })), "{name}");
    }
    let twice = [
        Sheet {
            name: "Rules".into(),
            ..Sheet::default()
        },
        Sheet {
            name: "rules".into(),
            ..Sheet::default()
        },
    ];
    assert!(matches!(
        write_workbook(&twice),
        Err(XlsxError::SheetName { .. })
    ));
}

#[test]
fn empty_sheet_is_fine() {
    let bytes = write_workbook(&[Sheet {
        name: "Empty".into(),
        ..Sheet::default()
    }])
    .expect("written");
    assert!(part(&bytes, "xl/worksheets/sheet1.xml").contains("<worksheet"));
}
