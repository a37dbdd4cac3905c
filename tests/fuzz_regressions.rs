//! Every input the fuzz targets ever failed on (`fuzz/regressions/<target>/`),
//! replayed through the targets' own code on each `cargo test`.

use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/regressions")
        .join(target);
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).expect("the regressions folder") {
        let path = entry.expect("an entry").path();
        let bytes = std::fs::read(&path).expect("a regression input");
        eprintln!("{target}: {}", path.display());
        run(&bytes);
        count += 1;
    }
    count
}

#[test]
fn card_files_the_fuzzer_found_stay_fixed() {
    assert!(replay("card", quire::fuzzing::card_file) > 0);
}

#[test]
fn query_texts_the_fuzzer_found_stay_fixed() {
    assert!(replay("query", quire::fuzzing::query_text) > 0);
}
