//! Runs the article's demo (`examples/fdpass.rs`) as a user would and checks what it prints: the
//! sender's first line and the receiver's next line, from two different processes.

#![cfg(target_os = "linux")]

use std::path::PathBuf;
use std::process::Command;

fn demo() -> PathBuf {
    // Cargo builds the example beside this test: target/<profile>/examples/fdpass, with this test in
    // target/<profile>/deps (newer cargo may keep test binaries deeper, in its build directory).
    let exe = std::env::current_exe().unwrap();
    exe.ancestors()
        .map(|dir| dir.join("examples").join("fdpass"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("no examples/fdpass above {}", exe.display()))
}

#[test]
fn demo_passes_the_repositioned_descriptor() {
    let path = std::env::temp_dir().join(format!("qnx-fdpass-demo-{}", std::process::id()));
    std::fs::write(&path, "alpha line\nbeta line\ngamma line\n").unwrap();
    let out = Command::new(demo())
        .args(["--file", path.to_str().unwrap()])
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The first line says what the demo shows.
    let first = stdout.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("fdpass: a sender process passes its open descriptor of")
            && first.contains("Backend: "),
        "{stdout}"
    );
    assert!(stdout.contains("SFD: first line [alpha line]"), "{stdout}");
    assert!(stdout.contains("RFD: next line [beta line]"), "{stdout}");
    let pid = |prefix: &str| -> u32 {
        let line = stdout.lines().find(|l| l.starts_with(prefix)).unwrap();
        line[prefix.len()..]
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    // The receiver names the sender's pid, and it is not the receiver's own.
    assert_eq!(pid("SFD: client pid "), pid("RFD: other pid "));
    assert!(stdout.contains("passed the descriptor"));
}

#[test]
fn demo_says_when_the_peer_never_comes() {
    let queue = format!("/fdpass-lonely-{}", std::process::id());
    let out = Command::new(demo())
        .args(["-r", "--queue", &queue, "--timeout", "1"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no sender within 1 s"), "{stderr}");
    let out = Command::new(demo())
        .args(["-s", "--queue", "no-slash/bad", "--timeout", "1"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("can't open/create message queue"));
    for q in [queue.clone(), format!("{queue}-ack")] {
        let _ = nix::mqueue::mq_unlink(q.as_str());
    }
}
