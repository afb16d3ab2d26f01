//! What a hostile file or a shared build agent does to `render` and `render --check` (issue
//! 17): nothing lands outside the output folder, nothing hangs or is read whole when it cannot
//! be amlgen's, and a broken file amlgen wrote is stale and repaired.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use crate::harness::{Run, amlgen, root, scratch};

/// A folder `specs/` in a scratch folder holding minimal.yaml under each of `names` (the spec
/// named after its file), and the output folder beside it: (scratch, specs, out).
fn specs(test: &str, names: &[&str]) -> (PathBuf, PathBuf, PathBuf) {
    let dir = scratch(test);
    let specs = dir.join("specs");
    std::fs::create_dir(&specs).unwrap();
    let text = std::fs::read_to_string(root().join("examples/minimal.yaml")).unwrap();
    for name in names {
        let spec = text.replace("name: minimal\n", &format!("name: {name}\n"));
        std::fs::write(specs.join(format!("{name}.yaml")), spec).unwrap();
    }
    (dir.clone(), specs, dir.join("out"))
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Runs `amlgen ARGS` on a thread; `None` when it has not finished within `seconds`.
fn within(seconds: u64, args: &[&str]) -> Option<Run> {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let (tell, done) = mpsc::channel();
    std::thread::spawn(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let _ = tell.send(amlgen(&args));
    });
    done.recv_timeout(Duration::from_secs(seconds)).ok()
}

#[cfg(target_os = "linux")]
#[test]
fn swapping_a_spec_folder_for_a_link_never_writes_outside_the_output_folder() {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    use std::sync::atomic::{AtomicBool, Ordering};
    let (dir, specs, out) = specs("race", &["racer"]);
    let spec = specs.join("racer.yaml");
    assert_eq!(amlgen(&["render", s(&spec), "-o", s(&out)]).code, 0);
    let victim = dir.join("victim");
    std::fs::create_dir(&victim).unwrap();
    let link = out.join("swap");
    std::os::unix::fs::symlink("../victim", &link).unwrap();
    let text = std::fs::read_to_string(&spec).unwrap();
    let other = text.replace("location: westeurope", "location: northeurope");
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let folder = out.join("racer");
            while !stop.load(Ordering::Relaxed) {
                let _ = renameat_with(CWD, &folder, CWD, &link, RenameFlags::EXCHANGE);
            }
        });
        for round in 0..300 {
            let next = if round % 2 == 0 { &other } else { &text };
            std::fs::write(&spec, next).unwrap();
            // A render may fail (the folder is a link at that moment): only where files go
            // matters.
            let _ = amlgen(&["render", s(&spec), "-o", s(&out)]);
            let _ = amlgen(&["render", "--check", s(&spec), "-o", s(&out)]);
        }
        stop.store(true, Ordering::Relaxed);
    });
    let landed: Vec<_> = std::fs::read_dir(&victim).unwrap().collect();
    assert!(
        landed.is_empty(),
        "written outside the output folder: {landed:?}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[cfg(unix)]
fn fifo(path: &Path) {
    use rustix::fs::{CWD, FileType, Mode, mknodat};
    mknodat(
        CWD,
        path,
        FileType::Fifo,
        Mode::from_bits_truncate(0o644),
        0,
    )
    .unwrap();
}

#[cfg(unix)]
#[test]
fn a_fifo_in_the_output_never_hangs_a_run() {
    let (dir, specs, out) = specs("fifo", &["piped"]);
    let spec = specs.join("piped.yaml");
    assert_eq!(amlgen(&["render", s(&spec), "-o", s(&out)]).code, 0);
    let bicep = out.join("piped/main.bicep");
    std::fs::remove_file(&bicep).unwrap();
    fifo(&bicep);
    let check = within(20, &["render", "--check", s(&spec), "-o", s(&out)]);
    let check = check.expect("--check hung on a FIFO");
    assert_eq!(check.code, 1, "{}", check.stderr);
    assert!(check.stderr.contains("not amlgen's:"), "{}", check.stderr);
    let render = within(20, &["render", s(&spec), "-o", s(&out)]).expect("render hung");
    assert_eq!(render.code, 2, "{}", render.stderr);
    assert!(
        render.stderr.contains("main.bicep: it was not generated"),
        "{}",
        render.stderr
    );
    // `-o` a FIFO is a clear error, for render and --check alike.
    let pipe = dir.join("pipe");
    fifo(&pipe);
    for check in [false, true] {
        let mut args = vec!["render", s(&spec), "-o", s(&pipe)];
        if check {
            args.push("--check");
        }
        let run = within(20, &args).expect("-o FIFO hung");
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(
            run.stderr.contains("pipe: is not a folder"),
            "{}",
            run.stderr
        );
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// The process's peak resident memory, in KiB.
#[cfg(target_os = "linux")]
fn peak_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[cfg(target_os = "linux")]
#[test]
fn huge_files_in_the_output_are_not_read_whole() {
    let (dir, specs, out) = specs("huge", &["huge"]);
    let spec = specs.join("huge.yaml");
    assert_eq!(amlgen(&["render", s(&spec), "-o", s(&out)]).code, 0);
    // Sparse files: they take no room on disk, but memory when read whole.
    let sparse = |name: &str, header: &str| {
        let path = out.join("huge").join(name);
        std::fs::write(&path, header).unwrap();
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(768 << 20)
            .unwrap();
    };
    sparse("notes.bicep", "// Generated by amlgen 0.1.0\n");
    let check = amlgen(&["render", "--check", s(&spec), "-o", s(&out)]);
    assert_eq!(
        check.code, 0,
        "an unrelated file is not amlgen's: {}",
        check.stderr
    );
    sparse("main.bicep", "// Generated by amlgen 0.1.0\n");
    let check = amlgen(&["render", "--check", s(&spec), "-o", s(&out)]);
    assert_eq!(check.code, 1, "{}", check.stderr);
    let render = amlgen(&["render", s(&spec), "-o", s(&out)]);
    assert_eq!(
        render.code, 2,
        "larger than anything amlgen writes: {}",
        render.stderr
    );
    assert!(peak_kib() < 512 << 10, "peak {} KiB", peak_kib());
    std::fs::remove_dir_all(dir).unwrap();
}

#[cfg(unix)]
#[test]
fn symlink_loops_in_a_spec_folder_are_errors_not_crashes() {
    let (dir, specs, out) = specs("loops", &["loops"]);
    let spec = specs.join("loops.yaml");
    assert_eq!(amlgen(&["render", s(&spec), "-o", s(&out)]).code, 0);
    let folder = out.join("loops");
    std::os::unix::fs::symlink("b.bicep", folder.join("a.bicep")).unwrap();
    std::os::unix::fs::symlink("a.bicep", folder.join("b.bicep")).unwrap();
    std::fs::remove_file(folder.join("main.bicep")).unwrap();
    std::os::unix::fs::symlink("main.bicep", folder.join("main.bicep")).unwrap();
    for check in [false, true] {
        let mut args = vec!["render", s(&spec), "-o", s(&out)];
        if check {
            args.push("--check");
        }
        let run = within(20, &args).expect("a symlink loop hung the run");
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(run.stderr.contains("is a symbolic link"), "{}", run.stderr);
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_huge_job_count_is_capped() {
    let (dir, specs, out) = specs("jobs", &["jobs"]);
    let spec = specs.join("jobs.yaml");
    let run = within(60, &["render", s(&spec), "-o", s(&out), "-j", "1000000"]);
    assert_eq!(run.expect("-j 1000000 did not finish").code, 0);
    std::fs::remove_dir_all(dir).unwrap();
}

/// Replaces the amlgen version in `file`'s stamp with `broken`.
fn break_stamp(file: &Path, broken: &[u8]) {
    let text = std::fs::read(file).unwrap();
    let at = text
        .windows(b"\"version\": \"0".len())
        .position(|w| w == b"\"version\": \"0")
        .unwrap()
        + b"\"version\": \"".len();
    let end = at + text[at..].iter().position(|b| *b == b'"').unwrap();
    let mut bytes = text[..at].to_vec();
    bytes.extend_from_slice(broken);
    bytes.extend_from_slice(&text[end..]);
    std::fs::write(file, bytes).unwrap();
}

#[test]
fn a_broken_or_emptied_file_amlgen_wrote_is_stale_and_repaired_without_force() {
    let (dir, specs, out) = specs("broken", &["broken"]);
    let spec = specs.join("broken.yaml");
    assert_eq!(amlgen(&["render", s(&spec), "-o", s(&out)]).code, 0);
    let arm = out.join("broken/azuredeploy.json");
    let good = std::fs::read(&arm).unwrap();
    let damage: [(&str, &dyn Fn()); 4] = [
        ("a quote escaped in the stamp", &|| {
            break_stamp(&arm, b"0.1.\\")
        }),
        ("a 0xFF byte in the stamp", &|| {
            break_stamp(&arm, b"0.1.\xff")
        }),
        ("an emptied template", &|| std::fs::write(&arm, "").unwrap()),
        ("an emptied main.bicep", &|| {
            std::fs::write(out.join("broken/main.bicep"), "").unwrap()
        }),
    ];
    for (what, damage) in damage {
        damage();
        let check = amlgen(&["render", "--check", s(&spec), "-o", s(&out)]);
        assert_eq!(check.code, 1, "{what}: {}", check.stderr);
        let render = amlgen(&["render", s(&spec), "-o", s(&out)]);
        assert_eq!(render.code, 0, "{what}: {}", render.stderr);
        assert_eq!(std::fs::read(&arm).unwrap(), good, "{what}");
        let check = amlgen(&["render", "--check", s(&spec), "-o", s(&out)]);
        assert_eq!(check.code, 0, "{what}: {}", check.stderr);
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_folder_of_a_deleted_spec_is_reported_then_removed() {
    let (dir, specs, out) = specs("orphan", &["kept", "gone"]);
    assert_eq!(amlgen(&["render", s(&specs), "-o", s(&out)]).code, 0);
    std::fs::remove_file(specs.join("gone.yaml")).unwrap();
    // Rendering one spec says nothing of the others.
    let one = amlgen(&[
        "render",
        "--check",
        s(&specs.join("kept.yaml")),
        "-o",
        s(&out),
    ]);
    assert_eq!(one.code, 0, "{}", one.stderr);
    let check = amlgen(&["render", "--check", s(&specs), "-o", s(&out)]);
    assert_eq!(check.code, 1, "{}", check.stderr);
    assert!(check.stderr.contains("gone/main.bicep"), "{}", check.stderr);
    let render = amlgen(&["render", s(&specs), "-o", s(&out)]);
    assert_eq!(render.code, 0, "{}", render.stderr);
    assert!(!out.join("gone").exists());
    assert_eq!(
        amlgen(&["render", "--check", s(&specs), "-o", s(&out)]).code,
        0
    );
    // A folder holding a file amlgen did not write is not amlgen's to remove.
    std::fs::create_dir(out.join("mine")).unwrap();
    std::fs::write(out.join("mine/notes.txt"), "mine").unwrap();
    assert_eq!(
        amlgen(&["render", "--check", s(&specs), "-o", s(&out)]).code,
        0
    );
    assert_eq!(amlgen(&["render", s(&specs), "-o", s(&out)]).code, 0);
    assert!(out.join("mine/notes.txt").exists());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn temporary_files_a_killed_run_left_go_with_the_next_run_into_the_folder() {
    let (dir, specs, out) = specs("killed", &["one", "two"]);
    assert_eq!(amlgen(&["render", s(&specs), "-o", s(&out)]).code, 0);
    let temp = out.join("two/.amlgen-0123456789abcdef.tmp");
    std::fs::write(&temp, "half").unwrap();
    let run = amlgen(&["render", s(&specs.join("one.yaml")), "-o", s(&out)]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        !temp.exists(),
        "a spec folder the run did not render is cleaned too"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn check_reports_files_in_the_json_and_sarif_documents() {
    let (dir, specs, out) = specs("machine", &["machine"]);
    let spec = specs.join("machine.yaml");
    assert_eq!(amlgen(&["render", s(&spec), "-o", s(&out)]).code, 0);
    let bicep = out.join("machine/main.bicep");
    let text = std::fs::read_to_string(&bicep).unwrap();
    std::fs::write(&bicep, text.replace("param ", "param  ")).unwrap();
    std::fs::remove_file(out.join("machine/README.md")).unwrap();
    let check = |format| {
        amlgen(&[
            "render",
            "--check",
            s(&spec),
            "-o",
            s(&out),
            "--format",
            format,
        ])
    };
    let json = check("json");
    assert_eq!(json.code, 1, "{}", json.stderr);
    let document: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let codes: Vec<&str> = document
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["code"].as_str())
        .collect();
    assert!(
        codes.contains(&"output-stale") && codes.contains(&"output-missing"),
        "{codes:?}"
    );
    let stale = document
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "output-stale")
        .unwrap();
    assert!(
        stale["diff"].as_str().unwrap().contains("+param location"),
        "{stale}"
    );
    assert!(
        !json.stderr.contains("stale:"),
        "no text list: {}",
        json.stderr
    );
    let sarif = check("sarif");
    assert_eq!(sarif.code, 1, "{}", sarif.stderr);
    let log: serde_json::Value = serde_json::from_str(&sarif.stdout).unwrap();
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert!(
        results.iter().any(|r| r["ruleId"] == "output-missing"),
        "{log}"
    );
    let rules = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    assert!(rules.iter().any(|r| r["id"] == "output-stale"));
    std::fs::remove_dir_all(dir).unwrap();
}
