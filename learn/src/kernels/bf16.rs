//! bfloat16 rounding for [`Matmul::Bf16`](crate::Matmul::Bf16), on every target: 8
//! significant bits, f32's exponent range, round to nearest even (the `half` crate's
//! conversion). The packed kernels (`super::packed`, x86-64: AMX tiles or AVX512_BF16) round
//! with these rules in hardware; the emulation rounds the operands with [`round_operand`] and
//! multiplies them with the f32 gemm.

/// `x` rounded to the nearest bfloat16 (ties to even), as its 16 bits; NaN stays NaN.
pub fn to_bf16(x: f32) -> u16 {
    half::bf16::from_f32(x).to_bits()
}

/// `x` rounded to the nearest bfloat16, as an f32.
pub fn round_to_bf16(x: f32) -> f32 {
    f32::from_bits(u32::from(to_bf16(x)) << 16)
}

/// A matrix operand: `(data, row stride, column stride)`, so transposes are free (the CPU path
/// uses it for its f32 products too).
pub type Operand<'a> = (&'a [f32], usize, usize);

/// A `rows × cols` operand rounded to bf16 values, row-major, for the f32 fallback.
pub fn round_operand((data, rs, cs): Operand, rows: usize, cols: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(rows * cols);
    for r in 0..rows {
        out.extend((0..cols).map(|c| round_to_bf16(data[r * rs + c * cs])));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_is_to_nearest_even_and_keeps_specials() {
        assert_eq!(round_to_bf16(1.0), 1.0);
        // 1 + 2^-8 lies halfway between 1 and 1 + 2^-7: ties go to the even neighbour, 1.
        assert_eq!(round_to_bf16(1.0 + 2f32.powi(-8)), 1.0);
        assert_eq!(round_to_bf16(1.0 + 3.0 * 2f32.powi(-8)), 1.0 + 2f32.powi(-6));
        assert_eq!(round_to_bf16(f32::INFINITY), f32::INFINITY);
        assert!(round_to_bf16(f32::NAN).is_nan());
        assert!(round_to_bf16(-f32::NAN).is_nan());
        assert_eq!(round_to_bf16(-0.0).to_bits(), (-0.0f32).to_bits());
        for x in [0.1f32, -3.7, 1e-30, 6.5e4, 1e38] {
            assert!((round_to_bf16(x) - x).abs() <= x.abs() * 2f32.powi(-8), "{x}");
        }
    }
}
