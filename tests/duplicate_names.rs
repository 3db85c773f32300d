//! Two crates of one binary declare the same metric name: the registry refuses to
//! build, naming both declaration sites, before anything is rendered.

use keviq::{Registry, RegistryError};

keviq::metric! {
    /// Domain metrics of the agent runtime.
    pub static AGENT: AgentMetrics {
        /// Agent invocations started
        invocations: Counter = "mona_agent_invocations_total",
    }
}

#[test]
fn clash_across_crates_names_both_sites() {
    keviq_fixture_clash::record();
    AGENT.invocations.inc();

    let Err(RegistryError::DuplicateNames(clashes)) = Registry::global() else {
        panic!("the registry must refuse two declarations of one name");
    };
    assert_eq!(clashes.len(), 1, "{clashes:?}");
    let clash = &clashes[0];
    assert_eq!(clash.name, "mona_agent_invocations_total");
    let mut sites = [clash.first.to_string(), clash.second.to_string()];
    sites.sort();
    assert!(
        sites[0].ends_with("tests/duplicate_names.rs:10"),
        "{sites:?}"
    );
    assert!(
        sites[1].ends_with("tests/fixtures/clash/src/lib.rs:6")
            || sites[1].ends_with("src/lib.rs:6"),
        "{sites:?}"
    );

    let message = Registry::global().unwrap_err().to_string();
    assert!(
        message.starts_with("metric name `mona_agent_invocations_total` is declared twice, at "),
        "{message}"
    );
    assert!(message.ends_with("; rename one of them"), "{message}");
}
