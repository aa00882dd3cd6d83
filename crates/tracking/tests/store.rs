//! The local run store on its own: runs saved with their files, listed oldest first, an
//! interrupted folder ignored, and the servers a run reached remembered.

#![allow(clippy::unwrap_used)]

use qts_tracking::{Run, RunStore};

fn run(start: i64, name: &str) -> Run {
    let mut r = Run {
        experiment: "qts".into(),
        name: name.into(),
        start_time: start,
        end_time: start + 5,
        status: "FINISHED".into(),
        params: vec![("a".into(), "1".into())],
        ..Run::default()
    };
    r.metric("sharpe", 0.8);
    r.metric("nan", f64::NAN);
    r.metric_at("epoch.loss", 0.5, 3);
    r.inline = vec![("stats.json".into(), b"{}".to_vec())];
    r
}

#[test]
fn runs_round_trip_and_an_interrupted_one_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let store = RunStore::new(dir.path().join("runs"));
    let late = store.save(&run(2_000, "late")).unwrap();
    let early = store.save(&run(1_000, "early")).unwrap();
    // A folder without run.json: a save that died before its last write.
    std::fs::create_dir_all(dir.path().join("runs/1500-deadbeef/artifacts")).unwrap();
    let all = store.list().unwrap();
    let names: Vec<&str> = all.iter().map(|r| r.run.name.as_str()).collect();
    assert_eq!(names, ["early", "late"]);
    let r = store.load(&early).unwrap();
    // Non-finite values are not kept (MLflow's JSON cannot carry them).
    let keys: Vec<&str> = r.run.metrics.iter().map(|m| m.key.as_str()).collect();
    assert_eq!(keys, ["sharpe", "epoch.loss"]);
    assert_eq!(r.run.metrics[1].step, 3);
    assert_eq!(
        std::fs::read(r.folder.join(&r.run.artifacts[0])).unwrap(),
        b"{}"
    );
    assert!(r.sent.is_empty());
    store.mark_sent(&late, "http://x", "abc").unwrap();
    store.mark_sent(&late, "http://x", "def").unwrap();
    let sent = store.load(&late).unwrap().sent;
    assert_eq!(sent.len(), 1, "one record per server");
    assert_eq!(sent[0].server_run_id, "def");
    assert!(matches!(
        store.load("nope"),
        Err(qts_tracking::TrackingError::UnknownRun(_))
    ));
}
