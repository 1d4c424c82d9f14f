//! The packed bf16 products, on every hardware path this machine has, against a
//! double-precision reference.

use super::*;
use crate::kernels::bf16::round_to_bf16;

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
fn packed_products_match_a_double_precision_sum_of_the_rounded_operands() {
    let paths: Vec<Bf16Path> = [Bf16Path::Amx, Bf16Path::Avx512Bf16].into_iter().filter(|&p| supports(p)).collect();
    eprintln!("packed bf16 paths on this machine: {paths:?} (the emulation is tested in kernels::tests)");
    for path in paths {
        products_match_the_reference(path);
    }
}

fn products_match_the_reference(path: Bf16Path) {
    let value = |s: usize| ((s.wrapping_mul(2_654_435_761) % 1000) as f32 / 500.0) - 1.0;
    // NaN left in this thread's packing buffers and in the spare tile buffers: a padded value
    // that the packing fails to zero then turns results into NaN (0 · NaN is NaN).
    let poison = vec![f32::NAN; 512 * 512];
    product(path, (512, 512, 512), (&poison, 512, 1), (&poison, 512, 1), Order::RowMajor, &mut vec![0.0; 512 * 512]);
    drop(pack_lhs(512, 512, (&poison, 512, 1)));
    // Shapes with every kind of edge: below one tile, exact blocks, odd depths; then again from
    // the largest down, so that padded operands are packed into buffers that held a larger
    // product's values.
    let shapes = [(1, 1, 1), (5, 7, 3), (16, 16, 32), (32, 32, 64), (33, 47, 65), (256, 200, 14), (200, 256, 512), (201, 199, 203)];
    for &(m, n, k) in shapes.iter().chain(shapes.iter().rev()) {
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
            // `None`: `product` in that order; `Some`: the left operand packed once beforehand.
            for (order, packed) in [(Order::RowMajor, None), (Order::ColumnMajor, None), (Order::RowMajor, Some(pack_lhs(m, k, lhs)))] {
                let mut dst = vec![f32::NAN; m * n];
                match &packed {
                    None => product(path, (m, n, k), lhs, rhs, order, &mut dst),
                    Some(packed) => product_with_packed_lhs(path, n, packed, rhs, &mut dst),
                }
                for i in 0..m {
                    for j in 0..n {
                        let got = match order {
                            Order::RowMajor => dst[i * n + j],
                            Order::ColumnMajor => dst[j * m + i],
                        };
                        let want = expected[i * n + j];
                        assert!(
                            (f64::from(got) - want).abs() <= 1e-5 * (k as f64).sqrt() * (1.0 + want.abs()),
                            "{path}: {m}×{n}×{k} {order:?} (lhs packed first: {}) [{i},{j}]: {got} vs {want}",
                            packed.is_some()
                        );
                    }
                }
            }
        }
    }
}
