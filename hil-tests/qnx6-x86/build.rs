//! Makes the payload's table of scenario functions from `scenarios.txt`, the list the runner reads too:
//! a scenario's name there is the name of its function in `src/scenarios.rs`, so adding a scenario is a
//! line in `scenarios.txt` and its function, and a line without a function does not compile.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=scenarios.txt");
    let list = std::fs::read_to_string("scenarios.txt").expect("read scenarios.txt");
    let mut arms = String::new();
    for (i, line) in list.lines().enumerate() {
        let line = line.trim_end();
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let name = line.split('\t').next().unwrap_or_default().trim();
        assert!(
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "scenarios.txt line {}: {name:?} is not the name of a function",
            i + 1
        );
        writeln!(arms, "        {name:?} => {name},").expect("write to a String");
    }
    let out = std::env::var("OUT_DIR").expect("OUT_DIR");
    let table = format!("match name {{\n{arms}        _ => return None,\n    }}\n");
    std::fs::write(Path::new(&out).join("lookup.rs"), table).expect("write lookup.rs");
}
