use super::*;
use crate::report::diagnosis::{diagnose, Warning};
use crate::report::testing::{closed_loop_result, open_loop_result};

fn objectives(exprs: &[&str]) -> Vec<Check> {
    exprs.iter().map(|e| Check::objective(e).unwrap()).collect()
}

/// An open-loop run that held its rate and kept its schedule.
fn held() -> RunResult {
    let mut r = open_loop_result();
    r.summary.achieved_rate = Some(600.0);
    r.summary.late_sends = Some(0);
    r.warnings = diagnose(&r);
    r
}

#[test]
fn a_trial_passes_when_every_objective_holds_and_fails_when_one_does_not() {
    let r = held();
    assert!(
        r.warnings.iter().all(|w| !w.kind.invalidates()),
        "{:?}",
        r.warnings
    );
    let (o, checks) = judge(&r, &objectives(&["p99<10s", "error_rate<1%"]));
    assert_eq!(o, Outcome::Pass, "{checks:?}");
    assert_eq!(checks.len(), 2);
    let (o, checks) = judge(&r, &objectives(&["p99<10s", "p50<1us"]));
    assert_eq!(o, Outcome::Fail);
    assert!(!checks[0].failed && checks[1].failed);
}

#[test]
fn a_rate_the_server_could_not_carry_fails_but_a_late_client_is_no_evidence() {
    let not_held = |limit| {
        let mut r = held();
        r.warnings.push(Warning::new(WarningKind::RateNotHeld {
            target_rate: 600.0,
            achieved_rate: 500.0,
            connections: 100,
            mean_service_time_us: 100.0,
            capacity_rate: Some(1e6),
            limit,
        }));
        r
    };
    // Every connection busy: the server's limit, a failure.
    assert_eq!(
        judge(&not_held(Limit::Server), &objectives(&["p99<10s"])).0,
        Outcome::Fail
    );
    // Connections to spare but sends late: the client's, no evidence.
    assert_eq!(
        judge(&not_held(Limit::Client), &objectives(&["p99<10s"])).0,
        Outcome::Invalid
    );
    let mut r = held();
    r.warnings.push(Warning::new(WarningKind::WorkerBusy {
        worker: 0,
        cpu_pct: 99.0,
        busy_pct: 99.0,
    }));
    assert_eq!(judge(&r, &objectives(&["p99<10s"])).0, Outcome::Invalid);
}

#[test]
fn nothing_completed_is_a_failure_even_without_a_latency_objective() {
    let mut r = closed_loop_result();
    r.summary.requests = 0;
    r.warnings = Vec::new();
    assert_eq!(
        judge(&r, &objectives(&["error_rate<=100%"])).0,
        Outcome::Fail
    );
}

fn plan(extra: &[&str]) -> Plan {
    use clap::Parser as _;
    let argv = ["bench-client", "find-max", "-o", "/tmp/x"]
        .iter()
        .chain(extra)
        .copied();
    let cli = crate::cli::Cli::try_parse_from(argv).unwrap();
    let Some(crate::cli::Command::FindMax(args)) = cli.command else {
        panic!("not find-max")
    };
    validate(&args).unwrap()
}

#[test]
fn connections_are_sized_for_the_rate_and_the_latency_objective() {
    let p = plan(&["--slo", "p99<100ms", "--slo", "p50<20ms"]);
    assert_eq!(p.latency_bound_s, 0.1);
    // 100 req/s x 0.1 s x 2.
    assert_eq!(p.connections_for(100.0, 1), 20);
    assert_eq!(p.connections_for(1.0, 1), 4, "at least 4");
    assert_eq!(p.connections_for(1.0, 8), 8, "at least one per thread");
    let p = plan(&["--slo", "error_rate<1%"]);
    assert_eq!(p.latency_bound_s, 1.0);
    assert_eq!(p.connections_for(100.0, 1), 200);
    let p = plan(&["--slo", "p99<100ms", "-c", "7"]);
    assert_eq!(p.connections_for(1000.0, 1), 7);
}

#[test]
fn the_defaults_are_the_documented_ones() {
    let p = plan(&["--slo", "p99<100ms"]);
    let s = &p.settings;
    assert_eq!(p.trial_duration, Duration::from_secs(10));
    assert_eq!(p.warmup, Duration::from_secs(2));
    assert_eq!(s.repeats, 3);
    assert_eq!(s.precision, 0.05);
    assert_eq!(s.budget, Duration::from_secs(300));
    assert_eq!(s.growth, 2.0);
    assert_eq!(s.start_rate, 10.0);
}

#[test]
fn bad_objectives_and_settings_are_usage_errors() {
    use clap::Parser as _;
    for (extra, want) in [
        (vec!["--slo", "p99"], "--slo: invalid check 'p99'"),
        (
            vec!["--slo", "generator"],
            "--slo: invalid check 'generator'",
        ),
        (
            vec!["--slo", "p99<1s", "--precision", "0%"],
            "invalid --precision '0%'",
        ),
    ] {
        let argv = ["bench-client", "find-max", "-o", "/tmp/x"]
            .iter()
            .chain(&extra)
            .copied();
        let cli = crate::cli::Cli::try_parse_from(argv).unwrap();
        let Some(crate::cli::Command::FindMax(args)) = cli.command else {
            panic!()
        };
        let e = match validate(&args) {
            Ok(_) => panic!("{extra:?} accepted"),
            Err(e) => e,
        };
        assert!(format!("{e:#}").starts_with(want), "{e:#}");
        assert_eq!(exit::status_of(&e), exit::USAGE);
    }
}

#[test]
fn rates_name_files_without_trailing_zeros() {
    assert_eq!(rate_name(40.0), "40");
    assert_eq!(rate_name(97.5), "97.5");
    assert_eq!(rate_name(33.333), "33.33");
}
