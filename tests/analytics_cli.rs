//! `autochannel analytics chain-ladder` end to end: the binary reads a CSV of triangles and prints
//! the standard chain ladder; a bad file is refused naming each line and field.
#![allow(clippy::unwrap_used)]

use std::process::Command;

fn autochannel(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_autochannel")).args(args).output().unwrap()
}

#[test]
fn chain_ladder_reproduces_mack_raa_total_ibnr_from_a_csv_file() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/triangles.csv");
    let output = autochannel(&["analytics", "chain-ladder", "--triangle", path]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let triangles = json["triangles"].as_array().unwrap();
    assert_eq!(triangles.len(), 2, "both triangles of the file, in file order");
    let raa = &triangles[0];
    assert_eq!(raa["triangle"], "RAA");
    // Mack (1993): total IBNR 52,135 on latest 160,987.
    assert_eq!(raa["total"]["latest"].as_f64().unwrap(), 160_987.0);
    assert!((raa["total"]["ibnr"].as_f64().unwrap() - 52_135.228).abs() < 0.01);
    assert_eq!(raa["factors"].as_array().unwrap().len(), 9);
    assert!((raa["factors"][0]["factor"].as_f64().unwrap() - 2.999).abs() < 0.0005);
    let origins = raa["origins"].as_array().unwrap();
    assert_eq!(origins[0]["origin"], "1981");
    assert_eq!(origins[0]["ibnr"].as_f64().unwrap(), 0.0, "the oldest year is fully developed");
    // The dealer triangle has zero cells: they are values, and nothing becomes NaN.
    let dealer = &triangles[1];
    assert_eq!(dealer["total"]["ultimate"].as_f64().unwrap(), 250.0);

    let csv = autochannel(&["analytics", "chain-ladder", "--triangle", path, "--format", "csv"]);
    assert!(csv.status.success());
    let text = String::from_utf8(csv.stdout).unwrap();
    assert!(text.starts_with("triangle,kind,from_age,to_age,origin,latest_age,latest,cdf,ultimate,ibnr"));
    assert!(text.lines().any(|l| l.starts_with("RAA,total,")));
}

#[test]
fn a_bad_triangle_file_names_every_bad_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.csv");
    std::fs::write(&path, "triangle,origin,age,value\nA,2020,x,5\nA,2021,1,abc\n").unwrap();
    let output = autochannel(&["analytics", "chain-ladder", "--triangle", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty(), "nothing is printed from a file with errors");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("line 2, field \"age\""), "{stderr}");
    assert!(stderr.contains("line 3, field \"value\""), "{stderr}");
    let missing = autochannel(&["analytics", "chain-ladder", "--triangle", "/nonexistent/triangles.csv"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("--triangle"));
}
