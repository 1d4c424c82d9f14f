//! The CPU fast path against dfdx's autodiff graph (the reference path), and its `exp`.

use super::elementwise::exp;
use dfdx::prelude::TensorFromVec;

use super::{Wants, cpu, reference};
use crate::{Activation, Bf16Path, EnsembleMlp, Matmul, TestDevice};

fn inputs(len: usize, seed: u32) -> Vec<f32> {
    (0..len).map(|i| (((i as u32).wrapping_mul(2_654_435_761).wrapping_add(seed) >> 8) as f32 / 16_777_216.0) * 4.0 - 2.0).collect()
}

fn close(what: &str, got: &[f32], want: &[f32], tol: f32) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= tol * (1.0 + w.abs()), "{what}[{i}]: fast {g} vs reference {w}");
    }
}

/// Shapes covering one and many members, linear and deep nets, both activations, and row
/// counts that do and do not get cut into blocks.
fn cases() -> Vec<(usize, Vec<usize>, Activation, usize)> {
    vec![
        (7, vec![32, 32, 32], Activation::Silu, 70),
        (7, vec![24, 24], Activation::Silu, 150),
        (2, vec![48, 48], Activation::Relu, 200),
        (1, vec![40, 40], Activation::Relu, 130),
        (1, vec![40], Activation::Silu, 1),
        (5, vec![], Activation::Silu, 9),
        (3, vec![16], Activation::Silu, 3),
    ]
}

#[test]
fn fast_forward_equals_the_autodiff_graph() {
    let dev = TestDevice::seed_from_u64(0);
    for (e, hidden, act, rows) in cases() {
        let net = EnsembleMlp::new(&dev, e, 6, &hidden, 3, act, 11);
        let x = inputs(e * rows * 6, 1);
        close(&format!("{e}×{hidden:?} {act:?} rows {rows}"), &cpu::infer(&net, &x), &reference::infer(&net, &x), 1e-5);
    }
}

#[test]
fn fast_gradients_equal_the_autodiff_graph() {
    let dev = TestDevice::seed_from_u64(0);
    // 6 inputs and 3 outputs for every case; then one input or one output (scalar layers take
    // their own path: dot products instead of gemm).
    let widths = cases().into_iter().map(|c| (c, 6, 3)).chain([
        ((2, vec![48, 48], Activation::Relu, 200), 6, 1),
        ((1, vec![40], Activation::Silu, 130), 1, 3),
        ((3, vec![], Activation::Relu, 9), 1, 1),
        // Above the parallel threshold (125k parameters): the gradients are gathered in chunks
        // across threads, 40,000-value layers cut into several, the middle member's two row
        // blocks summed.
        ((3, vec![200, 200], Activation::Silu, 150), 6, 3),
    ]);
    for ((e, hidden, act, rows), ins, outs) in widths {
        let net = EnsembleMlp::new(&dev, e, ins, &hidden, outs, act, 12);
        let x = inputs(e * rows * ins, 2);
        let d_out = inputs(e * rows * outs, 3);
        let both = Wants { params: true, input: true };
        let fast = cpu::forward_backward::<()>(&net, &x, both, |_| Ok(d_out.clone())).unwrap();
        let slow = reference::forward_backward::<_, ()>(&net, &x, both, |_| Ok(d_out.clone())).unwrap();
        let case = format!("{e}×{hidden:?} {act:?} rows {rows}, {ins} in, {outs} out");
        close(&format!("{case} outputs"), &fast.outputs, &slow.outputs, 1e-5);
        close(&format!("{case} input gradient"), fast.input.as_ref().unwrap(), slow.input.as_ref().unwrap(), 1e-4);
        let (fg, sg) = (fast.params.unwrap(), slow.params.unwrap());
        for (l, layer) in net.layers().iter().enumerate() {
            close(&format!("{case} layer {l} weight"), &fg.get(&layer.weight).as_vec(), &sg.get(&layer.weight).as_vec(), 1e-4);
            close(&format!("{case} layer {l} bias"), &fg.get(&layer.bias).as_vec(), &sg.get(&layer.bias).as_vec(), 1e-4);
        }
    }
}

#[test]
fn one_pass_input_gradient_equals_backpropagating_ones() {
    let dev = TestDevice::seed_from_u64(0);
    for (e, hidden, act, rows) in cases() {
        let net = EnsembleMlp::new(&dev, e, 6, &hidden, 1, act, 13);
        let x = inputs(e * rows * 6, 4);
        let (outputs, grads) = cpu::input_gradient(&net, &x);
        let ones = cpu::forward_backward::<()>(&net, &x, Wants::INPUT, |y| Ok(vec![1.0; y.len()])).unwrap();
        assert_eq!(outputs, ones.outputs, "{e}×{hidden:?} outputs");
        assert_eq!(grads, ones.input.unwrap(), "{e}×{hidden:?} input gradients");
        let slow = reference::forward_backward::<_, ()>(&net, &x, Wants::INPUT, |y| Ok(vec![1.0; y.len()])).unwrap();
        close(&format!("{e}×{hidden:?} vs graph"), &grads, slow.input.as_ref().unwrap(), 1e-4);
    }
}

#[test]
fn gradients_asked_for_are_the_only_ones_given() {
    let dev = TestDevice::seed_from_u64(0);
    let net = EnsembleMlp::new(&dev, 2, 4, &[8], 1, Activation::Silu, 3);
    let x = inputs(2 * 5 * 4, 4);
    let only_input = cpu::forward_backward::<()>(&net, &x, Wants::INPUT, |y| Ok(vec![1.0; y.len()])).unwrap();
    assert!(only_input.params.is_none() && only_input.input.as_ref().is_some_and(|g| g.len() == x.len()));
    let only_params = cpu::forward_backward::<()>(&net, &x, Wants::PARAMS, |y| Ok(vec![1.0; y.len()])).unwrap();
    assert!(only_params.input.is_none() && only_params.params.is_some());
    // An empty batch is an empty answer (dfdx's own graph panics on it).
    assert!(cpu::infer(&net, &[]).is_empty());
}

#[test]
fn the_loss_closure_error_stops_the_pass() {
    let dev = TestDevice::seed_from_u64(0);
    let net = EnsembleMlp::new(&dev, 2, 4, &[8], 1, Activation::Silu, 3);
    let err = cpu::forward_backward(&net, &inputs(2 * 3 * 4, 5), Wants::PARAMS, |_| Err("bad loss")).err();
    assert_eq!(err, Some("bad loss"));
}

#[test]
fn repeated_passes_are_bit_identical() {
    // Units run on whichever rayon thread is free; the sums must not depend on that.
    let dev = TestDevice::seed_from_u64(0);
    let net = EnsembleMlp::new(&dev, 2, 10, &[64, 64], 1, Activation::Relu, 4);
    let x = inputs(2 * 256 * 10, 6);
    let pass = || {
        let p = cpu::forward_backward::<()>(&net, &x, Wants::PARAMS, |y| Ok(y.to_vec())).unwrap();
        let g = p.params.unwrap();
        net.layers().iter().flat_map(|l| g.get(&l.weight).as_vec()).collect::<Vec<f32>>()
    };
    let first = pass();
    for _ in 0..5 {
        assert!(pass() == first, "a repeated pass gave different gradients");
    }
}

#[test]
fn vectorised_exp_matches_libm() {
    let mut worst = 0.0f32;
    for i in 0..=200_000 {
        let x = -87.0 + 175.0 * i as f32 / 200_000.0;
        let rel = ((exp(x) - x.exp()) / x.exp()).abs();
        worst = worst.max(rel);
    }
    assert!(worst < 4e-7, "worst relative error {worst}");
    assert_eq!(exp(0.0), 1.0);
    // Far outside the range it saturates instead of overflowing into inf or NaN.
    assert!(exp(500.0).is_finite() && exp(-500.0) >= 0.0 && exp(-500.0) < 1e-37);
}

#[test]
fn polyak_averaging_is_the_same_on_both_paths() {
    let dev = TestDevice::seed_from_u64(0);
    let src = EnsembleMlp::new(&dev, 2, 5, &[7], 1, Activation::Relu, 1);
    let start = EnsembleMlp::new(&dev, 2, 5, &[7], 1, Activation::Relu, 2);
    let (mut fast, mut graph) = (start.clone(), start.clone());
    super::cpu_update::polyak(&mut fast, &src, 0.1);
    reference::polyak(&mut graph, &src, 0.1);
    for ((f, g), (s, o)) in fast.layers().iter().zip(graph.layers()).zip(src.layers().iter().zip(start.layers())) {
        let want: Vec<f32> = s.weight.as_vec().iter().zip(o.weight.as_vec()).map(|(s, o)| 0.1 * s + 0.9 * o).collect();
        close("fast weights", &f.weight.as_vec(), &want, 1e-7);
        close("graph weights", &g.weight.as_vec(), &want, 1e-7);
        close("biases", &f.bias.as_vec(), &g.bias.as_vec(), 1e-7);
    }
}

/// bf16 matmuls on this machine's fastest path (AMX tiles, AVX512_BF16 or the emulation)
/// against f32: the same nets and data, agreeing to bf16's precision, and bit-identical from
/// one run to the next. Every hardware path the machine has is also checked against the
/// emulation (the same rounded operands, sums in another order).
#[test]
fn bf16_passes_agree_with_f32_to_bf16_precision_and_repeat_exactly() {
    let dev = TestDevice::seed_from_u64(0);
    let hardware: Vec<Bf16Path> = [Bf16Path::Amx, Bf16Path::Avx512Bf16].into_iter().filter(|p| p.runs_here()).collect();
    eprintln!("bf16 products on {} here; hardware paths checked against the emulation: {hardware:?}", Bf16Path::fastest());
    for (e, hidden, act, rows) in
        [(7, vec![200, 200], Activation::Silu, 256), (2, vec![512, 512], Activation::Relu, 256), (1, vec![40, 40], Activation::Relu, 130)]
    {
        let f32_net = EnsembleMlp::new(&dev, e, 14, &hidden, 12, act, 5);
        let bf16_net = f32_net.clone().with_matmul(Matmul::Bf16).with_bf16_path(Bf16Path::fastest());
        let x = inputs(e * rows * 14, 4);
        let d_out = inputs(e * rows * 12, 5);
        let both = Wants { params: true, input: true };
        let run = |net: &EnsembleMlp<TestDevice>| cpu::forward_backward::<()>(net, &x, both, |_| Ok(d_out.clone())).unwrap();
        let (exact, rounded, again) = (run(&f32_net), run(&bf16_net), run(&bf16_net));
        let emulated = run(&bf16_net.clone().with_bf16_path(Bf16Path::Emulated));
        for &path in &hardware {
            let on_path = run(&bf16_net.clone().with_bf16_path(path));
            let pairs = [(&on_path.outputs, &emulated.outputs), (on_path.input.as_ref().unwrap(), emulated.input.as_ref().unwrap())];
            for (what, (fast, emulation)) in ["outputs", "input gradients"].iter().zip(pairs) {
                let scale = emulation.iter().fold(0f32, |m, v| m.max(v.abs()));
                let worst = fast.iter().zip(emulation.iter()).fold(0f32, |m, (t, e)| m.max((t - e).abs()));
                eprintln!("{e}×{hidden:?} {what}: {path} vs emulation, worst difference {worst:.2e} of {scale:.2e}");
                assert!(worst <= 2e-3 * scale, "{e}×{hidden:?} {what}: {path} vs emulation {worst} of {scale}");
            }
            let (fast, emulation) = (on_path.params.as_ref().unwrap(), emulated.params.as_ref().unwrap());
            for (layer, l) in bf16_net.layers().iter().enumerate() {
                let (g, w) = (fast.get(&l.weight).as_vec(), emulation.get(&l.weight).as_vec());
                let scale = w.iter().fold(0f32, |m, v| m.max(v.abs()));
                let worst = g.iter().zip(&w).fold(0f32, |m, (a, b)| m.max((a - b).abs()));
                assert!(worst <= 2e-3 * scale, "{e}×{hidden:?} layer {layer} weight gradient: {path} vs emulation {worst} of {scale}");
            }
        }
        let case = format!("{e}×{hidden:?} {act:?} rows {rows}");
        // Root-mean-square difference against the values' own RMS: bf16 keeps 8 significant
        // bits (2⁻⁹ ≈ 0.2% per operand), every layer rounds again, and sums with mixed signs
        // cancel. Measured: outputs 0.4%; the 200-wide SiLU ensemble's gradients 0.4–1.3%; the
        // 512-wide ReLU critic's, under random output gradients that mostly cancel, 6% (input)
        // and up to 13% (first-layer weights). A wrong layout or operand gives over 100%.
        let agree = |what: &str, got: &[f32], want: &[f32], bound: f64| {
            let rms = |v: &mut dyn Iterator<Item = f32>| {
                let (sum, n) = v.fold((0f64, 0usize), |(s, n), x| (s + f64::from(x) * f64::from(x), n + 1));
                (sum / n as f64).sqrt()
            };
            let scale = rms(&mut want.iter().copied());
            let error = rms(&mut got.iter().zip(want).map(|(g, w)| g - w));
            eprintln!("{case} {what}: RMS difference {:.2}% of the RMS", 100.0 * error / scale);
            assert!(error <= bound * scale, "{case} {what}: RMS difference {error} against RMS {scale}");
            assert!(error > 0.0, "{case} {what}: bf16 gave f32's exact values, so it did not round");
        };
        agree("outputs", &rounded.outputs, &exact.outputs, 0.02);
        agree("input gradients", rounded.input.as_ref().unwrap(), exact.input.as_ref().unwrap(), 0.2);
        for (layer, (r, x)) in bf16_net.layers().iter().zip(f32_net.layers()).enumerate() {
            let (gr, gx) = (rounded.params.as_ref().unwrap(), exact.params.as_ref().unwrap());
            agree(&format!("layer {layer} weight gradient"), &gr.get(&r.weight).as_vec(), &gx.get(&x.weight).as_vec(), 0.2);
        }
        assert_eq!(
            rounded.outputs.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            again.outputs.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            "{case}: a second bf16 run differs"
        );
        assert_eq!(
            rounded.input.unwrap().iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            again.input.unwrap().iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
    }
}

/// Every bf16 path this machine runs (and f32) gives the same bits on 1, 2 and 3 threads: a
/// pass is cut by the shapes alone, and each product is one thread's work.
#[test]
fn passes_are_bit_identical_on_any_thread_count() {
    let dev = TestDevice::seed_from_u64(0);
    let paths = [Bf16Path::Amx, Bf16Path::Avx512Bf16, Bf16Path::Emulated].into_iter().filter(|p| p.runs_here());
    let settings = std::iter::once((Matmul::F32, Bf16Path::Emulated)).chain(paths.map(|p| (Matmul::Bf16, p)));
    for (matmul, path) in settings {
        // A single net cut into row blocks, and an ensemble of 200-wide members.
        for (e, hidden, rows) in [(1, vec![512, 512], 256), (7, vec![200, 200], 128)] {
            let net = EnsembleMlp::new(&dev, e, 14, &hidden, 12, Activation::Silu, 9).with_matmul(matmul).with_bf16_path(path);
            let x = inputs(e * rows * 14, 2);
            let d_out = inputs(e * rows * 12, 3);
            let bits = |threads: usize| {
                crate::compute_pool::run_on_pool(threads, || {
                    let p =
                        cpu::forward_backward::<()>(&net.clone(), &x, Wants { params: true, input: true }, |_| Ok(d_out.clone())).unwrap();
                    let grads = p.params.unwrap();
                    let weights: Vec<f32> = net.layers().iter().flat_map(|l| grads.get(&l.weight).as_vec()).collect();
                    [p.outputs, p.input.unwrap(), weights].map(|v| v.iter().map(|x| x.to_bits()).collect::<Vec<u32>>())
                })
                .unwrap()
            };
            let one = bits(1);
            for threads in [2, 3] {
                assert!(bits(threads) == one, "{matmul} on {path}, {e}×{hidden:?}: {threads} threads differ from one");
            }
        }
    }
}

/// The CPU path keeps a host copy of the parameters and packed bf16 weights between passes;
/// every way of changing the parameters must drop them. After each change, a pass must equal
/// the same pass on a clone (which starts with nothing kept) and differ from the pass before.
#[test]
fn passes_see_every_parameter_change() {
    use crate::{Adam, AdamConfig};
    let dev = TestDevice::seed_from_u64(0);
    for matmul in [Matmul::F32, Matmul::Bf16] {
        // 2 × 128 rows: the middle member's rows are cut into blocks that share kept weights.
        // 126k parameters: Adam updates the kept host copy in parallel chunks and keeps it.
        let mut net = EnsembleMlp::new(&dev, 3, 6, &[200, 200], 4, Activation::Silu, 3).with_matmul(matmul);
        let x = inputs(3 * 128 * 6, 7);
        let d_out = inputs(3 * 128 * 4, 8);
        let both = Wants { params: true, input: true };
        let pass = |net: &EnsembleMlp<TestDevice>| {
            let p = net.forward_backward_with(&x, both, |_| d_out.clone());
            let grads: Vec<f32> = net.layers().iter().flat_map(|l| p.params.as_ref().unwrap().get(&l.weight).as_vec()).collect();
            (p.outputs, p.input.unwrap(), grads)
        };
        let mut last = pass(&net);
        assert_eq!(pass(&net), last, "{matmul}: a repeated pass (kept data) equals the first");
        let check = |net: &EnsembleMlp<TestDevice>, last: &mut (Vec<f32>, Vec<f32>, Vec<f32>), change: &str| {
            let now = pass(net);
            assert_eq!(now, pass(&net.clone()), "{matmul}, after {change}: kept data is stale");
            assert_ne!(now.0, last.0, "{matmul}, after {change}: the outputs did not change");
            *last = now;
        };
        let mut adam = Adam::new(&net, AdamConfig { lr: 1e-2, ..AdamConfig::default() });
        let mut grads = net.backprop_output_gradient(&x, &d_out);
        adam.step(&mut net, &mut grads);
        check(&net, &mut last, "an Adam step");
        let other = EnsembleMlp::new(&dev, 3, 6, &[200, 200], 4, Activation::Silu, 4);
        net.polyak_from(&other, 0.5);
        check(&net, &mut last, "Polyak averaging");
        let bias = dev.tensor_from_vec(vec![1.0f32; 3 * 200], (3, 200));
        net.layers_mut()[1].bias = bias;
        check(&net, &mut last, "a change through layers_mut");
    }
}

/// `VAGRAM_BF16_PATH`'s values: unset or empty is the fastest path, a path this machine runs is
/// taken, an unknown name or a missing path is refused naming what this machine can run.
#[test]
fn a_forced_bf16_path_is_taken_or_refused_with_the_paths_this_machine_runs() {
    use crate::matmul::Bf16PathError;
    assert_eq!(Bf16Path::from_setting(None).unwrap(), Bf16Path::fastest());
    assert_eq!(Bf16Path::from_setting(Some("")).unwrap(), Bf16Path::fastest());
    assert_eq!(Bf16Path::from_setting(Some("emulated")).unwrap(), Bf16Path::Emulated);
    assert!(Bf16Path::Emulated.runs_here(), "the emulation runs everywhere");
    let fastest = Bf16Path::fastest();
    assert!(fastest.runs_here());
    assert_eq!(Bf16Path::from_setting(Some(fastest.name())).unwrap(), fastest);
    let err = Bf16Path::from_setting(Some("avx2")).unwrap_err();
    assert!(matches!(err, Bf16PathError::Unknown(_)) && err.to_string().contains("'avx2'"), "{err}");
    for path in [Bf16Path::Amx, Bf16Path::Avx512Bf16].into_iter().filter(|p| !p.runs_here()) {
        let err = Bf16Path::from_setting(Some(path.name())).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("VAGRAM_BF16_PATH") && text.contains("cannot run") && text.contains("emulated"), "{text}");
        let can = text.split("it can run: ").nth(1).expect("the paths this machine runs");
        assert!(!can.split([',', ' ', ')']).any(|name| name == path.name()), "{text}");
    }
}
