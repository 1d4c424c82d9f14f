//! The AMX tile product against a double-precision reference.

use super::*;
use crate::learn::kernels::bf16::round_to_bf16;

fn reference(m: usize, n: usize, k: usize, lhs: Operand, rhs: Operand) -> Vec<f64> {
    let mut out = vec![0.0f64; m * n];
    for i in 0..m {
        for j in 0..n {
            out[i * n + j] = (0..k)
                .map(|p| f64::from(round_to_bf16(lhs.0[i * lhs.1 + p * lhs.2])) * f64::from(round_to_bf16(rhs.0[p * rhs.1 + j * rhs.2])))
                .sum();
        }
    }
    out
}

#[test]
fn amx_products_match_a_double_precision_sum_of_the_rounded_operands() {
    if !available() {
        eprintln!("skipped: this machine has no AMX (the f32 fallback is tested in kernels::tests)");
        return;
    }
    let value = |s: usize| ((s.wrapping_mul(2_654_435_761) % 1000) as f32 / 500.0) - 1.0;
    // Shapes with every kind of edge: below one tile, exact blocks, odd depths.
    for (m, n, k) in [(1, 1, 1), (5, 7, 3), (16, 16, 32), (32, 32, 64), (33, 47, 65), (256, 200, 14), (200, 256, 512)] {
        let a: Vec<f32> = (0..m * k).map(|s| value(s + 11)).collect();
        let b: Vec<f32> = (0..k * n).map(|s| value(s + 7_919)).collect();
        // Every stride combination: each operand row-major and column-major.
        for (lhs, rhs) in [
            ((&a[..], k, 1), (&b[..], n, 1)),
            ((&a[..], 1, m), (&b[..], 1, k)),
            ((&a[..], k, 1), (&b[..], 1, k)),
            ((&a[..], 1, m), (&b[..], n, 1)),
        ] {
            let expected = reference(m, n, k, lhs, rhs);
            for order in [Order::RowMajor, Order::ColumnMajor] {
                let mut dst = vec![f32::NAN; m * n];
                product(m, n, k, lhs, rhs, order, &mut dst);
                for i in 0..m {
                    for j in 0..n {
                        let got = match order {
                            Order::RowMajor => dst[i * n + j],
                            Order::ColumnMajor => dst[j * m + i],
                        };
                        let want = expected[i * n + j];
                        assert!(
                            (f64::from(got) - want).abs() <= 1e-5 * (k as f64).sqrt() * (1.0 + want.abs()),
                            "{m}×{n}×{k} {order:?} [{i},{j}]: {got} vs {want}"
                        );
                    }
                }
            }
        }
    }
}
