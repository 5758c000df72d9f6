//! The scenarios of the Neutrino 6.4 guest's programs, as their lists name them: the Rust payload's
//! (`hil-tests/qnx6-x86/scenarios.txt`, list `payload`) and the C programs' (`hil-tests/qnx6-x86/c/
//! scenarios.txt`, list `c`). A program of the profile names its list (`list = "c"`; the default is
//! `payload`) and runs the selected scenarios of that list, read from its own file on the CD
//! ([`cd_file`]).
//!
//! The programs are built for a target this workspace does not build for; the lists are the contract
//! between them and the runner: `--list`, skip rows and the rows the runner expects all come from them.
//! One scenario a line, `name<TAB>description`; blank lines and lines starting with `#` are ignored. A
//! name is one row per program of its list, so no name may be in two lists.

/// The lists: id, file (for messages), text compiled in (a change to one rebuilds the runner).
const LISTS: [(&str, &str, &str); 2] = [
    (
        PAYLOAD,
        "hil-tests/qnx6-x86/scenarios.txt",
        include_str!("../../../qnx6-x86/scenarios.txt"),
    ),
    (
        "c",
        "hil-tests/qnx6-x86/c/scenarios.txt",
        include_str!("../../../qnx6-x86/c/scenarios.txt"),
    ),
];

/// The list of a program that names none: the Rust payload's.
pub const PAYLOAD: &str = "payload";

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

/// The scenarios of one list; an unknown list is an error naming the known ones.
pub fn list(id: &str) -> Result<Vec<Scenario>, String> {
    let (_, file, text) = LISTS.iter().find(|(i, _, _)| *i == id).ok_or_else(|| {
        let known: Vec<&str> = LISTS.iter().map(|l| l.0).collect();
        format!("no scenario list {id:?} (known: {})", known.join(", "))
    })?;
    parse(text).map_err(|e| format!("{file}: {e}"))
}

/// Every list's id and file.
pub fn lists() -> impl Iterator<Item = (&'static str, &'static str)> {
    LISTS.iter().map(|(id, file, _)| (*id, *file))
}

/// The name of the file on the CD holding a list's selected names: `scenarios` for the payload's (as
/// the Rust payload reads it), `scenarios-<id>` for the others.
pub fn cd_file(id: &str) -> String {
    if id == PAYLOAD {
        "scenarios".into()
    } else {
        format!("scenarios-{id}")
    }
}

/// Every list's scenarios, in list order; a name in two lists is an error.
pub fn scenarios() -> Result<Vec<Scenario>, String> {
    let mut all: Vec<Scenario> = Vec::new();
    for (id, file) in lists() {
        for s in list(id)? {
            if all.iter().any(|a| a.name == s.name) {
                return Err(format!("{file}: {} is in another list too", s.name));
            }
            all.push(s);
        }
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lists_parse_and_share_no_name() {
        let s = scenarios().unwrap();
        assert!(s.iter().all(|s| !s.about.is_empty()), "{s:?}");
        let c = list("c").unwrap();
        assert!(c.iter().any(|s| s.name == "capi"), "{c:?}");
        assert!(list(PAYLOAD).unwrap().len() + c.len() == s.len());
        assert!(list("nope").unwrap_err().contains("payload, c"));
        assert_eq!(cd_file(PAYLOAD), "scenarios");
        assert_eq!(cd_file("c"), "scenarios-c");
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
