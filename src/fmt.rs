//! How gptlens writes numbers and sizes, for every front end (views, lessons,
//! the CLI), so the same quantity reads the same everywhere.
//!
//! Numbers: one policy, [`number`], with two named precisions.
//! - [`Precision::Reading`] for prose and tables (lessons, the loss, cost and
//!   training views, the CLI): 4 decimals, 4 significant digits below 1,
//!   whole numbers with thousands separators, e-notation outside [10⁻³, 10⁶).
//! - [`Precision::Compact`] for the tight columns of the explorer (heatmap
//!   scales, legends, the filled-in arithmetic): 3 decimals, 1 from 100,
//!   e-notation with 3 significant digits outside [10⁻³, 10⁴); a NaN is a
//!   masked cell and infinities print as ±∞.
//!
//! Sizes: binary units everywhere (1 KiB = 1024 bytes, then MiB, GiB, TiB,
//! PiB), two decimals: [`bytes`]. Counts of things (parameters, FLOPs) use
//! [`count`] (exact, with separators), [`si`] (k, M, G in six columns) or
//! [`sig`] (significant figures in e-notation).

/// The two precisions of [`number`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Precision {
    /// Prose and tables: 4 decimals (4 significant digits below 1).
    Reading,
    /// Explorer columns: 3 decimals (1 from 100).
    Compact,
}

/// A number at the given precision (see the module doc for the policy).
pub fn number(x: f64, p: Precision) -> String {
    match p {
        Precision::Reading => reading(x),
        Precision::Compact => compact_f64(x),
    }
}

/// [`number`] at [`Precision::Reading`].
pub fn num(x: f64) -> String {
    number(x, Precision::Reading)
}

/// [`number`] at [`Precision::Compact`], for the f32 values of a trace.
pub fn compact(v: f32) -> String {
    number(v as f64, Precision::Compact)
}

fn reading(x: f64) -> String {
    let a = x.abs();
    if x == 0.0 {
        "0".into()
    } else if !x.is_finite() {
        format!("{x}")
    } else if !(1e-3..1e6).contains(&a) {
        format!("{x:.3e}")
    } else if x.fract() == 0.0 {
        count(x)
    } else if a >= 1000.0 {
        format!("{x:.1}")
    } else if a >= 100.0 {
        format!("{x:.2}")
    } else if a >= 1.0 {
        format!("{x:.4}")
    } else {
        // Four significant digits for small values, so σ² or a small P keeps its precision.
        let decimals = (3.0 - a.log10().floor()) as usize;
        format!("{x:.decimals$}")
    }
}

fn compact_f64(v: f64) -> String {
    if v.is_nan() {
        return "masked".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+∞" } else { "−∞" }.into();
    }
    let a = v.abs();
    if a != 0.0 && !(1e-3..1e4).contains(&a) {
        format!("{v:.2e}")
    } else if a >= 100.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.3}")
    }
}

/// `x` with `digits` significant digits in plain decimals (e-notation below
/// 10⁻⁴ and from 10⁶): for the operands of a formula a reader redoes, which
/// need more digits than its result so that rounding them does not move the
/// result's last digit (σ² = 0.006750, not 0.007).
pub fn sig_digits(x: f64, digits: usize) -> String {
    let digits = digits.max(1);
    if x == 0.0 {
        return "0".into();
    }
    if !x.is_finite() {
        return compact_f64(x);
    }
    let a = x.abs();
    if !(1e-4..1e6).contains(&a) {
        return format!("{:.*e}", digits - 1, x);
    }
    let magnitude = a.log10().floor() as i32;
    let decimals = (digits as i32 - 1 - magnitude).max(0) as usize;
    let s = format!("{x:.decimals$}");
    // Rounding can carry into a new digit (9.99996 → "10.0000"): one decimal less.
    let carried = s
        .parse::<f64>()
        .is_ok_and(|r| r.abs() >= 10f64.powi(magnitude + 1));
    if decimals > 0 && carried {
        format!("{x:.*}", decimals - 1)
    } else {
        s
    }
}

/// A whole number with thousands separators.
pub fn count(n: f64) -> String {
    let s = format!("{:.0}", n.abs());
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0.0 { format!("-{out}") } else { out }
}

/// Bytes in binary units: "512 bytes", "1.50 KiB", "2.55 TiB".
pub fn bytes(b: f64) -> String {
    let units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = b;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < units.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{} bytes", count(b))
    } else {
        format!("{v:.2} {}", units[u])
    }
}

/// `[a, b, c, …]`: the first `n` values at reading precision, … when there are more.
pub fn list(xs: impl IntoIterator<Item = f32>, n: usize) -> String {
    let all: Vec<f32> = xs.into_iter().collect();
    let mut s: Vec<String> = all.iter().take(n).map(|&x| num(x as f64)).collect();
    if all.len() > n {
        s.push("…".into());
    }
    format!("[{}]", s.join(", "))
}

/// A count in at most 6 columns with an SI suffix (k, M, G, …), for tables;
/// exact counts are printed with [`count`] where there is room.
pub fn si(x: f64) -> String {
    const UNITS: [&str; 7] = ["", "k", "M", "G", "T", "P", "E"];
    if !x.is_finite() {
        return format!("{x}");
    }
    if x.abs() < 1000.0 {
        return format!("{x:.0}");
    }
    let mut v = x;
    let mut u = 0;
    while v.abs() >= 999.5 && u + 1 < UNITS.len() {
        v /= 1000.0;
        u += 1;
    }
    let digits = if v.abs() >= 99.95 {
        0
    } else if v.abs() >= 9.995 {
        1
    } else {
        2
    };
    format!("{v:.digits$}{}", UNITS[u])
}

/// A share as a percentage with one decimal ("19.6%").
pub fn percent(share: f64) -> String {
    format!("{:.1}%", 100.0 * share)
}

/// `x` to `digits` significant figures in e-notation, e.g. sig(3.14e23, 2) = "3.1e23".
pub fn sig(x: f64, digits: usize) -> String {
    let s = format!("{:.*e}", digits.saturating_sub(1), x);
    s.replace("e+", "e")
}

/// Seconds in words a reader can picture, from seconds to billions of years.
pub fn human_duration(seconds: f64) -> String {
    const MIN: f64 = 60.0;
    const HOUR: f64 = 3600.0;
    const DAY: f64 = 86400.0;
    const YEAR: f64 = 365.25 * DAY;
    let s = seconds;
    if !s.is_finite() {
        return "forever".into();
    }
    if s < MIN {
        format!("{s:.1} seconds")
    } else if s < HOUR {
        format!("{:.1} minutes", s / MIN)
    } else if s < DAY {
        format!("{:.1} hours", s / HOUR)
    } else if s < YEAR {
        format!("{:.1} days", s / DAY)
    } else if s < 1e3 * YEAR {
        format!("{:.1} years", s / YEAR)
    } else if s < 1e6 * YEAR {
        format!("{:.1} thousand years", s / YEAR / 1e3)
    } else if s < 1e9 * YEAR {
        format!("{:.1} million years", s / YEAR / 1e6)
    } else {
        format!("{:.1} billion years", s / YEAR / 1e9)
    }
}

/// [`human_duration`] in `lang`: the same rounding, the units in Chinese
/// for a Chinese lesson ("3.2 小时").
pub fn human_duration_in(seconds: f64, lang: crate::i18n::Lang) -> String {
    if lang == crate::i18n::Lang::En {
        return human_duration(seconds);
    }
    const MIN: f64 = 60.0;
    const HOUR: f64 = 3600.0;
    const DAY: f64 = 86400.0;
    const YEAR: f64 = 365.25 * DAY;
    let s = seconds;
    if !s.is_finite() {
        return "永远".into();
    }
    let (v, unit) = if s < MIN {
        (s, "秒")
    } else if s < HOUR {
        (s / MIN, "分钟")
    } else if s < DAY {
        (s / HOUR, "小时")
    } else if s < YEAR {
        (s / DAY, "天")
    } else if s < 1e3 * YEAR {
        (s / YEAR, "年")
    } else if s < 1e6 * YEAR {
        (s / YEAR / 1e3, "千年")
    } else if s < 1e9 * YEAR {
        (s / YEAR / 1e6, "百万年")
    } else {
        (s / YEAR / 1e9, "十亿年")
    };
    format!("{v:.1} {unit}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_two_precisions() {
        assert_eq!(num(0.0), "0");
        assert_eq!(num(1234.0), "1,234");
        assert_eq!(num(2.5), "2.5000");
        assert_eq!(num(0.012345), "0.01235");
        assert_eq!(num(123.456), "123.46");
        assert_eq!(num(2e7), "2.000e7");
        assert_eq!(compact(0.0), "0.000");
        assert_eq!(compact(2.5), "2.500");
        assert_eq!(compact(123.26), "123.3");
        assert_eq!(compact(12345.0), "1.23e4");
        assert_eq!(compact(f32::NAN), "masked");
        assert_eq!(compact(f32::NEG_INFINITY), "−∞");
        assert_eq!(number(2.5, Precision::Compact), compact(2.5));
        assert_eq!(sig_digits(0.00675012, 4), "0.006750");
        assert_eq!(sig_digits(-0.0047312, 5), "-0.0047312");
        assert_eq!(sig_digits(12.34567, 4), "12.35");
        assert_eq!(sig_digits(9.99996, 5), "10.000");
        assert_eq!(sig_digits(0.0, 4), "0");
        assert_eq!(sig_digits(1.5e-6, 3), "1.50e-6");
    }

    /// The unit policy: binary units (the cost view's and the CLI's sizes agree).
    #[test]
    fn bytes_are_binary() {
        assert_eq!(bytes(512.0), "512 bytes");
        assert_eq!(bytes(1536.0), "1.50 KiB");
        assert_eq!(bytes(2.8e12), "2.55 TiB");
        assert_eq!(bytes(350e9), "325.96 GiB");
    }

    #[test]
    fn counts_and_lists() {
        assert_eq!(count(-1234567.0), "-1,234,567");
        assert_eq!(list([1.0, 0.5, 2.0], 2), "[1, 0.5000, …]");
        assert_eq!(si(124_439_808.0), "124M");
        assert_eq!(percent(0.196), "19.6%");
        assert_eq!(sig(3.14e23, 2), "3.1e23");
        assert_eq!(human_duration(90.0), "1.5 minutes");
    }
}
