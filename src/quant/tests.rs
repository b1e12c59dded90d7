use super::*;

fn block(f: impl Fn(usize) -> f32) -> [f32; QK] {
    std::array::from_fn(f)
}

/// A deterministic spread of values with a few outliers.
fn wobbly(n: usize, seed: u32) -> Vec<f32> {
    (0..n)
        .map(|i| {
            let t = (i as f32 + seed as f32 * 0.37) * 0.61;
            t.sin() * 0.8 + (t * 3.1).cos() * 0.15 + if i % 29 == 3 { 2.5 } else { 0.0 }
        })
        .collect()
}

#[test]
fn type_table_round_trips_ids_and_names() {
    for &(ty, id, name, _, _) in TYPES {
        assert_eq!(GgmlType::from_id(id), Some(ty));
        assert_eq!(GgmlType::from_name(name), Some(ty));
        assert_eq!(GgmlType::from_name(&name.to_lowercase()), Some(ty));
    }
    assert_eq!(GgmlType::from_id(4), None, "4 was Q4_2, removed from ggml");
    assert_eq!(GgmlType::Q8_0.bits_per_weight(), 8.5);
    assert_eq!(GgmlType::Q4_0.bits_per_weight(), 4.5);
    assert_eq!(GgmlType::Q4_1.bits_per_weight(), 5.0);
    assert_eq!(GgmlType::Q4_0.bytes_for(64), Some(36));
    assert_eq!(GgmlType::Q4_0.bytes_for(33), None);
}

#[test]
fn q8_0_scale_and_rounding() {
    // -16..16: max |x| = 16, d = 16/127, q = round(127 x / 16).
    let x = block(|i| i as f32 - 16.0);
    let b = q8_0_block(&x);
    assert_eq!(f16_at(&b, 0), f16::from_f32(16.0 / 127.0).to_f32());
    let q: Vec<i8> = b[2..].iter().map(|&v| v as i8).collect();
    assert_eq!(q[0], -127);
    assert_eq!(q[16], 0);
    assert_eq!(q[17], 8, "127/16 = 7.94 rounds to 8");
    assert_eq!(q[18], 16, "2·127/16 = 15.875");
    assert_eq!(q[31], 119, "15·127/16 = 119.06");
}

#[test]
fn q8_0_rounds_halves_away_from_zero() {
    // max 127 makes d = 1 exactly, so x·(1/d) = x and 2.5 is an exact half.
    let mut x = [0.0f32; QK];
    x[0] = 127.0;
    x[1] = 2.5;
    x[2] = -2.5;
    x[3] = 3.5;
    let b = q8_0_block(&x);
    assert_eq!([b[3] as i8, b[4] as i8, b[5] as i8], [3, -3, 4]);
}

#[test]
fn q4_0_nibble_order_and_signed_scale() {
    // The largest magnitude is -8, so d = 1 and q = trunc(x + 8.5).
    let x = block(|i| match i {
        0 => -8.0,
        16 => 7.0,
        1 => 0.4,
        17 => -3.0,
        _ => 0.0,
    });
    let b = q4_0_block(&x);
    assert_eq!(f16_at(&b, 0), 1.0);
    assert_eq!(b[2], 0xF0, "x[0]=-8 → 0 (low), x[16]=7 → 15 (high)");
    assert_eq!(b[3], 0x58, "x[1]=0.4 → 8 (low), x[17]=-3 → 5 (high)");
    let mut back = [0.0; QK];
    dequantize_block(GgmlType::Q4_0, &b, &mut back);
    assert_eq!(back[0], -8.0);
    assert_eq!(back[16], 7.0);
    assert_eq!(back[1], 0.0);
    assert_eq!(back[17], -3.0);
}

#[test]
fn q4_0_positive_max_gets_a_negative_scale() {
    let x = block(|i| if i == 5 { 4.0 } else { 1.0 });
    let b = q4_0_block(&x);
    assert_eq!(f16_at(&b, 0), -0.5);
    let mut back = [0.0; QK];
    dequantize_block(GgmlType::Q4_0, &b, &mut back);
    // 4 / -0.5 + 8.5 = 0.5 → q 0 → (0-8)·(-0.5) = 4.
    assert_eq!(back[5], 4.0);
    assert_eq!(back[0], 1.0);
}

#[test]
fn q4_1_min_and_scale() {
    let x = block(|i| i as f32 * 0.5 - 3.0);
    let b = q4_1_block(&x);
    let d = f16_at(&b, 0);
    let m = f16_at(&b, 2);
    assert_eq!(m, -3.0);
    assert_eq!(d, f16::from_f32(15.5 / 15.0).to_f32());
    assert_eq!(b[4] & 0x0f, 0, "the minimum is q = 0");
    assert_eq!(b[4 + 15] >> 4, 15, "the maximum (value 31) is q = 15");
}

#[test]
fn constant_blocks_have_zero_scale_and_no_nan() {
    for ty in [GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q4_1] {
        for c in [0.0f32, 1.25] {
            let x = vec![c; QK];
            let b = quantize(ty, &x).unwrap();
            let back = dequantize(ty, &b, QK).unwrap();
            assert!(back.iter().all(|v| v.is_finite()), "{ty} {c}");
            if c == 0.0 || ty == GgmlType::Q4_1 {
                assert!(back.iter().all(|&v| v == c), "{ty} {c}: {back:?}");
            }
        }
    }
}

#[test]
fn rounding_error_is_within_half_a_step() {
    let x = wobbly(32 * 40, 1);
    for ty in [GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q4_1] {
        let b = quantize(ty, &x).unwrap();
        assert_eq!(b.len(), 40 * ty.block_bytes());
        let back = dequantize(ty, &b, x.len()).unwrap();
        for (k, (xb, yb)) in x.chunks(QK).zip(back.chunks(QK)).enumerate() {
            let d = f16_at(&b[k * ty.block_bytes()..], 0).abs();
            // Half a step from rounding, plus the f16 rounding of d (and min).
            let amax = xb.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            let bound = d * 0.5 + amax * 2e-3 + 1e-6;
            for (a, c) in xb.iter().zip(yb) {
                let err = (a - c).abs();
                // Q4_0 clamps q = 16 to 15: a value may be a whole step off.
                let bound = if ty == GgmlType::Q4_0 {
                    bound + d * 0.5
                } else {
                    bound
                };
                assert!(
                    err <= bound,
                    "{ty} block {k}: {a} → {c} (err {err}, bound {bound})"
                );
            }
        }
    }
}

#[test]
fn f16_and_f32_round_trip() {
    let x = wobbly(10, 2);
    let b = quantize(GgmlType::F32, &x).unwrap();
    assert_eq!(dequantize(GgmlType::F32, &b, 10).unwrap(), x);
    let b = quantize(GgmlType::F16, &x).unwrap();
    let back = dequantize(GgmlType::F16, &b, 10).unwrap();
    for (a, c) in x.iter().zip(&back) {
        assert_eq!(*c, f16::from_f32(*a).to_f32());
    }
}

#[test]
fn partial_blocks_and_wrong_byte_counts_are_refused() {
    let e = quantize(GgmlType::Q8_0, &[0.0; 33]).unwrap_err();
    assert!(e.to_string().contains("multiple of 32"), "{e}");
    let e = dequantize(GgmlType::Q4_1, &[0; 19], 32).unwrap_err();
    assert!(
        matches!(e, QuantError::ByteCount { expected: 20, .. }),
        "{e}"
    );
    let e = dequantize(GgmlType::Q4K, &[0; 144], 256).unwrap_err();
    assert!(e.to_string().contains("does not run Q4_K"), "{e}");
}
