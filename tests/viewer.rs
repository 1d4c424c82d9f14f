//! The viewer as a person would use it, under a virtual display (Xvfb with Mesa's software
//! OpenGL): it opens, draws 64 envs, follows a pendulum training run (scene, curves, loss
//! landscape), opens the finished run, and shows a damaged checkpoint, missing curves and a seed
//! stopped by the NaN guard as messages instead of crashing. Each screenshot must show a picture, not a blank window.
//!
//! Needs `xvfb-run` (Debian: `apt-get install xvfb xauth`; `.ci/run` installs it).
#![cfg(feature = "viewer")]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

/// The shared tiny run, three epochs long.
fn tiny() -> Vec<&'static str> {
    common::TINY.iter().map(|s| if s.starts_with("run.env_steps") { "run.env_steps=300" } else { s }).collect()
}

fn temp(name: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("vagram-viewer-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&p);
    p
}

/// Runs `vagram ARGS` under xvfb-run; returns the exit code and stderr.
fn view(args: &[&str]) -> (i32, String) {
    let found = Command::new("xvfb-run").arg("--help").output().is_ok();
    assert!(found, "these tests need xvfb-run: apt-get install xvfb xauth (see .ci/run)");
    let out = Command::new("xvfb-run")
        .args(["-a", "-s", "-screen 0 1280x800x24", env!("CARGO_BIN_EXE_vagram")])
        .args(args)
        .output()
        .expect("run xvfb-run");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into())
}

/// Distinct colours of a PNG screenshot (a blank window has one or two).
fn colours(path: &Path) -> usize {
    let decoder = png::Decoder::new(std::io::BufReader::new(fs::File::open(path).expect("the screenshot exists")));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size().expect("sized")];
    let info = reader.next_frame(&mut buf).expect("one frame");
    assert_eq!((info.width, info.height), (1280, 800));
    vagram_viz::screenshot::distinct_colors(&buf[..info.buffer_size()])
}

#[test]
fn sixty_four_envs_are_drawn() {
    let shot = temp("envs.png");
    let (code, err) = view(&["view", "--env", "hopper", "--envs", "64", "--seconds", "3", "--screenshot", shot.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("screenshot written"), "{err}");
    assert!(colours(&shot) > 20, "the screenshot is blank");
}

#[test]
fn the_viewer_follows_training_and_opens_the_finished_run() {
    let (run, shot) = (temp("run"), temp("train.png"));
    let mut args = vec!["view", "--seconds", "12", "--screenshot", shot.to_str().unwrap(), "--page", "curves"];
    args.extend(["--train", "--env", "pendulum", "--loss", "vagram", "--seeds", "2", "--quiet", "--out", run.to_str().unwrap()]);
    for s in tiny() {
        args.extend(["--set", s]);
    }
    let (code, err) = view(&args);
    assert_eq!(code, 0, "{err}");
    assert!(colours(&shot) > 20, "the screenshot is blank");
    for seed in [0, 1] {
        let metrics = fs::read_to_string(run.join(format!("seed-{seed}/metrics.csv"))).expect("training wrote its metrics");
        assert_eq!(metrics.lines().count(), 4, "header and three epochs: watching does not stop training");
    }

    // Open it: curves and the policy of seed 1, no messages.
    let shot2 = temp("open.png");
    let (code, err) = view(&[
        "view",
        run.to_str().unwrap(),
        "--policy-seed",
        "1",
        "--envs",
        "4",
        "--seconds",
        "3",
        "--screenshot",
        shot2.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("policy not loaded"), "{err}");
    assert!(colours(&shot2) > 20, "the screenshot is blank");

    // Damage seed 0's checkpoint: the viewer still opens and says what is wrong.
    let seed0 = run.join("seed-0");
    let tensors =
        fs::read_dir(&seed0).unwrap().flatten().map(|e| e.path()).find(|p| p.extension().is_some_and(|x| x == "safetensors")).unwrap();
    let mut bytes = fs::read(&tensors).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    fs::write(&tensors, bytes).unwrap();
    fs::remove_file(run.join("seed-1/metrics.csv")).unwrap();
    // And mark seed 1 as stopped by the NaN guard, as `vagram train` records it.
    let nan = "epoch 2: agent update at env step 212: non-finite SAC loss";
    fs::write(run.join("seed-1/status.toml"), format!("state = \"stopped\"\nepochs = 2\nmessage = \"{nan}\"\n")).unwrap();
    let (code, err) = view(&["view", run.to_str().unwrap(), "--envs", "4", "--seconds", "2"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("policy not loaded") && err.contains("CRC-32 mismatch"), "{err}");
    assert!(err.contains("seed 1: no curves"), "{err}");
    assert!(err.contains(&format!("seed 1 stopped: {nan}")), "{err}");
}
