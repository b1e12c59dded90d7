//! Knowledge distillation: a smaller student learns from the data and from a
//! teacher's whole next-token distribution.
//!
//! Per position, with student logits z, teacher logits u, temperature T and
//! weight α:
//!
//! ```text
//! L = α·CE(softmax(z), target) + (1 − α)·T²·KL(softmax(u/T) ‖ softmax(z/T))
//! ∂L/∂z = α·(p − onehot) + (1 − α)·T·(softmax(z/T) − softmax(u/T))
//! ```
//!
//! The T² keeps the soft term's gradient on the scale of the hard one's as T
//! grows (Hinton et al. 2015). The batch loss is the mean over positions.

use rayon::prelude::*;

/// The distillation objective's two numbers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Objective {
    /// Weight of the cross-entropy with the data (1 − α goes to the teacher).
    pub alpha: f32,
    /// Softening temperature of both distributions in the KL term.
    pub temperature: f32,
}

impl Objective {
    /// Why these numbers are refused, if they are.
    pub fn check(&self) -> Result<(), String> {
        if !(self.alpha.is_finite() && (0.0..=1.0).contains(&self.alpha)) {
            return Err(format!(
                "--alpha {} is outside [0, 1]: it is the weight of the data's cross-entropy (1 − α goes to the teacher)",
                self.alpha
            ));
        }
        if !(self.temperature.is_finite() && self.temperature > 0.0) {
            return Err(format!(
                "--temperature {} must be a positive number (1 is the plain softmax; 2 is usual)",
                self.temperature
            ));
        }
        Ok(())
    }
}

/// The batch's mean loss and its parts.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Loss {
    pub total: f64,
    pub ce: f64,
    pub kl: f64,
}

/// log softmax(x / t) of one row, in f64.
fn log_softmax(x: impl Iterator<Item = f64> + Clone, t: f64) -> Vec<f64> {
    let max = x.clone().fold(f64::NEG_INFINITY, f64::max) / t;
    let lse = max + x.clone().map(|v| (v / t - max).exp()).sum::<f64>().ln();
    x.map(|v| v / t - lse).collect()
}

/// The loss of a batch of N rows, and its gradient. `probs` holds the
/// student's softmax(z) (`[N, V]`, as the trainer's forward leaves it) and
/// is overwritten with ∂L/∂z; `teacher` holds the teacher's logits `[N, V]`.
///
/// softmax(z/T) is computed from p as softmax(ln p / T), which is the same
/// distribution (ln p = z − logsumexp z, a shift per row); a probability that
/// underflowed in f32 contributes at most e^(−87/T) there.
pub fn loss_and_logit_grads(
    probs: &mut [f32],
    teacher: &[f32],
    targets: &[u32],
    obj: Objective,
) -> Loss {
    let n = targets.len();
    assert!(n > 0, "no positions");
    let v = probs.len() / n;
    assert_eq!(teacher.len(), probs.len(), "teacher logits must be [N, V]");
    let (a, t) = (obj.alpha as f64, obj.temperature as f64);
    let parts: Vec<(f64, f64)> = probs
        .par_chunks_mut(v)
        .zip(teacher.par_chunks(v))
        .zip(targets.par_iter())
        .map(|((p, u), &tg)| {
            let ce = -(p[tg as usize].max(f32::MIN_POSITIVE) as f64).ln();
            let ls = log_softmax(p.iter().map(|&x| (x.max(f32::MIN_POSITIVE) as f64).ln()), t);
            let lt = log_softmax(u.iter().map(|&x| x as f64), t);
            let mut kl = 0.0;
            for (j, g) in p.iter_mut().enumerate() {
                let (qs, qt) = (ls[j].exp(), lt[j].exp());
                kl += qt * (lt[j] - ls[j]);
                let hard = *g as f64 - if j == tg as usize { 1.0 } else { 0.0 };
                *g = ((a * hard + (1.0 - a) * t * (qs - qt)) / n as f64) as f32;
            }
            (ce, kl)
        })
        .collect();
    let ce = parts.iter().map(|p| p.0).sum::<f64>() / n as f64;
    let kl = parts.iter().map(|p| p.1).sum::<f64>() / n as f64;
    Loss {
        total: a * ce + (1.0 - a) * t * t * kl,
        ce,
        kl,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn softmax(z: &[f32]) -> Vec<f32> {
        let ls = log_softmax(z.iter().map(|&x| x as f64), 1.0);
        ls.iter().map(|l| l.exp() as f32).collect()
    }

    /// The analytic gradient against central differences of the loss in z.
    #[test]
    fn logit_gradient_matches_finite_differences() {
        let (n, v) = (3, 7);
        let z: Vec<f32> = (0..n * v)
            .map(|i| ((i * 37 % 11) as f32 - 5.0) * 0.4)
            .collect();
        let u: Vec<f32> = (0..n * v)
            .map(|i| ((i * 13 % 7) as f32 - 3.0) * 0.7)
            .collect();
        let targets = [2u32, 0, 6];
        let obj = Objective {
            alpha: 0.3,
            temperature: 2.0,
        };
        let loss_at = |z: &[f32]| -> f64 {
            let mut p: Vec<f32> = z.chunks(v).flat_map(softmax).collect();
            loss_and_logit_grads(&mut p, &u, &targets, obj).total
        };
        let mut g: Vec<f32> = z.chunks(v).flat_map(softmax).collect();
        let l = loss_and_logit_grads(&mut g, &u, &targets, obj);
        assert!(l.kl > 0.0 && l.ce > 0.0);
        assert!((l.total - (0.3 * l.ce + 0.7 * 4.0 * l.kl)).abs() < 1e-6);
        let h = 1e-2f32;
        for i in 0..n * v {
            let (mut zp, mut zm) = (z.clone(), z.clone());
            zp[i] += h;
            zm[i] -= h;
            let fd = (loss_at(&zp) - loss_at(&zm)) / (2.0 * h as f64);
            assert!(
                (fd - g[i] as f64).abs() < 2e-4,
                "z[{i}]: analytic {} vs {fd}",
                g[i]
            );
        }
    }

    #[test]
    fn a_student_equal_to_its_teacher_has_no_kl() {
        let z: Vec<f32> = (0..10).map(|i| i as f32 * 0.3).collect();
        let mut p = softmax(&z);
        let obj = Objective {
            alpha: 0.0,
            temperature: 3.0,
        };
        let l = loss_and_logit_grads(&mut p, &z, &[4], obj);
        assert!(l.kl.abs() < 1e-7, "{}", l.kl);
        assert!(p.iter().all(|g| g.abs() < 1e-6), "{p:?}");
    }

    #[test]
    fn bad_alpha_or_temperature_is_refused() {
        for (alpha, temperature) in [
            (1.5, 2.0),
            (-0.1, 2.0),
            (f32::NAN, 2.0),
            (0.5, 0.0),
            (0.5, -1.0),
        ] {
            assert!(Objective { alpha, temperature }.check().is_err());
        }
        assert!(
            Objective {
                alpha: 1.0,
                temperature: 1.0
            }
            .check()
            .is_ok()
        );
    }
}
