//! The `lab` command line as other tooling calls it: sample (one prompt, a prompt file), eval.
#![cfg(feature = "cli")]

use std::path::Path;
use std::process::Command;

fn lab(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_lab"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("lab runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "lab {args:?} failed:\n{text}");
    text
}

fn png_size(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{} is not a PNG", path.display());
    (u32::from_be_bytes(bytes[16..20].try_into().unwrap()), u32::from_be_bytes(bytes[20..24].try_into().unwrap()))
}

#[test]
fn sample_writes_pngs_for_a_prompt_and_a_prompt_file() {
    let dir = std::env::temp_dir().join(format!("lab-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let one = dir.join("hund.png");
    lab(&["sample", "--prompt", "Hund", "--backend", "cpu", "--out", one.to_str().unwrap()]);
    assert_eq!(png_size(&one), (32, 32));
    let prompts = dir.join("prompts.txt");
    std::fs::write(&prompts, "a dog\n\nroter Apfel\n").unwrap();
    let out = dir.join("many");
    lab(&[
        "sample", "--prompts", prompts.to_str().unwrap(), "--model", "teacher", "--steps", "2", "--guidance", "3",
        "--backend", "cpu", "--out", out.to_str().unwrap(),
    ]);
    // one file per non-empty line, numbered
    assert_eq!(png_size(&out.join("0001.png")), (32, 32));
    assert_eq!(png_size(&out.join("0002.png")), (32, 32));
    assert!(!out.join("0003.png").exists());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn eval_prints_the_quality_table_for_both_models() {
    // 4 validation emoji (every 115th) keep this quick; the full run is `lab eval`
    let text = lab(&["eval", "--every", "115", "--seeds", "2"]);
    println!("{text}");
    assert!(text.contains("459 emoji in the data set, 4 in the validation split"), "{text}");
    assert!(text.contains("| model | steps | passes / image | top-1 de | top-5 de | top-1 en | top-5 en | FID-style"), "{text}");
    assert!(text.contains("| teacher | 8 | 16 |"), "{text}");
    assert!(text.contains("| student | 4 | 4 |"), "{text}");
    assert!(text.contains("between two random halves of the data set it is 2.93"), "{text}");
}
