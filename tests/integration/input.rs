//! Hostile input (issue 17): specs and command lines built to exhaust memory or time, to hide a
//! problem, or to make a message lie. Each test bounds time and checks what is reported.

use std::time::{Duration, Instant};

use crate::harness::{amlgen, root, scratch};

/// Runs `f`, failing when it takes longer than `limit` (a debug build; a release one is far
/// quicker).
fn within<T>(limit: Duration, f: impl FnOnce() -> T) -> T {
    let started = Instant::now();
    let value = f();
    let took = started.elapsed();
    assert!(took < limit, "took {took:?}, more than {limit:?}");
    value
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// Asserts that `run` exited with `code` and said `text` on stderr.
fn exits_saying(run: &crate::harness::Run, code: u8, text: &str) {
    assert_eq!(run.code, code, "{}", run.stderr);
    assert!(run.stderr.contains(text), "{}", run.stderr);
}

fn example(name: &str) -> String {
    std::fs::read_to_string(root().join("examples").join(name)).unwrap()
}

/// 1 MiB of unknown keys took 143 s in human text and 50 s in JSON: the de-duplication was
/// quadratic, and so was finding each diagnostic's line. Each code is now capped per spec.
#[test]
fn a_spec_of_a_hundred_thousand_unknown_keys_is_reported_in_moments() {
    let dir = scratch("unknown-keys");
    let text: String = (0..116_458).map(|i| format!("k{i}: 1\n")).collect();
    let spec = write(&dir, "keys.yaml", &text[..text.len().min(1 << 20)]);
    for format in ["human", "json"] {
        let run = within(Duration::from_secs(20), || {
            amlgen(&["validate", "--format", format, &spec])
        });
        assert_eq!(run.code, 1);
        let shown = format!("{}{}", run.stdout, run.stderr);
        assert!(
            shown.contains("more `schema-unknown-key` diagnostics in this spec"),
            "{format}"
        );
        assert!(shown.len() < 200_000, "{format}: {} bytes", shown.len());
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// 40,000 `address_space` entries took 26 s, each doubling five times longer.
#[test]
fn a_long_list_of_invalid_entries_is_reported_in_moments() {
    let dir = scratch("address-space");
    let entries: Vec<String> = (0..40_000)
        .map(|i| format!("'10.{}.{}.1/33'", i / 256, i % 256))
        .collect();
    let text = example("minimal.yaml").replace(
        "address_space: [10.10.0.0/16]",
        &format!("address_space: [{}]", entries.join(", ")),
    );
    assert!(text.contains("'10.0.0.1/33'"), "the example changed");
    let spec = write(&dir, "space.yaml", &text);
    let run = within(Duration::from_secs(20), || {
        amlgen(&["validate", "--format", "json", &spec])
    });
    assert_eq!(run.code, 1);
    let found: Vec<serde_json::Value> = serde_json::from_str(&run.stdout).unwrap();
    assert!(
        found.len() <= 2 * amlgen::diag::MAX_PER_CODE + 10,
        "{}",
        found.len()
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// An invalid tag key was located at the first tag: the diagnostic points at the key itself.
#[test]
fn an_invalid_tag_key_is_located_at_that_key() {
    let text =
        "name: demo\nlocation: eastus2\ntags:\n  owner: a\n  team: b\n  env: c\n  \"bad/key\": d\n";
    let compiled = amlgen::compile(amlgen::source::Source::new("t.yaml", text), root())
        .unwrap()
        .remove(0);
    let json = amlgen::diag::render(amlgen::diag::Format::Json, &[compiled.findings()]);
    let found: Vec<serde_json::Value> = serde_json::from_str(&json).unwrap();
    let bad = found
        .iter()
        .find(|d| d["message"].as_str().unwrap().contains("bad/key"))
        .unwrap_or_else(|| panic!("{json}"));
    assert_eq!(
        (bad["line"].as_u64(), bad["column"].as_u64()),
        (Some(7), Some(3)),
        "{json}"
    );
    assert_eq!(bad["code"], "schema-value");
}

/// The errors of `text` compiled as a spec, as `(code, message)`.
fn errors_of(text: &str) -> Vec<(String, String)> {
    let compiled = amlgen::compile(amlgen::source::Source::new("t.yaml", text), root())
        .unwrap()
        .remove(0);
    compiled
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| (d.code.as_str().to_string(), d.message.clone()))
        .collect()
}

/// 10,001 subnets rendered, though Azure allows 3,000 per virtual network; a 5,000-character
/// service endpoint was accepted.
#[test]
fn azures_limits_per_virtual_network_and_string_lengths_are_checked() {
    let base = example("minimal.yaml");
    let subnets: String = (0..3001)
        .map(|i| {
            format!(
                "    - name: s{i}\n      address_prefix: 10.{}.{}.0/29\n",
                i / 32,
                (i % 32) * 8
            )
        })
        .collect();
    let text = base.replace("  subnets:\n", &format!("  subnets:\n{subnets}"));
    let text = text.replace("10.10.0.0/16", "10.0.0.0/8");
    let found = within(Duration::from_secs(30), || errors_of(&text));
    assert!(
        found.iter().any(|(code, m)| code == "schema-value"
            && m.contains("network.subnets")
            && m.contains("3000")),
        "{found:?}"
    );
    let long = format!("Microsoft.{}", "S".repeat(5000));
    let text = base.replace(
        "      address_prefix: 10.10.0.0/24\n",
        &format!("      address_prefix: 10.10.0.0/24\n      service_endpoints: [{long}]\n"),
    );
    assert!(text.contains(&long), "the example changed");
    let found = errors_of(&text);
    assert!(
        found
            .iter()
            .any(|(code, m)| code == "schema-value" && m.contains("service_endpoints[0]")),
        "{found:?}"
    );
}

/// Two symbolic-link loops in a spec folder grew a walk exponentially (824 MB after 60 s); one
/// loop listed the same spec 40 times. Walks follow no link to a folder.
#[cfg(unix)]
#[test]
fn folder_walks_follow_no_symlink_loop() {
    let dir = scratch("symlink-loops");
    let specs = dir.join("d");
    std::fs::create_dir_all(&specs).unwrap();
    std::fs::write(specs.join("minimal.yaml"), example("minimal.yaml")).unwrap();
    std::os::unix::fs::symlink(".", specs.join("a")).unwrap();
    std::os::unix::fs::symlink(".", specs.join("b")).unwrap();
    let folder = specs.display().to_string();
    let glob = format!("{folder}/**/*.yaml");
    for given in [&folder, &glob] {
        let run = within(Duration::from_secs(10), || amlgen(&["validate", given]));
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_eq!(run.stdout.matches(": valid").count(), 1, "{}", run.stdout);
    }
    // A folder deeper than the search goes is an error, not specs silently left out.
    let mut deep = dir.join("deep");
    for _ in 0..40 {
        deep.push("x");
    }
    std::fs::create_dir_all(&deep).unwrap();
    let run = amlgen(&["validate", &dir.join("deep").display().to_string()]);
    exits_saying(&run, 2, "nest more than 32 levels");
    std::fs::remove_dir_all(dir).unwrap();
}

/// `validate 'spec[1.yaml'` said "no spec found in Pattern syntax error...".
#[test]
fn an_invalid_glob_reads_as_a_glob_error() {
    let run = amlgen(&["validate", "spec[1.yaml"]);
    exits_saying(
        &run,
        2,
        "error: invalid glob `spec[1.yaml`: Pattern syntax error",
    );
}

/// One missing or unreadable spec aborted the batch, and with `--format json|sarif` stdout then
/// held no document. It is now that spec's diagnostic; the others are still checked.
#[test]
fn a_missing_spec_is_its_own_diagnostic_and_the_batch_goes_on() {
    let dir = scratch("missing-spec");
    let missing = dir.join("missing.yaml").display().to_string();
    let invalid = write(&dir, "invalid.yaml", "name: x\n");
    let valid = root()
        .join("examples/locked-nat.yaml")
        .display()
        .to_string();
    for format in ["json", "sarif"] {
        let run = amlgen(&["validate", "--format", format, &missing, &valid, &invalid]);
        assert_eq!(run.code, 1, "{}", run.stderr);
        let document: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        let text = document.to_string();
        assert!(text.contains("spec-unreadable"), "{format}: {text}");
        assert!(
            text.contains("schema-missing-key"),
            "{format}: the batch went on"
        );
        assert!(
            run.stderr.contains("3 specs: 1 valid, 2 failed"),
            "{}",
            run.stderr
        );
    }
    let large = write(&dir, "large.yaml", &"#".repeat((1 << 20) + 1));
    let run = amlgen(&["validate", &large, &valid]);
    exits_saying(&run, 1, "error[spec-unreadable]: cannot read");
    std::fs::remove_dir_all(dir).unwrap();
}

/// A spec named with a newline and ANSI escapes forged an `error[forged]` line in `validate`'s
/// output, and U+061C, U+200B and U+2028 in values printed as they were.
#[test]
fn paths_and_values_cannot_forge_or_hide_text() {
    let dir = scratch("forged");
    let name = "x\n\u{1b}[31merror[forged]\u{1b}[0m.yaml";
    let path = write(&dir, name, &example("locked-nat.yaml"));
    let run = amlgen(&["validate", &path]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let printed = format!("{}{}", run.stdout, run.stderr);
    assert!(!printed.contains('\u{1b}'), "{printed}");
    assert!(
        !printed.lines().any(|l| l.starts_with("error")),
        "{printed}"
    );
    let hidden = example("locked-nat.yaml").replacen(
        "tags:\n",
        &format!(
            "tags:\n  'a\u{200b}b': \"x\u{061c}y\u{2028}z\u{202e}{}\"\n",
            "w".repeat(300)
        ),
        1,
    );
    let spec = write(&dir, "hidden.yaml", &hidden);
    let run = amlgen(&["validate", &spec]);
    assert_eq!(run.code, 1);
    for c in ['\u{200b}', '\u{061c}', '\u{2028}', '\u{202e}'] {
        assert!(!run.stderr.contains(c), "{:?} in {}", c, run.stderr);
    }
    assert!(
        run.stderr.contains(r"x\u{61c}y\u{2028}z\u{202e}"),
        "{}",
        run.stderr
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// Service-tag prefixes `garbage`, `20.36.242.160/33` and `1.2.3.4/32', x: '` were dropped with
/// exit 0, though host bits are an error: each is an error naming the tag and the file.
#[test]
fn a_malformed_prefix_of_a_needed_tag_is_an_error_naming_tag_and_file() {
    let path = root().join("tests/fixtures/invalid/service-tag-prefix-invalid.yaml");
    let compiled = amlgen::compile_file(&path, &[]).unwrap().remove(0);
    let messages: Vec<&str> = compiled
        .diagnostics
        .iter()
        .filter(|d| d.code == amlgen::diag::Code::ServiceTagPrefixInvalid)
        .map(|d| d.message.as_str())
        .collect();
    for written in ["garbage", "20.36.242.160/33", "1.2.3.4/32', x: '"] {
        let expected = format!(
            "service-tags file `service-tags-hostile.json`, tag `AzureMachineLearning.centralus`: `{written}` is not an IP prefix"
        );
        assert!(messages.contains(&expected.as_str()), "{messages:?}");
    }
    // An IPv6 prefix is no error: routes beside 0.0.0.0/0 are IPv4.
    assert!(!messages.iter().any(|m| m.contains("2603")), "{messages:?}");
}

/// `init` took names of 30-40 characters whose workspace name, `mlw-<name>`, Azure refuses
/// (more than 33 characters): it refuses them before writing anything.
#[test]
fn init_refuses_a_name_whose_derived_names_azure_refuses() {
    let dir = scratch("init-long");
    for length in [30, 35, 40] {
        let name: String = "a".repeat(length);
        let run = std::process::Command::new(env!("CARGO_BIN_EXE_amlgen"))
            .args(["init", &name])
            .current_dir(&dir)
            .output()
            .unwrap();
        assert_eq!(run.status.code(), Some(1), "{length}");
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(stderr.contains("nothing was written"), "{stderr}");
        assert!(stderr.contains("workspace.name"), "{stderr}");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "{length}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}
