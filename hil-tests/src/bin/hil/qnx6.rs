//! The scenarios of the Neutrino 6.4 payload (`hil-tests/qnx6-x86/`), as its `scenarios.txt` lists them.
//!
//! The payload is its own crate, built for a target this workspace does not build for; the list is the
//! contract between it and the runner: `--list`, skip rows and the rows the runner expects all come from
//! it. One scenario a line, `name<TAB>description`; blank lines and lines starting with `#` are ignored.

/// The file, compiled in (a change to it rebuilds the runner).
const LIST: &str = include_str!("../../../qnx6-x86/scenarios.txt");

/// One scenario of the payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scenario {
    /// Name in markers and rows.
    pub name: String,
    /// What it checks, one line.
    pub about: String,
}

/// Parses a scenario list; an error names the line.
pub fn parse(text: &str) -> Result<Vec<Scenario>, String> {
    let mut out: Vec<Scenario> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim_end();
        if t.trim().is_empty() || t.starts_with('#') {
            continue;
        }
        let (name, about) = t
            .split_once('\t')
            .ok_or_else(|| format!("line {}: no TAB between name and description", i + 1))?;
        let ok = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !ok {
            return Err(format!("line {}: bad scenario name {name:?}", i + 1));
        }
        if out.iter().any(|s| s.name == name) {
            return Err(format!("line {}: {name} listed twice", i + 1));
        }
        out.push(Scenario {
            name: name.to_string(),
            about: about.trim().to_string(),
        });
    }
    if out.is_empty() {
        return Err("no scenarios".into());
    }
    Ok(out)
}

/// The payload's scenarios.
pub fn scenarios() -> Result<Vec<Scenario>, String> {
    parse(LIST).map_err(|e| format!("hil-tests/qnx6-x86/scenarios.txt: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_payload_list_parses() {
        let s = scenarios().unwrap();
        assert!(s.iter().all(|s| !s.about.is_empty()), "{s:?}");
    }

    #[test]
    fn malformed_lists_are_refused() {
        assert_eq!(
            parse("# c\n\na\tfirst\nb\tsecond\n").unwrap(),
            vec![
                Scenario {
                    name: "a".into(),
                    about: "first".into()
                },
                Scenario {
                    name: "b".into(),
                    about: "second".into()
                }
            ]
        );
        assert!(parse("a first\n").unwrap_err().contains("line 1"));
        assert!(parse("a\tx\na\ty\n").unwrap_err().contains("twice"));
        assert!(parse("../x\ty\n")
            .unwrap_err()
            .contains("bad scenario name"));
        assert!(parse("\n").is_err());
    }
}
