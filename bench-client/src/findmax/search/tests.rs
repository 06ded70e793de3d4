//! The search against simulated servers: a capacity known by construction,
//! a flaky boundary, a generator that runs out, a budget.

use super::*;

fn settings() -> Settings {
    Settings {
        start_rate: 10.0,
        growth: 2.0,
        precision: 0.05,
        repeats: 3,
        max_rate: 1e6,
        min_rate: 1.0,
        budget: Duration::from_secs(3600),
        trial_cost: Duration::from_secs(12),
        threads: 1,
        max_threads: 4,
    }
}

/// One trial as the driver records it.
#[derive(Debug, Clone, PartialEq)]
struct Trial {
    rate: f64,
    threads: u32,
    outcome: Outcome,
}

/// Runs a search against `server(rate, threads, trial index)` to its end.
fn simulate(
    settings: Settings,
    mut server: impl FnMut(f64, u32, usize) -> Outcome,
) -> (Answer, Vec<Trial>) {
    let cost = settings.trial_cost;
    let mut search = Search::new(settings);
    let mut trials = Vec::new();
    loop {
        match search.next(cost * trials.len() as u32) {
            Step::Trial { rate, threads } => {
                let outcome = server(rate, threads, trials.len());
                trials.push(Trial {
                    rate,
                    threads,
                    outcome,
                });
                search.record(outcome);
                assert!(trials.len() < 200, "the search does not end: {trials:?}");
            }
            Step::Done(answer) => {
                // Asked again, it says the same.
                assert_eq!(search.next(Duration::ZERO), Step::Done(answer.clone()));
                return (answer, trials);
            }
        }
    }
}

/// A server that meets the objective up to `capacity` req/s.
fn capacity(capacity: f64) -> impl FnMut(f64, u32, usize) -> Outcome {
    move |rate, _, _| {
        if rate <= capacity {
            Outcome::Pass
        } else {
            Outcome::Fail
        }
    }
}

/// Every trial at `rate` in `trials`, with their outcomes.
fn at(trials: &[Trial], rate: f64) -> Vec<Outcome> {
    trials
        .iter()
        .filter(|t| t.rate == rate)
        .map(|t| t.outcome)
        .collect()
}

#[test]
fn grows_geometrically_then_brackets_and_narrows_to_the_precision() {
    for cap in [100.0, 50.0, 37.0, 1234.0] {
        let (a, trials) = simulate(settings(), capacity(cap));
        assert_eq!(a.stop, Stop::Converged, "{cap}: {trials:?}");
        let low = a.max_rate.unwrap();
        let high = a.high.unwrap();
        assert!(low <= cap && cap < high, "{cap}: [{low}, {high}]");
        assert!(high <= low * 1.05, "{cap}: [{low}, {high}] wider than 5 %");
        assert_eq!(a.low, low);
        // The answer passed every one of at least `repeats` trials.
        let answer_trials = at(&trials, low);
        assert!(answer_trials.len() >= 3, "{cap}: {answer_trials:?}");
        assert!(answer_trials.iter().all(|o| *o == Outcome::Pass));
        // Growth: 10, 20, 40, ... one trial each until the first failure.
        let first_fail = trials
            .iter()
            .position(|t| t.outcome == Outcome::Fail)
            .unwrap();
        for (i, t) in trials[..first_fail].iter().enumerate() {
            assert_eq!(t.rate, 10.0 * 2f64.powi(i as i32), "{cap}: {trials:?}");
        }
    }
}

#[test]
fn a_capacity_below_the_start_rate_is_searched_downwards() {
    let (a, trials) = simulate(settings(), capacity(3.3));
    assert_eq!(a.stop, Stop::Converged, "{trials:?}");
    assert_eq!(trials[0].rate, 10.0);
    assert_eq!(trials[1].rate, 5.0);
    assert_eq!(trials[2].rate, 2.5);
    let low = a.max_rate.unwrap();
    assert!((3.3 / 1.05..=3.3).contains(&low), "{a:?}");
}

#[test]
fn nothing_passing_down_to_the_minimum_is_no_capacity() {
    let (a, trials) = simulate(settings(), capacity(0.5));
    assert_eq!(a.stop, Stop::NothingPassed);
    assert_eq!(a.max_rate, None);
    assert_eq!(a.low, 0.0);
    assert!(trials.iter().all(|t| t.rate >= 1.0), "{trials:?}");
}

#[test]
fn a_low_end_that_fails_its_confirmation_gives_way_to_the_one_below() {
    // 80 passed once while growing, then fails when repeated; 40 holds.
    let (a, trials) = simulate(settings(), |rate, _, i| {
        if rate <= 40.0 || (rate == 80.0 && i < 4) {
            Outcome::Pass
        } else {
            Outcome::Fail
        }
    });
    assert_eq!(a.stop, Stop::Converged, "{trials:?}");
    let low = a.max_rate.unwrap();
    assert!((40.0 / 1.05..=40.0).contains(&low), "{a:?} {trials:?}");
    assert!(at(&trials, 80.0).contains(&Outcome::Fail));
}

#[test]
fn a_flaky_rate_near_the_boundary_is_not_capacity() {
    // Up to 90 always passes; from 90 to 100 every third trial fails.
    let (a, trials) = simulate(settings(), |rate, _, i| {
        if rate <= 90.0 || (rate <= 100.0 && i % 3 != 0) {
            Outcome::Pass
        } else {
            Outcome::Fail
        }
    });
    let low = a.max_rate.unwrap();
    let answer = at(&trials, low);
    assert!(answer.len() >= 3 && answer.iter().all(|o| *o == Outcome::Pass));
    assert!(low <= 100.0, "{a:?}");
}

#[test]
fn the_budget_stops_the_search_with_the_best_so_far() {
    let mut s = settings();
    s.budget = Duration::from_secs(60); // five 12 s trials
    let (a, trials) = simulate(s, capacity(100.0));
    assert_eq!(a.stop, Stop::Budget);
    assert_eq!(trials.len(), 5, "{trials:?}");
    // 10, 20, 40, 80 passed, 160 failed: the interval so far.
    assert_eq!(a.max_rate, Some(80.0));
    assert_eq!(a.high, Some(160.0));
    // No time for even one trial: no answer.
    let mut s = settings();
    s.budget = Duration::from_secs(5);
    let (a, trials) = simulate(s, capacity(100.0));
    assert_eq!((a.stop, a.max_rate, trials.len()), (Stop::Budget, None, 0));
}

#[test]
fn invalid_trials_add_threads_and_are_never_capacity() {
    // The generator offers 50 req/s per thread validly; the server takes 1000.
    let generator = |rate: f64, threads: u32, _| {
        if rate > 50.0 * threads as f64 {
            Outcome::Invalid
        } else if rate <= 1000.0 {
            Outcome::Pass
        } else {
            Outcome::Fail
        }
    };
    let (a, trials) = simulate(settings(), generator);
    assert_eq!(a.stop, Stop::Generator, "{trials:?}");
    // 80 was invalid on one thread and passed on two; 160 needed four, the
    // most; 320 was invalid even then.
    assert_eq!(
        trials
            .iter()
            .map(|t| (t.rate, t.threads, t.outcome))
            .collect::<Vec<_>>(),
        [
            (10.0, 1, Outcome::Pass),
            (20.0, 1, Outcome::Pass),
            (40.0, 1, Outcome::Pass),
            (80.0, 1, Outcome::Invalid),
            (80.0, 2, Outcome::Pass),
            (160.0, 2, Outcome::Invalid),
            (160.0, 4, Outcome::Pass),
            (320.0, 4, Outcome::Invalid),
        ]
    );
    assert_eq!(a.max_rate, Some(160.0));
    assert_eq!(a.high, None, "an invalid trial is no failure either");
}

#[test]
fn the_maximum_rate_caps_the_growth() {
    let mut s = settings();
    s.max_rate = 100.0;
    let (a, trials) = simulate(s, capacity(f64::INFINITY));
    assert_eq!(a.stop, Stop::MaxRate);
    assert_eq!(a.max_rate, Some(100.0));
    assert_eq!(trials.last().unwrap().rate, 100.0);
}
