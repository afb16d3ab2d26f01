//! `amlgen explain`: a spec's rules and routes with their reasons and sources, the firewall's
//! list, and the documentation of a diagnostic code.

use crate::harness::{amlgen, root};

#[test]
fn a_code_prints_its_section_of_the_docs() {
    let run = amlgen(&["explain", "cidr-overlap"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .starts_with("## `cidr-overlap`\n\nError. Two subnets"),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains("## `subnet-unknown`"),
        "{}",
        run.stdout
    );
}

#[test]
fn codes_print_their_links_as_text_and_verify_codes_are_explained_too() {
    for code in [
        "cidr-overlap",
        "ssh-open-to-internet",
        "databricks-public-ip-tunnel",
    ] {
        let run = amlgen(&["explain", code]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(!run.stdout.contains("]("), "{}", run.stdout);
    }
    let run = amlgen(&["explain", "cidr-overlap"]);
    assert!(
        run.stdout
            .contains("Example: `tests/fixtures/invalid/cidr-overlap.yaml`."),
        "{}",
        run.stdout
    );
    let run = amlgen(&["explain", "verify-tunnel-bypassed"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .starts_with("### `verify-tunnel-bypassed`\n\nUnder forced tunnelling"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("### `verify-next-hop-in-compute`"));
    let run = amlgen(&["explain", "verify-tunnel-bypased"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("did you mean `verify-tunnel-bypassed`?"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_misspelt_code_gets_a_suggestion() {
    let run = amlgen(&["explain", "cidr-overlp"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("did you mean `cidr-overlap`?"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_spec_gets_every_rule_and_route_with_its_reason_and_the_firewalls_list() {
    let spec = root().join("examples/forced-tunnel.yaml");
    let run = amlgen(&["explain", spec.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for expected in [
        "subnet snet-gpu 10.61.0.0/25\n",
        "    100 Inbound Allow AllowAzureMachineLearningInbound Tcp AzureMachineLearning -> VirtualNetwork port 44224\n      why: Azure ML manages compute with public IPs",
        "    bypass-AzureMachineLearning AzureMachineLearning -> Internet\n      why: ",
        "the firewall at 10.0.1.4 must allow (service tag, protocol/port), for the flows routed to it:\n  from snet-gpu (10.61.0.0/25):\n    AzureActiveDirectory tcp/80\n",
        "    Storage.westus2 tcp/445\n",
        // No-public-IP compute sends Azure ML traffic to the firewall too.
        "  from snet-cpu (10.61.0.128/25):\n    AzureActiveDirectory tcp/80\n    AzureActiveDirectory tcp/443\n    AzureMachineLearning.westus2 tcp/443\n",
        // The hosts, with the region filled in.
        "    *.tundra.westus2.api.azureml.ms            UDP 5831             Compute instance\n",
    ] {
        assert!(
            run.stdout.contains(expected),
            "{expected}\n---\n{}",
            run.stdout
        );
    }
}

#[test]
fn hdinsight_gets_its_own_hosts_and_not_azure_mls() {
    let spec = root().join("examples/hdinsight-spark.yaml");
    let run = amlgen(&["explain", spec.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("  HDInsight also needs these hosts")
            && run.stdout.contains("    login.windows.net "),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("ml.azure.com"), "{}", run.stdout);
}

#[test]
fn an_invalid_spec_is_reported_not_explained() {
    let spec = root().join("tests/fixtures/invalid/cidr-overlap.yaml");
    let run = amlgen(&["explain", spec.to_str().unwrap()]);
    assert_eq!((run.code, run.stdout.as_str()), (1, ""));
    assert!(run.stderr.contains("cidr-overlap"), "{}", run.stderr);
}
